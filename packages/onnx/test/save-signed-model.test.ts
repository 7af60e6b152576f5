import { spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelSigningError, hashModel, verifyModel, type KeySigner, type KeyVerifier, type Signer } from '@model-signing/core';
import { manifestToPayload } from '@model-signing/core/internal';
import { TEMPORARY_PREFIX, readBundle } from '@model-signing/core/internal/node';
import { assertCodePointOrder } from '../../../test-fixtures/order.mjs';
import { createVerifiedSession, saveSignedModel } from '../src/index.js';
import { EXPECTED, OTHER_WEIGHTS, WEIGHTS, buildModel, floatBytes, keyPair, runModel, tempDir } from './fixtures.js';

let signer: KeySigner;
let verifier: KeyVerifier;
let work: string;
let counter = 0;

beforeAll(async () => {
  ({ signer, verifier } = await keyPair());
  work = await tempDir();
});
afterAll(async () => {
  await fs.rm(work, { recursive: true, force: true });
});

function freshPath(name: string): string {
  counter += 1;
  return path.join(work, `${counter}-${name}`);
}

const externalModel = () => ({
  model: buildModel({ externalLocation: 'weights.bin' }),
  externalData: [{ path: 'weights.bin', data: floatBytes(WEIGHTS) }],
});

async function exists(file: string): Promise<boolean> {
  return fs.stat(file).then(
    () => true,
    () => false,
  );
}

