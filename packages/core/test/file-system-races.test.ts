import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { KeySigner, KeyVerifier, ModelSigningError, signModel, verifyModel, type ModelFile } from '../dist/index.js';
import { hashFiles, resolveSerialization, walkModel } from '../dist/internal-node.js';
import { cleanupTempDirs, ecKeyPair, expectCode, tempDir, writeTree } from './helpers.js';

afterEach(cleanupTempDirs);

const KiB = 1024;
const DIST = path.resolve(import.meta.dirname, '../dist/index.js');

/** Replaces a file by a FIFO with no writer: opening it for reading would block forever. */
function swapForFifo(file: string): void {
  fs.rmSync(file);
  execFileSync('mkfifo', [file]);
}

describe('a model file swapped for a FIFO after the walk', () => {
  for (const workers of [1, 2]) {
    for (const size of [3, 300 * KiB]) {
      it(`is refused as SPECIAL_FILE without blocking (${size} bytes listed, ${workers} thread(s))`, async () => {
        const dir = await tempDir();
        await writeTree(dir, { 'a.bin': Buffer.alloc(size, 1), 'b.bin': 'b' });
        const files: ModelFile[] = ['a.bin', 'b.bin'].map((name) => ({
          name,
          absolutePath: path.join(dir, name),
          size: fs.statSync(path.join(dir, name)).size,
        }));
        swapForFifo(path.join(dir, 'a.bin'));
        const err = await expectCode(hashFiles(files, resolveSerialization({}, []), { workers, chunkSize: 64 * KiB }), 'SPECIAL_FILE');
        expect(err.message).toContain('a.bin');
      }, 10_000);
    }
  }

  it('fails verifyModel with SPECIAL_FILE when swapped between hashing two files', async () => {
    const dir = await tempDir();
    await writeTree(dir, { 'first.bin': Buffer.alloc(200 * KiB, 1), 'second.bin': 'small' });
    const keys = ecKeyPair();
    const signaturePath = path.join(await tempDir(), 'model.sig');
    await signModel({ modelPath: dir, signaturePath, signer: await KeySigner.create({ privateKey: keys.privateKey }) });
    let swapped = false;
    const verifying = verifyModel({
      modelPath: dir,
      signaturePath,
      verifier: await KeyVerifier.create({ publicKey: keys.publicKey }),
      workers: 1,
      // Files are hashed largest first: once bytes of first.bin are reported, second.bin is still to come.
      onProgress: () => {
        if (!swapped) swapForFifo(path.join(dir, 'second.bin'));
        swapped = true;
      },
    });
    await expectCode(verifying, 'SPECIAL_FILE');
    expect(swapped).toBe(true);
  }, 10_000);
});

describe('files deleted while the model is walked and hashed', () => {
  /** 20 folders of 30 files. */
  async function smallModel(): Promise<string> {
    const dir = await tempDir();
    for (let d = 0; d < 20; d++) {
      fs.mkdirSync(path.join(dir, `d${d}`));
      for (let f = 0; f < 30; f++) fs.writeFileSync(path.join(dir, `d${d}`, `f${f}`), `${d}/${f}`);
    }
    return dir;
  }
  /** A child process that deletes the model's folders while we read them. */
  const startDeleting = (dir: string): Promise<void> =>
    new Promise((resolve) => {
      const folders = fs.readdirSync(dir).map((d) => path.join(dir, d));
      spawn('rm', ['-rf', ...folders.reverse()]).on('exit', () => resolve());
    });

  it('walkModel either lists what is left or fails with a typed error, never an untyped one', async () => {
    for (let run = 0; run < 5; run++) {
      const dir = await smallModel();
      const deleting = startDeleting(dir);
      const outcome = await walkModel({ modelPath: dir }).then(
        (walked) => walked.files.length,
        (err: unknown) => err,
      );
      await deleting;
      if (typeof outcome !== 'number') expect(outcome).toBeInstanceOf(ModelSigningError);
    }
  }, 60_000);

  it('verifyModel reports MISSING_FILE or READ_FAILED, never an untyped error', async () => {
    const keys = ecKeyPair();
    const signer = await KeySigner.create({ privateKey: keys.privateKey });
    const verifier = await KeyVerifier.create({ publicKey: keys.publicKey });
    const codes = new Set<string>();
    for (let run = 0; run < 5; run++) {
      const dir = await smallModel();
      const signaturePath = path.join(await tempDir(), 'model.sig');
      await signModel({ modelPath: dir, signaturePath, signer });
      const deleting = startDeleting(dir);
      const outcome = await verifyModel({ modelPath: dir, signaturePath, verifier }).then(
        () => 'OK',
        (err: unknown) => err,
      );
      await deleting;
      if (outcome === 'OK') continue;
      expect(outcome).toBeInstanceOf(ModelSigningError);
      codes.add((outcome as ModelSigningError).code);
    }
    for (const code of codes) expect(['MISSING_FILE', 'READ_FAILED']).toContain(code);
  }, 60_000);

  it('a file deleted after the walk is READ_FAILED naming the file and ENOENT, when signing too', async () => {
    const dir = await tempDir();
    await writeTree(dir, { 'big.bin': Buffer.alloc(200 * KiB, 1), 'small.bin': 'small' });
    let deleted = false;
    const signing = signModel({
      modelPath: dir,
      signaturePath: path.join(await tempDir(), 'model.sig'),
      signer: await KeySigner.create({ privateKey: ecKeyPair().privateKey }),
      workers: 1,
      onProgress: () => {
        if (!deleted) fs.rmSync(path.join(dir, 'small.bin'));
        deleted = true;
      },
    });
    const err = await expectCode(signing, 'READ_FAILED');
    expect(err.message).toContain('small.bin');
    expect(err.message).toContain('ENOENT');
  });
});

