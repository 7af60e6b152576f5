import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InferenceSession } from 'onnxruntime-node';
import { ModelSigningError, signModel, type KeySigner, type KeyVerifier } from '@model-signing/core';
import { createVerifiedSession, saveSignedModel, type VerifiedOnnxModel } from '../src/index.js';
import {
  EXPECTED,
  OTHER_EXPECTED,
  OTHER_WEIGHTS,
  buildModel,
  floatBytes,
  flipByte,
  keyPair,
  runModel,
  tempDir,
  WEIGHTS,
} from './fixtures.js';

let signer: KeySigner;
let verifier: KeyVerifier;
let otherVerifier: KeyVerifier;
let work: string;
let counter = 0;

beforeAll(async () => {
  ({ signer, verifier } = await keyPair());
  ({ verifier: otherVerifier } = await keyPair());
  work = await tempDir();
});
afterAll(async () => {
  await fs.rm(work, { recursive: true, force: true });
});

/** A fresh path under the test's work directory. */
function freshPath(name: string): string {
  counter += 1;
  return path.join(work, `${counter}-${name}`);
}

/** Saves the inline-weights model, signed, into a new directory. */
async function inlineModelDir(): Promise<string> {
  const dir = freshPath('inline');
  await saveSignedModel(dir, { model: buildModel(), signer });
  return dir;
}

/** Saves the model with W in `weights.bin`, signed, into a new directory. */
async function externalModelDir(location = 'weights.bin'): Promise<string> {
  const dir = freshPath('external');
  await saveSignedModel(dir, {
    model: buildModel({ externalLocation: location }),
    externalData: [{ path: location, data: floatBytes(WEIGHTS) }],
    signer,
  });
  return dir;
}

/** Expects `promise` to reject with a ModelSigningError of `code` about `file`, before any session was created. */
async function expectRefused(load: (onVerified: () => void) => Promise<unknown>, code: string, file: string): Promise<ModelSigningError> {
  let reachedLoad = false;
  const error = await load(() => {
    reachedLoad = true;
  }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ModelSigningError);
  const err = error as ModelSigningError;
  expect(err.code).toBe(code);
  expect(err.message).toContain(file);
  expect([err.path, ...err.differences.map((d) => d.name)]).toContain(file);
  // onVerified runs just before InferenceSession.create; it must never be reached.
  expect(reachedLoad).toBe(false);
  return err;
}

