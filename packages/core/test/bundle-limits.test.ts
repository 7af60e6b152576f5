import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  DEFAULT_MAX_BUNDLE_BYTES,
  KeySigner,
  KeyVerifier,
  ManifestMismatchError,
  PAYLOAD_TYPE,
  rootDigest,
  signModel,
  verifyModel,
  signPayload,
} from '../dist/index.js';
import { parseBundle, verifyBundle } from '../dist/internal.js';
import { readBundle } from '../dist/internal-node.js';
import { cleanupTempDirs, ecKeyPair, expectCode, tempDir, writeTree } from './helpers.js';

// What an unsigned signature file can make us do before its signature is
// checked: only regular files are read, and only up to a bound; decoding is
// linear; and the statement's shape is refused when it signs nothing or names
// a file twice.

afterEach(cleanupTempDirs);

const keys = ecKeyPair();
const signer = () => KeySigner.create({ privateKey: keys.privateKey });
const verifier = () => KeyVerifier.create({ publicKey: keys.publicKey });

async function signedModel() {
  const dir = await tempDir();
  await writeTree(dir, { 'weights.bin': 'weights', 'config.json': '{}' });
  const signaturePath = path.join(await tempDir(), 'model.sig');
  await signModel({ modelPath: dir, signaturePath, signer: await signer() });
  return { dir, signaturePath };
}

/** A bundle signing `statement` as given, JSON text. */
async function bundleFor(statement: unknown): Promise<string> {
  return JSON.stringify(
    await signPayload({ signer: await signer(), payload: Buffer.from(JSON.stringify(statement)), payloadType: PAYLOAD_TYPE }),
  );
}

function statement(resources: { name: string; algorithm: string; digest: string }[], method = 'files') {
  return {
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ name: 'm', digest: { sha256: rootDigest(resources) } }],
    predicateType: 'https://model_signing/signature/v1.0',
    predicate: {
      serialization: { method, hash_type: 'sha256', allow_symlinks: false, ...(method === 'shards' ? { shard_size: 4 } : {}) },
      resources,
    },
  };
}

