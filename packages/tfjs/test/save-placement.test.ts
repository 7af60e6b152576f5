import { spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ModelSigningError, type Signer } from '@model-signing/core';
import { TEMPORARY_PREFIX } from '@model-signing/core/internal/node';
import { assertCodePointOrder } from '../../../test-fixtures/order.mjs';
import { signedSaveHandler, verifiedLoadHandler } from '../src/index.js';
import { listDir, useTempDirs } from './helpers/dirs.js';
import { makeKeyPair } from './helpers/keys.js';
import { denseModel, predictSample } from './helpers/layers-model.js';
import { tf } from './helpers/tf.js';

const newDir = useTempDirs();

describe('where a signed save puts its files', () => {
  it('creates missing parent directories', async () => {
    const { signer } = await makeKeyPair();
    const modelDir = path.join(await newDir(), 'a', 'b', 'dense');
    await denseModel().save(signedSaveHandler({ modelDir, signer }));
    expect(await listDir(modelDir)).toEqual(['model.json', 'model.sig', 'weights.bin']);
    expect(assertCodePointOrder(path.join(modelDir, 'model.sig'))).toEqual(['model.json', 'weights.bin']);
  });

  it('fills an existing empty directory', async () => {
    const { signer, verifier } = await makeKeyPair();
    const modelDir = await newDir();
    await denseModel().save(signedSaveHandler({ modelDir, signer }));
    await tf.loadLayersModel(verifiedLoadHandler({ modelDir, verifier }));
  });

  it('refuses a non-empty directory without overwrite and leaves it untouched', async () => {
    const { signer } = await makeKeyPair();
    const parent = await newDir();
    const modelDir = path.join(parent, 'dense');
    await fs.mkdir(modelDir);
    await fs.writeFile(path.join(modelDir, 'keep.txt'), 'precious');
    await expect(denseModel().save(signedSaveHandler({ modelDir, signer }))).rejects.toMatchObject({
      code: 'WRITE_FAILED',
      message: expect.stringContaining('overwrite: true'),
    });
    expect(await listDir(modelDir)).toEqual(['keep.txt']);
    expect(await listDir(parent)).toEqual(['dense']);
  });

  it('replaces the whole directory with overwrite', async () => {
    const first = await makeKeyPair();
    const second = await makeKeyPair();
    const parent = await newDir();
    const modelDir = path.join(parent, 'dense');
    await denseModel().save(signedSaveHandler({ modelDir, signer: first.signer }));
    await fs.writeFile(path.join(modelDir, 'stale.txt'), 'from before');

    const changed = denseModel();
    changed.setWeights(changed.getWeights().map((w) => w.mul(2)));
    await changed.save(signedSaveHandler({ modelDir, signer: second.signer, overwrite: true }));

    expect(await listDir(parent)).toEqual(['dense']);
    expect(await listDir(modelDir)).toEqual(['model.json', 'model.sig', 'weights.bin']);
    const loaded = await tf.loadLayersModel(verifiedLoadHandler({ modelDir, verifier: second.verifier }));
    expect(await predictSample(loaded)).toEqual(await predictSample(changed));
  });

  it('removes the staging folder a killed save left beside the model', async () => {
    const { signer } = await makeKeyPair();
    const parent = await newDir();
    const deadPid = spawnSync(process.execPath, ['-e', '']).pid;
    const leftover = path.join(parent, `${TEMPORARY_PREFIX}${deadPid}-0123456789abcdef-dense.signing-AbCdEf`);
    await fs.mkdir(leftover);
    await fs.writeFile(path.join(leftover, 'weights.bin'), new Uint8Array(1024));
    await denseModel().save(signedSaveHandler({ modelDir: path.join(parent, 'dense'), signer }));
    expect(await listDir(parent)).toEqual(['dense']);
  });

  it('refuses a path that is a file, even with overwrite', async () => {
    const { signer } = await makeKeyPair();
    const parent = await newDir();
    const modelDir = path.join(parent, 'dense');
    await fs.writeFile(modelDir, 'not a directory');
    await expect(denseModel().save(signedSaveHandler({ modelDir, signer, overwrite: true }))).rejects.toMatchObject({
      code: 'WRITE_FAILED',
    });
    expect(await fs.readFile(modelDir, 'utf8')).toBe('not a directory');
    expect(await listDir(parent)).toEqual(['dense']);
  });

  it('leaves nothing behind when signing fails', async () => {
    const parent = await newDir();
    const modelDir = path.join(parent, 'dense');
    const failing: Signer = {
      method: 'key',
      sign: async () => {
        throw new ModelSigningError({ code: 'BAD_KEY', message: 'the key is unavailable' });
      },
    };
    await expect(denseModel().save(signedSaveHandler({ modelDir, signer: failing }))).rejects.toMatchObject({ code: 'BAD_KEY' });
    expect(await listDir(parent)).toEqual([]);
  });

  it('keeps the previous model when a replacing save fails', async () => {
    const { signer, verifier } = await makeKeyPair();
    const parent = await newDir();
    const modelDir = path.join(parent, 'dense');
    await denseModel().save(signedSaveHandler({ modelDir, signer }));
    const failing: Signer = {
      method: 'key',
      sign: async () => {
        throw new ModelSigningError({ code: 'BAD_KEY', message: 'the key is unavailable' });
      },
    };
    await expect(denseModel().save(signedSaveHandler({ modelDir, signer: failing, overwrite: true }))).rejects.toMatchObject({
      code: 'BAD_KEY',
    });
    expect(await listDir(parent)).toEqual(['dense']);
    await tf.loadLayersModel(verifiedLoadHandler({ modelDir, verifier }));
  });
});
