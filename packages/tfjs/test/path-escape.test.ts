import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { signModel, type KeyVerifier } from '@model-signing/core';
import { verifiedLoadHandler } from '../src/index.js';
import { useTempDirs } from './helpers/dirs.js';
import { graphModelJson } from './helpers/graph-model-fixture.js';
import { makeKeyPair } from './helpers/keys.js';
import { tf } from './helpers/tf.js';

const newDir = useTempDirs();

/**
 * A model directory whose model.json names `weightPath`, validly signed, so
 * only the path check can stop it. The weights exist at that path.
 */
async function signedModelNaming(weightPath: (modelDir: string) => string): Promise<{ modelDir: string; verifier: KeyVerifier }> {
  const parent = await newDir();
  const modelDir = path.join(parent, 'model');
  await fs.mkdir(modelDir);
  const outside = path.join(parent, 'outside.bin');
  await fs.writeFile(outside, Buffer.from(new Float32Array([1, 2, 3, 4, 5, 6, 0.5, -0.5]).buffer));
  await fs.writeFile(path.join(modelDir, 'model.json'), JSON.stringify(graphModelJson([weightPath(modelDir)])));
  const { signer, verifier } = await makeKeyPair();
  await signModel({ modelPath: modelDir, signaturePath: path.join(modelDir, 'model.sig'), signer });
  return { modelDir, verifier };
}

describe('weight paths outside the model directory', () => {
  it.each([
    ['../outside.bin', () => '../outside.bin'],
    ['a path that climbs out through a subdirectory', () => 'sub/../../outside.bin'],
    ['an absolute path', (modelDir: string) => path.join(path.dirname(modelDir), 'outside.bin')],
  ])('refuses %s with PATH_ESCAPE', async (_label, weightPath) => {
    const { modelDir, verifier } = await signedModelNaming(weightPath);
    const named = weightPath(modelDir);
    await expect(tf.loadGraphModel(verifiedLoadHandler({ modelDir, verifier }))).rejects.toMatchObject({
      code: 'PATH_ESCAPE',
      path: named,
      message: expect.stringContaining(named),
    });
  });
});