describe('createVerifiedSession loads and runs verified models', () => {
  it('runs a model with inline weights', async () => {
    const dir = await inlineModelDir();
    expect(await runModel(await createVerifiedSession({ modelPath: dir, verifier }))).toEqual(EXPECTED);
  });

  it('runs a model with an external-data file, reporting what it verified', async () => {
    const dir = await externalModelDir();
    let verified: VerifiedOnnxModel | undefined;
    const progress: number[] = [];
    const session = await createVerifiedSession({
      modelPath: dir,
      verifier,
      onVerified: (model) => {
        verified = model;
      },
      onProgress: (p) => progress.push(p.filesDone + p.bytes / p.totalBytes!),
    });
    expect(await runModel(session)).toEqual(EXPECTED);
    expect(verified?.modelFile).toBe('model.onnx');
    expect(verified?.externalDataFiles).toEqual(['weights.bin']);
    expect(verified?.files.sort()).toEqual(['model.onnx', 'weights.bin']);
    expect(verified?.stagingDirectory).toBeUndefined();
    expect(verified?.signer.method).toBe('key');
    // The last event: the second of two files, whole.
    expect(progress.at(-1)).toBe(2);
  });

  it('takes a claims.jsonl in the model as its signature, and reports which line verified', async () => {
    const dir = await externalModelDir();
    const signaturePath = path.join(dir, 'claims.jsonl');
    await signModel({ modelPath: dir, signaturePath, signer });
    let verified: VerifiedOnnxModel | undefined;
    const session = await createVerifiedSession({
      modelPath: dir,
      verifier,
      signaturePath,
      onVerified: (model) => void (verified = model),
    });
    expect(await runModel(session)).toEqual(EXPECTED);
    // model.sig (the directory's first signature) and the claims file are both attestation files: neither is part of the model.
    expect(verified?.files.sort()).toEqual(['model.onnx', 'weights.bin']);
    expect(verified?.source).toEqual({ layout: 'claims', line: 1, lines: 1, warnings: [] });
  });

  it('loads a .onnx path inside a signed directory, with the signature found next to it', async () => {
    const dir = await externalModelDir();
    expect(await runModel(await createVerifiedSession({ modelPath: path.join(dir, 'model.onnx'), verifier }))).toEqual(EXPECTED);
  });

  it('loads a single .onnx file signed on its own, with the signature given explicitly', async () => {
    const dir = freshPath('single');
    await fs.mkdir(dir);
    const file = path.join(dir, 'classifier.onnx');
    await fs.writeFile(file, buildModel());
    await fs.writeFile(path.join(dir, 'unrelated.txt'), 'not part of the signed file');
    const signaturePath = path.join(dir, 'classifier.sig');
    await signModel({ modelPath: file, signaturePath, signer });
    const session = await createVerifiedSession({ modelPath: file, verifier, signaturePath });
    expect(await runModel(session)).toEqual(EXPECTED);
  });

  it('picks the model file by name when the directory holds several', async () => {
    const dir = freshPath('two-models');
    await fs.mkdir(dir);
    await fs.writeFile(path.join(dir, 'a.onnx'), buildModel());
    await fs.writeFile(path.join(dir, 'b.onnx'), buildModel({ weights: OTHER_WEIGHTS }));
    await signModel({ modelPath: dir, signaturePath: path.join(dir, 'model.sig'), signer });
    const err = await createVerifiedSession({ modelPath: dir, verifier }).catch((e: ModelSigningError) => e);
    expect(err).toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect((err as Error).message).toContain('a.onnx, b.onnx');
    expect(await runModel(await createVerifiedSession({ modelPath: dir, verifier, modelFile: 'b.onnx' }))).toEqual(OTHER_EXPECTED);
  });

  it('tolerates an extra file only with ignoreUnsignedFiles', async () => {
    const dir = await externalModelDir();
    await fs.writeFile(path.join(dir, 'notes.txt'), 'added after signing');
    await expectRefused((onVerified) => createVerifiedSession({ modelPath: dir, verifier, onVerified }), 'UNSIGNED_FILE', 'notes.txt');
    const session = await createVerifiedSession({ modelPath: dir, verifier, ignoreUnsignedFiles: true });
    expect(await runModel(session)).toEqual(EXPECTED);
  });
});

