// openVerifiedModel is the one verified-load path of verifyModel and the
// Node adapters: these tests drive it directly on real files, signed with a
// real key, and tamper with the files between the steps.
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { KeySigner, KeyVerifier, openVerifiedModel, signModel, type Verifier } from '../dist/index.js';
import { cleanupTempDirs, ecKeyPair, expectCode, tempDir, writeTree } from './helpers.js';

afterEach(cleanupTempDirs);

const FILES = { 'model.bin': 'weights-weights-weights', 'config.json': '{"a":1}', 'sub/extra.txt': 'extra' };
let keys: { privateKey: string; publicKey: string };
let verifier: Verifier;

beforeAll(async () => {
  keys = ecKeyPair();
  verifier = await KeyVerifier.create({ publicKey: keys.publicKey });
});

/** A signed model directory; the signature lies outside it. */
async function signedModel(): Promise<{ model: string; signaturePath: string }> {
  const model = await tempDir();
  await writeTree(model, FILES);
  const signaturePath = path.join(await tempDir(), 'model.sig');
  await signModel({ modelPath: model, signaturePath, signer: await KeySigner.create({ privateKey: keys.privateKey }) });
  return { model, signaturePath };
}

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

describe('openVerifiedModel', () => {
  it('hands out checked bytes, copies and checks files, and finishes with the rest', async () => {
    const { model, signaturePath } = await signedModel();
    const opened = await openVerifiedModel({ modelPath: model, signaturePath, verifier });
    expect(opened.signer.method).toBe('key');
    expect(opened.files.map((f) => f.name).sort()).toEqual(['config.json', 'model.bin', 'sub/extra.txt']);
    opened.checkListing();
    const counted: [number, number | undefined][] = [];
    expect(text(await opened.read('model.bin', { onBytes: (n, total) => counted.push([n, total]) }))).toBe(FILES['model.bin']);
    expect(counted.at(-1)).toEqual([FILES['model.bin'].length, FILES['model.bin'].length]);
    const copy = path.join(await tempDir(), 'private/config.json');
    await opened.copyFile('config.json', copy);
    expect(await fs.readFile(copy, 'utf8')).toBe(FILES['config.json']);
    expect((await fs.stat(copy)).mode & 0o777).toBe(0o600);
    expect((await fs.stat(path.dirname(copy))).mode & 0o777).toBe(0o700);
    const finished = await opened.finish();
    expect(finished.files.sort()).toEqual(['config.json', 'model.bin', 'sub/extra.txt']);
    expect(finished.resources.map((r) => r.name).sort()).toEqual(['config.json', 'model.bin', 'sub/extra.txt']);
  });

  it('refuses a tampered byte, naming the file, and never returns the bytes', async () => {
    const { model, signaturePath } = await signedModel();
    await fs.writeFile(path.join(model, 'model.bin'), FILES['model.bin'].replace('w', 'W'));
    const opened = await openVerifiedModel({ modelPath: model, signaturePath, verifier });
    const err = await expectCode(opened.read('model.bin'), 'DIGEST_MISMATCH');
    expect(err.message).toContain('model.bin');
    expect(err.differences.map((d) => d.name)).toEqual(['model.bin']);
    // A caller that swallowed the error still cannot finish.
    await expectCode(opened.finish(), 'DIGEST_MISMATCH');
    await expectCode(opened.checkFile('model.bin'), 'DIGEST_MISMATCH');
  });

  it('leaves no copy of a file that does not match', async () => {
    const { model, signaturePath } = await signedModel();
    await fs.appendFile(path.join(model, 'config.json'), ' ');
    const opened = await openVerifiedModel({ modelPath: model, signaturePath, verifier });
    const copy = path.join(await tempDir(), 'config.json');
    await expectCode(opened.copyFile('config.json', copy), 'DIGEST_MISMATCH');
    await expect(fs.access(copy)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('reports a missing file before any byte is read, and again at finish', async () => {
    const { model, signaturePath } = await signedModel();
    await fs.rm(path.join(model, 'sub/extra.txt'));
    const opened = await openVerifiedModel({ modelPath: model, signaturePath, verifier });
    const listing = (() => {
      try {
        opened.checkListing();
        return undefined;
      } catch (e) {
        return e as { code: string; differences: { kind: string; name: string }[] };
      }
    })();
    expect(listing?.code).toBe('MISSING_FILE');
    expect(listing?.differences).toEqual([{ kind: 'missing', name: 'sub/extra.txt' }]);
    await expectCode(opened.read('sub/extra.txt'), 'NOT_FOUND');
    await expectCode(opened.finish(), 'MISSING_FILE');
  });

  it('refuses an unsigned file unless unsigned files are tolerated, and then never lists it', async () => {
    const { model, signaturePath } = await signedModel();
    await fs.writeFile(path.join(model, 'added.bin'), 'not signed');
    const strict = await openVerifiedModel({ modelPath: model, signaturePath, verifier });
    expect(() => strict.checkListing()).toThrow(expect.objectContaining({ code: 'UNSIGNED_FILE' }));
    await expectCode(strict.read('added.bin'), 'UNSIGNED_FILE');
    await expectCode(strict.finish(), 'UNSIGNED_FILE');

    const tolerant = await openVerifiedModel({ modelPath: model, signaturePath, verifier, ignoreUnsignedFiles: true });
    expect(tolerant.file('added.bin')).toBeUndefined();
    tolerant.checkListing();
    expect((await tolerant.finish()).files.sort()).toEqual(['config.json', 'model.bin', 'sub/extra.txt']);
  });

  it('lets no change made between the check and the use get in', async () => {
    const { model, signaturePath } = await signedModel();
    const opened = await openVerifiedModel({ modelPath: model, signaturePath, verifier });
    // Grown after the walk: the walked size is read, which is the signed file.
    await fs.appendFile(path.join(model, 'model.bin'), 'appended after the walk');
    const bytes = await opened.read('model.bin');
    expect(text(bytes)).toBe(FILES['model.bin']);
    // Changed after the read: the bytes already handed out are the checked ones.
    await fs.writeFile(path.join(model, 'model.bin'), 'something else entirely');
    expect(text(bytes)).toBe(FILES['model.bin']);
    // Changed in place (same size) after the walk and before the read: refused.
    await fs.writeFile(path.join(model, 'config.json'), '{"a":2}');
    await expectCode(opened.read('config.json'), 'DIGEST_MISMATCH');
  });

  it('stops when aborted, before the walk and between reads', async () => {
    const { model, signaturePath } = await signedModel();
    const before = new AbortController();
    before.abort();
    await expectCode(openVerifiedModel({ modelPath: model, signaturePath, verifier, abortSignal: before.signal }), 'ABORTED');

    const later = new AbortController();
    const opened = await openVerifiedModel({ modelPath: model, signaturePath, verifier, abortSignal: later.signal });
    later.abort();
    await expectCode(opened.read('model.bin'), 'ABORTED');
    await expectCode(opened.copyFile('model.bin', path.join(await tempDir(), 'copy')), 'ABORTED');
    await expectCode(opened.finish(), 'ABORTED');
  });

  it('names the signature file when the signature is refused, and reads no model file', async () => {
    const { model, signaturePath } = await signedModel();
    const other = await KeyVerifier.create({ publicKey: ecKeyPair().publicKey });
    const err = await expectCode(
      openVerifiedModel({ modelPath: path.join(model, 'no-such-dir'), signaturePath, verifier: other }),
      'KEY_MISMATCH',
    );
    expect(err.path).toBe(signaturePath);
    expect(err.message).toContain(signaturePath);
  });

  it('reads the signature once, and with fileOrFolder opens a file signed with its folder as that folder', async () => {
    const { model, signaturePath } = await signedModel();
    const reads: string[] = [];
    const counting: Verifier = { method: 'key', verify: (bundle) => (reads.push('verify'), verifier.verify(bundle)) };
    const opened = await openVerifiedModel({
      modelPath: path.join(model, 'model.bin'),
      signaturePath,
      verifier: counting,
      fileOrFolder: true,
    });
    expect(reads).toEqual(['verify']);
    expect(opened.isSingleFile).toBe(false);
    expect(opened.root).toBe(model);
    expect((await opened.finish()).files.sort()).toEqual(['config.json', 'model.bin', 'sub/extra.txt']);
    // Without it, a file path is a single-file model, which this signature does not cover.
    const single = await openVerifiedModel({ modelPath: path.join(model, 'model.bin'), signaturePath, verifier });
    expect(single.isSingleFile).toBe(true);
    await expectCode(single.finish(), 'MISSING_FILE');
  });
});
