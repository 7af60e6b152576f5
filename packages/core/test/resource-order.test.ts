import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { KeySigner, KeyVerifier, PAYLOAD_TYPE, signModel, verifyModel, signPayload } from '../dist/index.js';
import { compareResourceNames, sortResources } from '../dist/internal.js';
import { assertCodePointOrder } from '../../../test-fixtures/order.mjs';
import { cleanupTempDirs, ecKeyPair, tempDir, writeTree } from './helpers.js';

// OMS signs resources in code-point order of their names (spec §5.2.1); the Go
// port refuses anything else and the reference verifies it. These are the
// cases where that order differs from the reference's own (path components,
// then numeric shard offsets) or from JavaScript's UTF-16 sort.

afterEach(cleanupTempDirs);

const byUtf8 = (a: string, b: string) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

describe('compareResourceNames', () => {
  it('orders by code point, as UTF-8 bytes do, not by UTF-16 units', () => {
    // U+FB00 sorts after U+1F600's high surrogate in UTF-16 but before it by code point.
    const names = [
      '😀.txt',
      'ﬀ.txt',
      'a/x',
      'a b',
      'a-c.txt',
      'a',
      'tokenizer/vocab.txt',
      'tokenizer.json',
      'Z',
      'é',
      '\u007f',
      'big.bin:500:1000',
      'big.bin:1000:1500',
    ];
    const expected = [...names].sort(byUtf8);
    expect([...names].sort(compareResourceNames)).toEqual(expected);
    expect([...names].sort()).not.toEqual(expected); // the default sort would be wrong here
    for (const a of names) for (const b of names) expect(Math.sign(compareResourceNames(a, b))).toBe(Math.sign(byUtf8(a, b)));
  });

  it('sortResources returns a new, ordered array', () => {
    const resources = ['b', 'a/x', 'a b'].map((name) => ({ name, algorithm: 'sha256', digest: '00' }));
    expect(sortResources(resources).map((r) => r.name)).toEqual(['a b', 'a/x', 'b']);
    expect(resources.map((r) => r.name)).toEqual(['b', 'a/x', 'a b']);
  });
});

describe('signModel emits code-point order', () => {
  const keys = ecKeyPair();
  const files = {
    'tokenizer.json': '{}',
    'tokenizer/vocab.txt': 'vocab',
    'a b': 'space',
    'a-c.txt': 'dash',
    'a/x': 'folder',
    'ﬀ.txt': 'BMP above surrogates',
    '😀.txt': 'astral',
  };

  it('for files: a folder beside a same-prefix file, spaces and dashes, astral characters', async () => {
    const dir = await tempDir();
    await writeTree(dir, files);
    const signaturePath = path.join(await tempDir(), 'model.sig');
    const { manifest } = await signModel({
      modelPath: dir,
      signaturePath,
      signer: await KeySigner.create({ privateKey: keys.privateKey }),
    });
    expect(assertCodePointOrder(signaturePath)).toEqual([
      'a b',
      'a-c.txt',
      'a/x',
      'tokenizer.json',
      'tokenizer/vocab.txt',
      'ﬀ.txt',
      '😀.txt',
    ]);
    // The returned manifest is the emitted one, so its root digest is the subject.
    expect(manifest.resources.map((r) => r.name)).toEqual(assertCodePointOrder(signaturePath));
    await verifyModel({ modelPath: dir, signaturePath, verifier: await KeyVerifier.create({ publicKey: keys.publicKey }) });
  });

  it('for shards: offsets with different digit counts sort as text', async () => {
    const dir = await tempDir();
    await writeTree(dir, { 'big.bin': 'x'.repeat(12), 'big.bin.txt': 'y' });
    const signaturePath = path.join(await tempDir(), 'model.sig');
    await signModel({
      modelPath: dir,
      signaturePath,
      method: 'shards',
      shardSize: 1,
      signer: await KeySigner.create({ privateKey: keys.privateKey }),
    });
    const names = assertCodePointOrder(signaturePath);
    expect(names.slice(0, 5)).toEqual(['big.bin.txt:0:1', 'big.bin:0:1', 'big.bin:10:11', 'big.bin:11:12', 'big.bin:1:2']);
    expect(names).toHaveLength(13);
    await verifyModel({ modelPath: dir, signaturePath, verifier: await KeyVerifier.create({ publicKey: keys.publicKey }) });
  });

  it('still verifies a payload in another order (the reference 1.1.1 order), its root taken over that order', async () => {
    const dir = await tempDir();
    await writeTree(dir, files);
    const signaturePath = path.join(await tempDir(), 'model.sig');
    const signer = await KeySigner.create({ privateKey: keys.privateKey });
    await signModel({ modelPath: dir, signaturePath, signer });
    const bundle = JSON.parse(await fs.readFile(signaturePath, 'utf8'));
    const statement = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString('utf8'));
    const resources = statement.predicate.resources as { name: string; digest: string }[];
    resources.reverse();
    const root = createHash('sha256');
    for (const r of resources) root.update(Buffer.from(r.digest, 'hex'));
    statement.subject[0].digest.sha256 = root.digest('hex');
    await fs.writeFile(
      signaturePath,
      JSON.stringify(await signPayload({ signer, payload: Buffer.from(JSON.stringify(statement)), payloadType: PAYLOAD_TYPE })),
    );
    expect(() => assertCodePointOrder(signaturePath)).toThrow(/not in code-point order/);
    const result = await verifyModel({ modelPath: dir, signaturePath, verifier: await KeyVerifier.create({ publicKey: keys.publicKey }) });
    expect(result.manifest.resources.map((r) => r.name)).toEqual(resources.map((r) => r.name));
  });
});