describe('saveSignedModel', () => {
  it('writes the model, its external data and a signature that core and the adapter both verify', async () => {
    const dir = freshPath('saved');
    const result = await saveSignedModel(dir, { ...externalModel(), signer });
    expect(result.modelPath).toBe(path.join(dir, 'model.onnx'));
    expect(result.signaturePath).toBe(path.join(dir, 'model.sig'));
    expect(result.manifest.resources.map((r) => r.name)).toEqual(['model.onnx', 'weights.bin']);
    expect(result.manifest.serialization.ignorePaths).toContain('model.sig');
    expect((await fs.readdir(dir)).sort()).toEqual(['model.onnx', 'model.sig', 'weights.bin']);
    assertCodePointOrder(result.signaturePath);

    const verified = await verifyModel({ modelPath: dir, signaturePath: result.signaturePath, verifier });
    expect(verified.files.sort()).toEqual(['model.onnx', 'weights.bin']);
    expect(await runModel(await createVerifiedSession({ modelPath: dir, verifier }))).toEqual(EXPECTED);
  });

  it('signs the same statement the CLI would sign for the saved directory', async () => {
    const dir = freshPath('same-as-cli');
    const { signaturePath } = await saveSignedModel(dir, { ...externalModel(), signer });
    const hashedFromDisk = await hashModel({ modelPath: dir, ignorePaths: [signaturePath] });
    expect((await readBundle(signaturePath)).payload.toString()).toBe(manifestToPayload(hashedFromDisk).toString());
  });

  it('signs with shards and another hash, and puts the signature where asked', async () => {
    const dir = freshPath('shards');
    const signaturePath = path.join(freshPath('elsewhere'), 'sigs', 'tiny.sig');
    const result = await saveSignedModel(dir, {
      ...externalModel(),
      signer,
      method: 'shards',
      shardSize: 10,
      hashAlgorithm: 'blake2b',
      signaturePath,
    });
    expect(result.manifest.resources.map((r) => r.name)).toContain('weights.bin:20:24');
    assertCodePointOrder(signaturePath);
    expect(result.manifest.serialization.ignorePaths).not.toContain('tiny.sig');
    await verifyModel({ modelPath: dir, signaturePath, verifier });
    expect(await runModel(await createVerifiedSession({ modelPath: dir, verifier, signaturePath }))).toEqual(EXPECTED);
  });

  it('re-saves over its own earlier save', async () => {
    const dir = freshPath('resave');
    await saveSignedModel(dir, { ...externalModel(), signer });
    await saveSignedModel(dir, { ...externalModel(), signer });
    expect(await runModel(await createVerifiedSession({ modelPath: dir, verifier }))).toEqual(EXPECTED);
  });

  it('refuses a reference with no externalData entry, writing nothing', async () => {
    const dir = freshPath('missing-external');
    const err = await saveSignedModel(dir, { model: buildModel({ externalLocation: 'weights.bin' }), signer }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect((err as Error).message).toContain('weights.bin');
    expect(await exists(dir)).toBe(false);
  });

  it('refuses external data outside the directory', async () => {
    for (const location of ['../weights.bin', '/tmp/weights.bin']) {
      const dir = freshPath('escape');
      const model = buildModel({ externalLocation: location });
      const err = await saveSignedModel(dir, { model, externalData: [{ path: location, data: floatBytes(WEIGHTS) }], signer }).catch(
        (e: unknown) => e,
      );
      expect(err).toMatchObject({ code: 'PATH_ESCAPE' });
      expect(await exists(dir)).toBe(false);
    }
  });

  it('tolerates, then removes, an atomic-write leftover of a killed save', async () => {
    const dir = freshPath('leftover');
    await saveSignedModel(dir, { ...externalModel(), signer });
    // What a save killed while writing weights.bin leaves: a temporary of a process that is gone.
    const deadPid = spawnSync(process.execPath, ['-e', '']).pid;
    const leftover = `${TEMPORARY_PREFIX}${deadPid}-0123456789abcdef-weights.bin`;
    await fs.writeFile(path.join(dir, leftover), 'half written');
    await verifyModel({ modelPath: dir, signaturePath: path.join(dir, 'model.sig'), verifier });
    await saveSignedModel(dir, { ...externalModel(), signer });
    expect((await fs.readdir(dir)).sort()).toEqual(['model.onnx', 'model.sig', 'weights.bin']);
  });

  it('refuses a directory holding files it would not sign', async () => {
    const dir = freshPath('foreign');
    await fs.mkdir(dir);
    await fs.writeFile(path.join(dir, 'README.md'), 'hello');
    const err = await saveSignedModel(dir, { ...externalModel(), signer }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect((err as Error).message).toContain('README.md');
    expect(await fs.readdir(dir)).toEqual(['README.md']);
  });

  it('changes nothing when signing fails', async () => {
    const dir = freshPath('signer-down');
    await saveSignedModel(dir, { ...externalModel(), signer });
    const before = await fs.readFile(path.join(dir, 'model.sig'));
    // A signer whose backend is unreachable (an offline HSM or KMS, say).
    const unavailable: Signer = {
      method: 'key',
      sign: () => Promise.reject(new ModelSigningError({ code: 'NETWORK_ERROR', message: 'signing service unreachable' })),
    };
    const other = {
      model: buildModel({ weights: OTHER_WEIGHTS, externalLocation: 'weights.bin' }),
      externalData: [{ path: 'weights.bin', data: floatBytes(OTHER_WEIGHTS) }],
      signer: unavailable,
    };
    await expect(saveSignedModel(dir, other)).rejects.toMatchObject({ code: 'NETWORK_ERROR' });
    expect(await fs.readFile(path.join(dir, 'model.sig'))).toEqual(before);
    expect(await fs.readFile(path.join(dir, 'weights.bin'))).toEqual(Buffer.from(floatBytes(WEIGHTS)));
    expect(await runModel(await createVerifiedSession({ modelPath: dir, verifier }))).toEqual(EXPECTED);
  });

  it('leaves no signature when writing a file fails part way', async () => {
    const dir = freshPath('write-fails');
    await saveSignedModel(dir, { ...externalModel(), signer });
    // An empty folder where weights.bin must go: the model file is written, then writing weights.bin fails.
    await fs.rm(path.join(dir, 'weights.bin'));
    await fs.mkdir(path.join(dir, 'weights.bin'));
    const err = await saveSignedModel(dir, { ...externalModel(), signer }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'WRITE_FAILED', path: path.join(dir, 'weights.bin') });
    expect(await exists(path.join(dir, 'model.sig'))).toBe(false);
    await expect(readBundle(path.join(dir, 'model.sig'))).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
