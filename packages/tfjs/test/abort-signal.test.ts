import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadVerifiedArtifacts, signedSaveHandler } from '../src/index.js';
import { listDir, useTempDirs } from './helpers/dirs.js';
import { makeKeyPair } from './helpers/keys.js';
import { denseModel } from './helpers/layers-model.js';

const newDir = useTempDirs();

// Cancellation is `abortSignal` across the project (as in huggingface.js).
describe('abortSignal', () => {
  it('cancels a signed save (nothing is left) and a verified load', async () => {
    const { signer, verifier } = await makeKeyPair();
    const parent = await newDir();
    const modelDir = path.join(parent, 'dense');
    await expect(denseModel().save(signedSaveHandler({ modelDir, signer, abortSignal: AbortSignal.abort() }))).rejects.toMatchObject({
      code: 'ABORTED',
    });
    expect(await listDir(parent)).toEqual([]);
    await denseModel().save(signedSaveHandler({ modelDir, signer, abortSignal: new AbortController().signal }));
    await expect(loadVerifiedArtifacts({ modelDir, verifier, abortSignal: AbortSignal.abort() })).rejects.toMatchObject({
      code: 'ABORTED',
    });
    expect((await loadVerifiedArtifacts({ modelDir, verifier, abortSignal: new AbortController().signal })).files.sort()).toEqual([
      'model.json',
      'weights.bin',
    ]);
  });
});