describe('createVerifiedSession refuses models that do not match their signature', () => {
  it('a changed byte in the model file', async () => {
    const dir = await externalModelDir();
    await flipByte(path.join(dir, 'model.onnx'), -1);
    await expectRefused((onVerified) => createVerifiedSession({ modelPath: dir, verifier, onVerified }), 'DIGEST_MISMATCH', 'model.onnx');
  });

  it('a changed byte in the external data', async () => {
    const dir = await externalModelDir();
    await flipByte(path.join(dir, 'weights.bin'), 0);
    await expectRefused((onVerified) => createVerifiedSession({ modelPath: dir, verifier, onVerified }), 'DIGEST_MISMATCH', 'weights.bin');
  });

  it('an extra file', async () => {
    const dir = await inlineModelDir();
    await fs.mkdir(path.join(dir, 'sub'));
    await fs.writeFile(path.join(dir, 'sub', 'extra.bin'), 'x');
    await expectRefused((onVerified) => createVerifiedSession({ modelPath: dir, verifier, onVerified }), 'UNSIGNED_FILE', 'sub/extra.bin');
  });

  it('a missing external-data file', async () => {
    const dir = await externalModelDir();
    await fs.rm(path.join(dir, 'weights.bin'));
    await expectRefused((onVerified) => createVerifiedSession({ modelPath: dir, verifier, onVerified }), 'MISSING_FILE', 'weights.bin');
  });

  it('a missing signature', async () => {
    const dir = await inlineModelDir();
    await fs.rm(path.join(dir, 'model.sig'));
    await expectRefused(
      (onVerified) => createVerifiedSession({ modelPath: dir, verifier, onVerified }),
      'NOT_FOUND',
      path.join(dir, 'model.sig'),
    );
  });

  it('a signature over maxBundleBytes', async () => {
    const dir = await inlineModelDir();
    const size = (await fs.stat(path.join(dir, 'model.sig'))).size;
    await expectRefused(
      (onVerified) => createVerifiedSession({ modelPath: dir, verifier, maxBundleBytes: size - 1, onVerified }),
      'BUNDLE_TOO_LARGE',
      path.join(dir, 'model.sig'),
    );
    await createVerifiedSession({ modelPath: dir, verifier, maxBundleBytes: size });
  });

  it('a FIFO as model.sig: refused at once instead of hanging', async () => {
    const { execFileSync } = await import('node:child_process');
    const dir = await inlineModelDir();
    await fs.rm(path.join(dir, 'model.sig'));
    execFileSync('mkfifo', [path.join(dir, 'model.sig')]);
    await expectRefused(
      (onVerified) => createVerifiedSession({ modelPath: dir, verifier, onVerified }),
      'SPECIAL_FILE',
      path.join(dir, 'model.sig'),
    );
  });

  it('a signature by another key', async () => {
    const dir = await inlineModelDir();
    const sig = path.join(dir, 'model.sig');
    await expectRefused(
      (onVerified) => createVerifiedSession({ modelPath: dir, verifier: otherVerifier, onVerified }),
      'KEY_MISMATCH',
      sig,
    );
  });

  it('a single .onnx file whose external data the signature does not cover', async () => {
    const dir = freshPath('single-external');
    await fs.mkdir(dir);
    const file = path.join(dir, 'model.onnx');
    await fs.writeFile(file, buildModel({ externalLocation: 'weights.bin' }));
    await fs.writeFile(path.join(dir, 'weights.bin'), floatBytes(WEIGHTS));
    await signModel({ modelPath: file, signaturePath: path.join(dir, 'model.sig'), signer });
    await expectRefused((onVerified) => createVerifiedSession({ modelPath: file, verifier, onVerified }), 'UNSIGNED_FILE', 'weights.bin');
  });

  it('external data left out of the signature, even when unsigned files are tolerated', async () => {
    const dir = freshPath('ignored-external');
    await fs.mkdir(dir);
    await fs.writeFile(path.join(dir, 'model.onnx'), buildModel({ externalLocation: 'weights.bin' }));
    await fs.writeFile(path.join(dir, 'weights.bin'), floatBytes(WEIGHTS));
    await signModel({ modelPath: dir, signaturePath: path.join(dir, 'model.sig'), ignorePaths: ['weights.bin'], signer });
    for (const ignoreUnsignedFiles of [false, true]) {
      await expectRefused(
        (onVerified) => createVerifiedSession({ modelPath: dir, verifier, ignoreUnsignedFiles, onVerified }),
        'UNSIGNED_FILE',
        'weights.bin',
      );
    }
  });

  for (const location of ['../secret.bin', 'sub/../../secret.bin', '/etc/secret.bin', 'C:\\secret.bin', '..\\secret.bin']) {
    it(`an external-data location that leaves the model directory: ${location}`, async () => {
      const parent = freshPath('escape');
      const dir = path.join(parent, 'model');
      await fs.mkdir(dir, { recursive: true });
      await fs.writeFile(path.join(parent, 'secret.bin'), floatBytes(OTHER_WEIGHTS));
      await fs.writeFile(path.join(dir, 'model.onnx'), buildModel({ externalLocation: location }));
      await signModel({ modelPath: dir, signaturePath: path.join(dir, 'model.sig'), signer });
      await expectRefused((onVerified) => createVerifiedSession({ modelPath: dir, verifier, onVerified }), 'PATH_ESCAPE', location);
    });
  }

  const outOfRange: Array<[string, { externalOffset?: string; externalLength?: string | null }, string, RegExp]> = [
    [
      'an offset far past the end (1e12)',
      { externalOffset: '1000000000000' },
      'weights.bin',
      /at offset 1000000000000, 24 bytes long, past the end/,
    ],
    [
      'an offset and length that end past the end',
      { externalOffset: '8' },
      'weights.bin',
      /at offset 8, 24 bytes long, past the end of that file \(24 bytes\)/,
    ],
    ['a length past the end', { externalLength: '25' }, 'weights.bin', /at offset 0, 25 bytes long/],
    [
      'no length, and the size the shape gives ends past the end',
      { externalOffset: '4', externalLength: null },
      'weights.bin',
      /at offset 4, 24 bytes long/,
    ],
    ['an offset that is not a byte count', { externalOffset: '-1' }, 'model.onnx', /external-data offset '-1', which is not a byte count/],
    ['a length that is not a byte count', { externalLength: '1e3' }, 'model.onnx', /external-data length '1e3', which is not a byte count/],
  ];
  for (const [name, range, file, message] of outOfRange) {
    it(`external data outside its verified file, before onnxruntime reads it: ${name}`, async () => {
      const dir = freshPath('range');
      await fs.mkdir(dir, { recursive: true });
      await fs.writeFile(path.join(dir, 'model.onnx'), buildModel({ externalLocation: 'weights.bin', ...range }));
      await fs.writeFile(path.join(dir, 'weights.bin'), floatBytes(WEIGHTS));
      await signModel({ modelPath: dir, signaturePath: path.join(dir, 'model.sig'), signer });
      const err = await expectRefused((onVerified) => createVerifiedSession({ modelPath: dir, verifier, onVerified }), 'BAD_MODEL', file);
      expect(err.message).toContain("'model.onnx'");
      expect(err.message).toMatch(message);
    });
  }

  it('external data within its file at an offset, with or without a length, loads', async () => {
    for (const externalLength of ['24', null]) {
      const dir = freshPath('offset');
      await fs.mkdir(dir, { recursive: true });
      await fs.writeFile(
        path.join(dir, 'model.onnx'),
        buildModel({ externalLocation: 'weights.bin', externalOffset: '8', externalLength }),
      );
      await fs.writeFile(path.join(dir, 'weights.bin'), new Uint8Array([...new Uint8Array(8), ...floatBytes(WEIGHTS)]));
      await signModel({ modelPath: dir, signaturePath: path.join(dir, 'model.sig'), signer });
      expect(await runModel(await createVerifiedSession({ modelPath: dir, verifier }))).toEqual(EXPECTED);
    }
  });

  it('sessionOptions.externalData, which would bypass verification', async () => {
    const dir = await externalModelDir();
    const err = await createVerifiedSession({
      modelPath: dir,
      verifier,
      sessionOptions: { externalData: [{ path: 'weights.bin', data: floatBytes(OTHER_WEIGHTS) }] },
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('an aborted load', async () => {
    const dir = await externalModelDir();
    const controller = new AbortController();
    controller.abort();
    await expect(createVerifiedSession({ modelPath: dir, verifier, abortSignal: controller.signal })).rejects.toMatchObject({
      code: 'ABORTED',
    });
  });
});

describe('createVerifiedSession loads the bytes it verified, not what is on disk later', () => {
  /** Replaces the model and its weights on disk with the other model's files. */
  async function swapOnDisk(dir: string): Promise<void> {
    await fs.writeFile(path.join(dir, 'model.onnx'), buildModel({ weights: OTHER_WEIGHTS, externalLocation: 'weights.bin' }));
    await fs.writeFile(path.join(dir, 'weights.bin'), floatBytes(OTHER_WEIGHTS));
  }

  it('the swap is real: loading the directory plainly afterwards runs the other model', async () => {
    const dir = await externalModelDir();
    await swapOnDisk(dir);
    expect(await runModel(await InferenceSession.create(path.join(dir, 'model.onnx')))).toEqual(OTHER_EXPECTED);
  });

  it('files swapped after hashing, before session creation (in memory)', async () => {
    const dir = await externalModelDir();
    const session = await createVerifiedSession({ modelPath: dir, verifier, onVerified: () => swapOnDisk(dir) });
    expect(await runModel(session)).toEqual(EXPECTED);
    expect(await fs.readFile(path.join(dir, 'weights.bin'))).toEqual(Buffer.from(floatBytes(OTHER_WEIGHTS)));
  });

  it('files swapped after hashing, before session creation (staged large external data)', async () => {
    const dir = await externalModelDir();
    const staging = freshPath('staging');
    await fs.mkdir(staging);
    const session = await createVerifiedSession({
      modelPath: dir,
      verifier,
      maxInMemoryExternalDataBytes: 8,
      stagingDirectory: staging,
      onVerified: () => swapOnDisk(dir),
    });
    expect(await runModel(session)).toEqual(EXPECTED);
    expect(await fs.readdir(staging)).toEqual([]);
  });
});

describe('large external data is staged in a private directory', () => {
  it('copies while hashing, loads from the copy and removes it', async () => {
    const dir = await externalModelDir();
    const staging = freshPath('staging');
    await fs.mkdir(staging);
    let seen: { dir: string; mode: number; files: string[] } | undefined;
    const session = await createVerifiedSession({
      modelPath: dir,
      verifier,
      maxInMemoryExternalDataBytes: 23, // weights.bin is 24 bytes
      stagingDirectory: staging,
      onVerified: async (model) => {
        const stagedDir = model.stagingDirectory!;
        seen = { dir: stagedDir, mode: (await fs.stat(stagedDir)).mode & 0o777, files: await fs.readdir(stagedDir) };
      },
    });
    expect(seen?.dir.startsWith(staging + path.sep)).toBe(true);
    expect(seen?.mode).toBe(0o700);
    expect(seen?.files).toEqual(['weights.bin']);
    // The session outlives its staging directory.
    expect(await fs.readdir(staging)).toEqual([]);
    expect(await runModel(session)).toEqual(EXPECTED);
  });

  it('keeps the in-memory path at exactly the limit', async () => {
    const dir = await externalModelDir();
    let staged: string | undefined = 'unset';
    const session = await createVerifiedSession({
      modelPath: dir,
      verifier,
      maxInMemoryExternalDataBytes: 24,
      onVerified: (model) => {
        staged = model.stagingDirectory;
      },
    });
    expect(staged).toBeUndefined();
    expect(await runModel(session)).toEqual(EXPECTED);
  });

  it('removes the staging directory when the copy does not verify', async () => {
    const dir = await externalModelDir();
    await flipByte(path.join(dir, 'weights.bin'), 5);
    const staging = freshPath('staging');
    await fs.mkdir(staging);
    await expectRefused(
      (onVerified) =>
        createVerifiedSession({ modelPath: dir, verifier, maxInMemoryExternalDataBytes: 0, stagingDirectory: staging, onVerified }),
      'DIGEST_MISMATCH',
      'weights.bin',
    );
    expect(await fs.readdir(staging)).toEqual([]);
  });

  it('stages locations onnxruntime cannot match in memory (./weights.bin, nested folders)', async () => {
    for (const location of ['./weights.bin', 'data//weights.bin']) {
      const dir = await externalModelDir(location);
      let staged: string | undefined;
      const session = await createVerifiedSession({
        modelPath: dir,
        verifier,
        onVerified: (model) => {
          staged = model.stagingDirectory;
        },
      });
      expect(staged).toBeDefined();
      expect(await runModel(session)).toEqual(EXPECTED);
    }
  });
});
