import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  DEFAULT_MAX_BUNDLE_BYTES,
  KeySigner,
  KeyVerifier,
  ModelSigningError,
  signModel,
  verifyModel,
  type ManifestResource,
} from '../dist/index.js';
import { signatureLimit } from '../dist/session/limits.js';
import { cleanupTempDirs, ecKeyPair, expectCode, tempDir } from './helpers.js';

// Datasets are directories of very many files (issue 25, "Bad input"). Each
// case runs with bounded time, and where memory is the claim, in a child
// process whose JavaScript heap is capped: running out of it would crash
// the child, so passing proves the bound.

afterEach(cleanupTempDirs);

const DIST = path.resolve(import.meta.dirname, '../dist/index.js');
const INTERNAL = path.resolve(import.meta.dirname, '../dist/internal.js');
const INTERNAL_NODE = path.resolve(import.meta.dirname, '../dist/internal-node.js');
const sha256 = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex');

/**
 * Runs an ES module script against core's build with the heap capped at
 * `heapMB` (the hashing threads inherit the cap); returns what it printed last, as JSON.
 */
async function runBounded(script: string, heapMB: number, timeoutMs = 240_000): Promise<Record<string, unknown>> {
  const file = path.join(await tempDir('oms-script-'), 'script.mjs');
  fs.writeFileSync(file, script);
  const result = spawnSync(process.execPath, [`--max-old-space-size=${heapMB}`, file], {
    encoding: 'utf8',
    timeout: timeoutMs,
    maxBuffer: 16 * 1024 * 1024,
  });
  expect(result.status, `${result.stderr}\n${result.signal ?? ''}`).toBe(0);
  return JSON.parse(result.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
}

/** Creates `count` files named by `name(i)` in `dir` with `content(i)`. */
function writeMany(dir: string, count: number, name: (i: number) => string, content: (i: number) => string = () => ''): void {
  for (let i = 0; i < count; i++) fs.writeFileSync(path.join(dir, name(i)), content(i));
}

/**
 * A million files take minutes to create, sign and verify: run with
 * OMS_MILLION_FILES=1 (the benchmark's dataset-tree covers a million
 * non-empty files on every full run).
 */
const MILLION = process.env['OMS_MILLION_FILES'] === '1';

describe.runIf(MILLION)('a million empty files in 1,000 folders (OMS_MILLION_FILES=1)', () => {
  it('signs and verifies, every file listed once with the empty digest, within a 1.5 GB heap, with no option', async () => {
    const dir = await tempDir('oms-million-');
    for (let d = 0; d < 1000; d++) {
      const folder = path.join(dir, `d${String(d).padStart(4, '0')}`);
      fs.mkdirSync(folder);
      writeMany(folder, 1000, (i) => `${String(i).padStart(4, '0')}.jpg`);
    }
    const out = await tempDir('oms-million-sig-');
    const { privateKey, publicKey } = ecKeyPair();
    const outcome = await runBounded(
      `
      import * as core from ${JSON.stringify(DIST)};
      const signer = await core.KeySigner.create({ privateKey: ${JSON.stringify(privateKey)} });
      const signaturePath = ${JSON.stringify(path.join(out, 'model.sig'))};
      const cacheDir = ${JSON.stringify(path.join(out, 'cache'))};
      const signed = await core.signModel({ modelPath: ${JSON.stringify(dir)}, signaturePath, signer, cacheDir });
      const r = signed.manifest.resources;
      const digests = [...new Set(r.map((x) => x.digest))];
      const count = r.length;
      const verifier = await core.KeyVerifier.create({ publicKey: ${JSON.stringify(publicKey)} });
      const verified = await core.verifyModel({ modelPath: ${JSON.stringify(dir)}, signaturePath, verifier, cacheDir });
      console.log(JSON.stringify({ count, digests, verifiedFiles: verified.files.length }));
    `,
      1536,
      1_800_000,
    );
    expect(outcome).toEqual({ count: 1_000_000, digests: [sha256('')], verifiedFiles: 1_000_000 });
  }, 1_800_000);
});

describe('a folder of 100,000 empty files (the million-file case is in the benchmark)', () => {
  it('signs and verifies with every file listed in order, within a 256 MB heap (sign, then verify, in one process)', async () => {
    const dir = await tempDir('oms-empty-');
    const count = 100_000;
    const name = (i: number) => `${String(i).padStart(6, '0')}.jpg`;
    writeMany(dir, count, name);
    const out = await tempDir('oms-empty-sig-');
    const { privateKey, publicKey } = ecKeyPair();
    const outcome = await runBounded(
      `
      import * as core from ${JSON.stringify(DIST)};
      import { compareResourceNames } from ${JSON.stringify(INTERNAL)};
      const started = performance.now();
      const signer = await core.KeySigner.create({ privateKey: ${JSON.stringify(privateKey)} });
      const signed = await core.signModel({ modelPath: ${JSON.stringify(dir)}, signaturePath: ${JSON.stringify(path.join(out, 'model.sig'))}, signer, cacheDir: ${JSON.stringify(path.join(out, 'cache'))} });
      const verifier = await core.KeyVerifier.create({ publicKey: ${JSON.stringify(publicKey)} });
      const verified = await core.verifyModel({ modelPath: ${JSON.stringify(dir)}, signaturePath: ${JSON.stringify(path.join(out, 'model.sig'))}, verifier, cacheDir: ${JSON.stringify(path.join(out, 'cache'))} });
      const r = signed.manifest.resources;
      console.log(JSON.stringify({
        resources: r.length, first: r[0].name, last: r[r.length - 1].name,
        ordered: r.every((x, i) => i === 0 || compareResourceNames(r[i - 1].name, x.name) < 0),
        digests: [...new Set(r.map((x) => x.digest))],
        verifiedFiles: verified.files.length, seconds: (performance.now() - started) / 1000,
      }));
    `,
      256,
    );
    expect(outcome).toMatchObject({
      resources: count,
      first: name(0),
      last: name(count - 1),
      ordered: true,
      digests: [sha256('')],
      verifiedFiles: count,
    });
  }, 300_000);
});

describe('names of 255 bytes, the longest a file system allows', () => {
  it('sign and verify with exact names, in ASCII, 2-, 3- and 4-byte UTF-8, nested', async () => {
    const dir = await tempDir('oms-long-');
    const names = ['a'.repeat(255), 'é'.repeat(127) + 'a', '€'.repeat(85), '😀'.repeat(63) + 'abc'];
    for (const n of names) expect(Buffer.byteLength(n)).toBe(255);
    // Three 255-byte folders deep (a 767-byte path), each name as a file there; two more at the root.
    const nested = names.slice(0, 3).join('/');
    fs.mkdirSync(path.join(dir, nested), { recursive: true });
    for (const n of names) fs.writeFileSync(path.join(dir, nested, n), n);
    const atRoot = [names[3], 'b'.repeat(255)];
    for (const n of atRoot) fs.writeFileSync(path.join(dir, n), 'root');
    const keys = ecKeyPair();
    const signaturePath = path.join(await tempDir(), 'model.sig');
    const cacheDir = await tempDir();
    const signed = await signModel({
      modelPath: dir,
      signaturePath,
      signer: await KeySigner.create({ privateKey: keys.privateKey }),
      cacheDir,
    });
    const expected = [...atRoot, ...names.map((n) => `${nested}/${n}`)].sort();
    expect(signed.manifest.resources.map((r) => r.name).sort()).toEqual(expected);
    const verifier = await KeyVerifier.create({ publicKey: keys.publicKey });
    const verified = await verifyModel({ modelPath: dir, signaturePath, verifier, cacheDir });
    expect(verified.files.length).toBe(expected.length);
    // A change under the longest path is found and named.
    const deepest = path.join(dir, nested, names[3]);
    fs.writeFileSync(deepest, 'changed');
    const err = await expectCode(verifyModel({ modelPath: dir, signaturePath, verifier, cacheDir }), 'DIGEST_MISMATCH');
    expect(err.differences.map((d) => d.name)).toEqual([`${nested}/${names[3]}`]);
  });
});

describe('a folder that grows while it is signed', () => {
  it('the signature lists exactly the files walked and hashed; the new ones are unsigned', async () => {
    const dir = await tempDir('oms-grow-');
    writeMany(
      dir,
      500,
      (i) => `f${String(i).padStart(4, '0')}.bin`,
      (i) => `content ${i}`.repeat(i % 50),
    );
    const keys = ecKeyPair();
    const signaturePath = path.join(await tempDir(), 'model.sig');
    const cacheDir = await tempDir();
    let added = 0;
    const signed = await signModel({
      modelPath: dir,
      signaturePath,
      signer: await KeySigner.create({ privateKey: keys.privateKey }),
      cacheDir,
      workers: 1,
      // While hashing (the walk is over), new files and a new folder appear.
      onProgress: () => {
        if (added > 0) return;
        fs.mkdirSync(path.join(dir, 'late'));
        for (; added < 20; added++) fs.writeFileSync(path.join(dir, added % 2 ? `late/n${added}` : `n${added}.bin`), 'new');
      },
    });
    expect(added).toBe(20);
    const listed = signed.manifest.resources;
    expect(listed.length).toBe(500);
    for (const r of listed) expect(r.digest).toBe(sha256(fs.readFileSync(path.join(dir, r.name))));
    const verifier = await KeyVerifier.create({ publicKey: keys.publicKey });
    const err = await expectCode(verifyModel({ modelPath: dir, signaturePath, verifier, cacheDir }), 'UNSIGNED_FILE');
    expect(err.differences.length).toBe(20);
    expect((await verifyModel({ modelPath: dir, signaturePath, verifier, cacheDir, ignoreUnsignedFiles: true })).files.length).toBe(500);
  });

  it('while another process keeps adding files: either a signature of files each hashed as listed, or a typed error', async () => {
    const dir = await tempDir('oms-grow-race-');
    for (let d = 0; d < 10; d++) {
      fs.mkdirSync(path.join(dir, `d${d}`));
      writeMany(
        path.join(dir, `d${d}`),
        300,
        (i) => `f${i}`,
        (i) => `${d}/${i}`,
      );
    }
    // Adds files (content = their name) in every folder until killed.
    const writer = spawn(process.execPath, [
      '-e',
      `const fs = require('fs'); let i = 0; for (;;) { for (let d = 0; d < 10; d++) fs.writeFileSync(${JSON.stringify(dir)} + '/d' + d + '/new' + i, 'd' + d + '/new' + i); i++; }`,
    ]);
    try {
      const keys = ecKeyPair();
      for (let run = 0; run < 3; run++) {
        const outcome = await signModel({
          modelPath: dir,
          signaturePath: path.join(await tempDir(), 'model.sig'),
          signer: await KeySigner.create({ privateKey: keys.privateKey }),
          cacheDir: await tempDir(),
        }).then(
          (r) => r.manifest.resources,
          (e: unknown) => e,
        );
        if (outcome instanceof Error) {
          expect(outcome).toBeInstanceOf(ModelSigningError);
          continue;
        }
        const resources = outcome as ManifestResource[];
        expect(resources.length).toBeGreaterThanOrEqual(3000);
        // Files are only added, never changed: every listed digest is the digest of that file's bytes.
        for (const r of resources) {
          const [folder, file] = r.name.split('/');
          const original = /^f\d+$/.test(file) ? `${folder.slice(1)}/${file.slice(1)}` : r.name;
          expect(r.digest, r.name).toBe(sha256(original));
        }
      }
    } finally {
      writer.kill();
    }
  }, 120_000);
});

describe('a signature of a million resources against a model of ten files', () => {
  it('is refused from its size before a byte is read, by default, within a 48 MB heap; with the limit raised, MISSING_FILE in a line, within 768 MB', async () => {
    const model = await tempDir('oms-big-sig-model-');
    const out = await tempDir('oms-big-sig-');
    const signaturePath = path.join(out, 'model.sig');
    const cacheDir = path.join(out, 'cache');
    const { privateKey, publicKey } = ecKeyPair();
    const verifyScript = (options: string) => `
      import * as core from ${JSON.stringify(DIST)};
      const verifier = await core.KeyVerifier.create({ publicKey: ${JSON.stringify(publicKey)} });
      const started = performance.now();
      try {
        await core.verifyModel({ modelPath: ${JSON.stringify(model)}, signaturePath: ${JSON.stringify(signaturePath)}, verifier, cacheDir: ${JSON.stringify(cacheDir)}, ${options} });
        console.log(JSON.stringify({ ok: true }));
      } catch (e) {
        console.log(JSON.stringify({ code: e.code, message: e.message, differences: e.differences?.length, seconds: (performance.now() - started) / 1000 }));
      }
    `;
    const written = await runBounded(
      `
      import fs from 'node:fs';
      import path from 'node:path';
      import { createHash } from 'node:crypto';
      import * as core from ${JSON.stringify(DIST)};
      import { signManifest, writeSignature } from ${JSON.stringify(INTERNAL_NODE)};
      const model = ${JSON.stringify(model)};
      const digest = (s) => createHash('sha256').update(s).digest('hex');
      const name = (i) => 'shard-' + String(i).padStart(7, '0') + '.jpg';
      for (let i = 0; i < 10; i++) fs.writeFileSync(path.join(model, name(i)), name(i));
      const resources = Array.from({ length: 1_000_000 }, (_, i) => ({ name: name(i), algorithm: 'sha256', digest: digest(name(i)) }));
      const manifest = { modelName: 'model', serialization: { method: 'files', hashType: 'sha256', allowSymlinks: false, ignorePaths: [] }, resources };
      const signer = await core.KeySigner.create({ privateKey: ${JSON.stringify(privateKey)} });
      await writeSignature(${JSON.stringify(signaturePath)}, await signManifest({ manifest, signer }));
      console.log(JSON.stringify({ size: fs.statSync(${JSON.stringify(signaturePath)}).size }));
    `,
      768,
    );
    expect(written['size']).toBeGreaterThan(200_000_000);
    // The limit follows the ten files present (64 MiB and 10 KiB): a 48 MB heap would not hold the file, let alone its parse.
    const byDefault = (await runBounded(verifyScript(''), 48)) as { code: string; message: string; seconds: number };
    expect(byDefault.code).toBe('BUNDLE_TOO_LARGE');
    expect(byDefault.message).toContain(String(written['size']));
    expect(byDefault.message).toContain(String(64 * 1024 * 1024 + 10 * 1024));
    // Refused from the file's size, before reading it: far under a second but on a loaded machine.
    expect(byDefault.seconds).toBeLessThan(5);
    const raised = (await runBounded(verifyScript('maxBundleBytes: 512 * 1024 * 1024'), 768)) as {
      code: string;
      message: string;
      differences: number;
    };
    expect(raised.code).toBe('MISSING_FILE');
    expect(raised.differences).toBe(999_990);
    expect(raised.message.length).toBeLessThan(1000);
  }, 300_000);
});

describe('a genuine signature larger than 64 MiB', () => {
  it('verifies without any option, its limit following the files present (80,000 files of 600-byte paths)', async () => {
    const dir = await tempDir('oms-large-sig-');
    // Two folders of 240-byte names, then 80,000 files of 120-byte names: paths of some 600 bytes.
    const deep = path.join(dir, 'd'.repeat(240), 'e'.repeat(240));
    fs.mkdirSync(deep, { recursive: true });
    const count = 80_000;
    writeMany(
      deep,
      count,
      (i) => `${String(i).padStart(6, '0')}${'f'.repeat(114)}`,
      (i) => String(i),
    );
    const keys = ecKeyPair();
    const signaturePath = path.join(await tempDir(), 'model.sig');
    const cacheDir = await tempDir();
    await signModel({ modelPath: dir, signaturePath, signer: await KeySigner.create({ privateKey: keys.privateKey }), cacheDir });
    expect(fs.statSync(signaturePath).size).toBeGreaterThan(64 * 1024 * 1024);
    const verifier = await KeyVerifier.create({ publicKey: keys.publicKey });
    expect((await verifyModel({ modelPath: dir, signaturePath, verifier, cacheDir })).files.length).toBe(count);
    // An explicit limit wins over the one that follows the model.
    await expectCode(
      verifyModel({ modelPath: dir, signaturePath, verifier, cacheDir, maxBundleBytes: 64 * 1024 * 1024 }),
      'BUNDLE_TOO_LARGE',
    );
  }, 300_000);
});

describe('signatureLimit: one place decides how much signature is read', () => {
  it('an explicit limit wins; a source that counts its files gets one that follows them; one that cannot (HTTP) the fixed default', async () => {
    const counting = (files: number) => ({ countFiles: () => Promise.resolve(files) });
    expect(await signatureLimit({}, {}, [])).toBe(DEFAULT_MAX_BUNDLE_BYTES);
    expect(await signatureLimit({}, counting(10), [])).toBe(DEFAULT_MAX_BUNDLE_BYTES + 10 * 1024);
    expect(await signatureLimit({}, counting(1_000_000), [])).toBe(512 * 1024 * 1024);
    expect(await signatureLimit({ maxBundleBytes: 1000 }, counting(1_000_000), [])).toBe(1000);
    await expectCode(signatureLimit({ maxBundleBytes: 0 }, counting(1), []), 'INVALID_ARGUMENT');
    // The count is told what to leave out and where to stop.
    let asked: unknown;
    await signatureLimit(
      {},
      {
        countFiles: (scope) => {
          asked = scope;
          return Promise.resolve(0);
        },
      },
      ['.git'],
    );
    expect(asked).toEqual({ ignorePaths: ['.git'], atMost: Math.ceil((512 - 64) * 1024) });
  });
});