describe('reading the signature file', () => {
  it('refuses a FIFO at once instead of waiting for a writer', async () => {
    const { dir } = await signedModel();
    const fifo = path.join(dir, 'model.sig');
    execFileSync('mkfifo', [fifo]);
    const started = Date.now();
    await expectCode(readBundle(fifo), 'SPECIAL_FILE');
    const err = await expectCode(verifyModel({ modelPath: dir, signaturePath: fifo, verifier: await verifier() }), 'SPECIAL_FILE');
    expect(err.message).toMatch(/not a regular file/);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('refuses a link to /dev/zero and a directory', async () => {
    const dir = await tempDir();
    await fs.symlink('/dev/zero', path.join(dir, 'zero.sig'));
    await expectCode(readBundle(path.join(dir, 'zero.sig')), 'SPECIAL_FILE');
    await expectCode(readBundle(dir), 'SPECIAL_FILE');
    await expectCode(readBundle(path.join(dir, 'absent.sig')), 'NOT_FOUND');
  });

  it('refuses a file over the limit without reading it, names the option, and reads it once raised', async () => {
    const { dir, signaturePath } = await signedModel();
    const size = (await fs.stat(signaturePath)).size;
    const err = await expectCode(
      verifyModel({ modelPath: dir, signaturePath, verifier: await verifier(), maxBundleBytes: size - 1 }),
      'BUNDLE_TOO_LARGE',
    );
    expect(err.message).toContain('the maxBundleBytes option');
    expect(err.message).toContain(String(size));
    await verifyModel({ modelPath: dir, signaturePath, verifier: await verifier(), maxBundleBytes: size });
    const text = await fs.readFile(signaturePath, 'utf8');
    expect(() => parseBundle(text, { maxBundleBytes: size - 1 })).toThrow(expect.objectContaining({ code: 'BUNDLE_TOO_LARGE' }));
    await expectCode(verifyBundle({ bundle: Buffer.from(text), verifier: await verifier(), maxBundleBytes: size - 1 }), 'BUNDLE_TOO_LARGE');
    for (const bad of [0, -1, 1.5, Number.NaN]) await expectCode(readBundle(signaturePath, { maxBundleBytes: bad }), 'INVALID_ARGUMENT');
  });

  it('refuses, with a raised limit, a file longer than the runtime can decode, before allocating it', async () => {
    const { constants } = await import('node:buffer');
    const sparse = path.join(await tempDir(), 'huge.sig');
    await fs.writeFile(sparse, '');
    await fs.truncate(sparse, constants.MAX_STRING_LENGTH + 1); // sparse: no disk space used
    const err = await expectCode(readBundle(sparse, { maxBundleBytes: 2 ** 40 }), 'BUNDLE_TOO_LARGE');
    expect(err.message).toMatch(/too large to decode/);
  });

  it('refuses a bundle that is not UTF-8', async () => {
    const { signaturePath } = await signedModel();
    const bytes = await fs.readFile(signaturePath);
    await fs.writeFile(signaturePath, Buffer.concat([bytes.subarray(0, 10), Buffer.from([0xff, 0xfe]), bytes.subarray(10)]));
    const err = await expectCode(readBundle(signaturePath), 'BAD_BUNDLE');
    expect(err.message).toMatch(/UTF-8/);
  });
});

describe('an unsigned bundle with a large payload', () => {
  it('fails the signature in linear time and memory, through the v0.2 compatibility path too', async () => {
    const { signaturePath } = await signedModel();
    const bundle = JSON.parse(await fs.readFile(signaturePath, 'utf8'));
    // 30 MB of bytes that Python's repr escapes (4 output bytes each), within the
    // default limit: the old per-byte string took 2 GB here and crashed at 100 MB.
    bundle.dsseEnvelope.payload = Buffer.alloc(30 * 1000 * 1000, 0x01).toString('base64');
    const text = JSON.stringify(bundle);
    expect(text.length).toBeLessThan(DEFAULT_MAX_BUNDLE_BYTES);
    const heapBefore = process.memoryUsage().rss;
    const started = Date.now();
    await expectCode(verifyBundle({ bundle: text, verifier: await verifier() }), 'SIGNATURE_INVALID');
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(process.memoryUsage().rss - heapBefore).toBeLessThan(1024 * 1024 * 1024);
    expect(DEFAULT_MAX_BUNDLE_BYTES).toBe(64 * 1024 * 1024);
  });
});

describe('statement shapes refused after the signature', () => {
  it('an empty manifest (what the reference writes for an empty directory) is EMPTY_MANIFEST, with or without --ignore-unsigned-files', async () => {
    const dir = await tempDir();
    await writeTree(dir, { 'anything.bin': 'not covered' });
    const signaturePath = path.join(await tempDir(), 'model.sig');
    await fs.writeFile(signaturePath, await bundleFor(statement([])));
    for (const ignoreUnsignedFiles of [false, true]) {
      const err = await expectCode(
        verifyModel({ modelPath: dir, signaturePath, verifier: await verifier(), ignoreUnsignedFiles }),
        'EMPTY_MANIFEST',
      );
      expect(err.message).toMatch(/lists no file/);
    }
    const v01 = {
      _type: 'https://in-toto.io/Statement/v1',
      subject: [],
      predicateType: 'https://model_signing/Digests/v0.1',
      predicate: {},
    };
    await expectCode(verifyBundle({ bundle: await bundleFor(v01), verifier: await verifier() }), 'EMPTY_MANIFEST');
  });

  it('a signed payload that is not UTF-8 is BAD_PAYLOAD, not silently repaired', async () => {
    const text = Buffer.from(JSON.stringify(statement([{ name: 'a\u00e9.bin', algorithm: 'sha256', digest: 'aa' }])));
    const latin1 = Buffer.from(text.toString('utf8'), 'latin1'); // é as the single byte 0xe9
    const bundle = JSON.stringify(await signPayload({ signer: await signer(), payload: latin1, payloadType: PAYLOAD_TYPE }));
    const err = await expectCode(verifyBundle({ bundle, verifier: await verifier() }), 'BAD_PAYLOAD');
    expect(err.message).toMatch(/UTF-8/);
  });

  it('a name listed twice in the v0.1 predicate is BAD_PAYLOAD', async () => {
    const subject = [
      { name: 'a.bin', digest: { sha256: 'aa' } },
      { name: './a.bin', digest: { sha256: 'bb' } },
    ];
    const v01 = { _type: 'https://in-toto.io/Statement/v1', subject, predicateType: 'https://model_signing/Digests/v0.1', predicate: {} };
    const err = await expectCode(verifyBundle({ bundle: await bundleFor(v01), verifier: await verifier() }), 'BAD_PAYLOAD');
    expect(err.message).toMatch(/listed twice/);
  });

  for (const method of ['files', 'shards'] as const) {
    it(`a single file named both '.' and by its basename is BAD_PAYLOAD (${method})`, async () => {
      const dir = await tempDir();
      await writeTree(dir, { 'model.onnx': 'abc' });
      const file = path.join(dir, 'model.onnx');
      const good = (await import('node:crypto')).createHash('sha256').update('abc').digest('hex');
      const algorithm = method === 'files' ? 'sha256' : 'sha256-sharded-4';
      const [dot, base] = method === 'files' ? ['.', 'model.onnx'] : ['.:0:3', 'model.onnx:0:3'];
      const signaturePath = path.join(await tempDir(), 'model.sig');
      // Either form alone verifies; both at once would let the second digest win.
      for (const name of [dot, base]) {
        await fs.writeFile(signaturePath, await bundleFor(statement([{ name, algorithm, digest: good }], method)));
        await verifyModel({ modelPath: file, signaturePath, verifier: await verifier() });
      }
      await fs.writeFile(
        signaturePath,
        await bundleFor(
          statement(
            [
              { name: dot, algorithm, digest: '00'.repeat(32) },
              { name: base, algorithm, digest: good },
            ],
            method,
          ),
        ),
      );
      const err = await expectCode(verifyModel({ modelPath: file, signaturePath, verifier: await verifier() }), 'BAD_PAYLOAD');
      expect(err.message).toMatch(/listed twice/);
    });
  }
});

describe('mismatch messages', () => {
  it('name the first ten of each kind and count the rest; differences keep them all', () => {
    const differences = Array.from({ length: 100_000 }, (_, i) => ({
      kind: 'missing' as const,
      name: `shard-${String(i).padStart(6, '0')}.bin`,
    }));
    differences.push({ kind: 'unsigned' as never, name: 'extra.bin' });
    const err = new ManifestMismatchError(differences);
    expect(err.code).toBe('MISSING_FILE');
    expect(err.message).toContain('missing: shard-000000.bin, shard-000001.bin');
    expect(err.message).toContain('shard-000009.bin and 99990 more');
    expect(err.message).not.toContain('shard-000010.bin');
    expect(err.message).toContain('not covered by the signature: extra.bin (');
    expect(err.message.length).toBeLessThan(1000);
    expect(err.differences).toHaveLength(100_001);
  });
});