/**
 * Runs a script against core's build as an unprivileged user: tests run as
 * root, for whom permission bits do not stop reads.
 */
function runUnprivileged(script: string): { code?: string; path?: string; message?: string; ok?: boolean } {
  const asRoot = process.getuid?.() === 0;
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    ...(asRoot ? { uid: 65534, gid: 65534 } : {}),
    timeout: 20_000,
  });
  expect(result.status, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as { code?: string; path?: string; message?: string };
}

const reportOutcome = (call: string) => `
  import * as publicApi from ${JSON.stringify(DIST)};
  import * as internals from ${JSON.stringify(DIST.replace(/index\.js$/, 'internal-node.js'))};
  const core = { ...publicApi, ...internals };
  try { await ${call}; console.log(JSON.stringify({ ok: true })); }
  catch (e) { console.log(JSON.stringify({ code: e.code, path: e.path, message: e.message, typed: e instanceof core.ModelSigningError })); }
`;

describe('unreadable files and folders', () => {
  it('walking a folder it may not read is READ_FAILED naming the folder and EACCES', async () => {
    const dir = await tempDir();
    await writeTree(dir, { 'ok.bin': 'ok', 'locked/inner.bin': 'x' });
    fs.chmodSync(dir, 0o755);
    fs.chmodSync(path.join(dir, 'locked'), 0o000);
    try {
      const outcome = runUnprivileged(reportOutcome(`core.walkModel({ modelPath: ${JSON.stringify(dir)} })`));
      expect(outcome).toMatchObject({ code: 'READ_FAILED', path: 'locked', typed: true });
      expect(outcome.message).toContain('EACCES');
    } finally {
      fs.chmodSync(path.join(dir, 'locked'), 0o755);
    }
  });

  it('a model path under a folder it may not enter is READ_FAILED naming EACCES, not NOT_FOUND', async () => {
    const dir = await tempDir();
    await writeTree(dir, { 'locked/model/w.bin': 'w' });
    fs.chmodSync(dir, 0o755);
    fs.chmodSync(path.join(dir, 'locked'), 0o000);
    try {
      const outcome = runUnprivileged(reportOutcome(`core.walkModel({ modelPath: ${JSON.stringify(path.join(dir, 'locked/model'))} })`));
      expect(outcome).toMatchObject({ code: 'READ_FAILED', typed: true });
      expect(outcome.message).toContain('EACCES');
    } finally {
      fs.chmodSync(path.join(dir, 'locked'), 0o755);
    }
  });

  it('signing a model with an unreadable file is READ_FAILED naming the file and EACCES, not DIGEST_MISMATCH', async () => {
    const dir = await tempDir();
    const out = await tempDir();
    await writeTree(dir, { 'ok.bin': 'ok', 'secret.bin': 'x' });
    fs.chmodSync(dir, 0o755);
    fs.chmodSync(out, 0o777);
    fs.chmodSync(path.join(dir, 'secret.bin'), 0o000);
    const { privateKey } = ecKeyPair();
    const call = `core.signModel({ modelPath: ${JSON.stringify(dir)}, signaturePath: ${JSON.stringify(path.join(out, 'model.sig'))},
      signer: await core.KeySigner.create({ privateKey: ${JSON.stringify(privateKey)} }) })`;
    const outcome = runUnprivileged(reportOutcome(call));
    expect(outcome).toMatchObject({ code: 'READ_FAILED', typed: true });
    expect(outcome.message).toContain('secret.bin');
    expect(outcome.message).toContain('EACCES');
    expect(fs.existsSync(path.join(out, 'model.sig'))).toBe(false);
  });
});
