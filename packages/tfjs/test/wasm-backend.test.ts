import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '@tensorflow/tfjs-backend-wasm';
import { verifiedLoadHandler, signedSaveHandler } from '../src/index.js';
import { useTempDirs } from './helpers/dirs.js';
import { makeKeyPair } from './helpers/keys.js';
import { denseModel, predictSample } from './helpers/layers-model.js';
import { tf } from './helpers/tf.js';

// The handlers only speak tfjs-core's io API, so they must work the same on
// the wasm backend as on the CPU one.
const newDir = useTempDirs();

beforeAll(async () => {
  expect(await tf.setBackend('wasm')).toBe(true);
});
afterAll(async () => {
  await tf.setBackend('cpu');
});

describe('on the wasm backend', () => {
  it('saves signed and loads verified with the same predictions', async () => {
    expect(tf.getBackend()).toBe('wasm');
    const { signer, verifier } = await makeKeyPair();
    const original = denseModel();
    const modelDir = path.join(await newDir(), 'dense-wasm');
    await original.save(signedSaveHandler({ modelDir, signer }));
    const loaded = await tf.loadLayersModel(verifiedLoadHandler({ modelDir, verifier }));
    const expected = await predictSample(original);
    const actual = await predictSample(loaded);
    expect(actual).toHaveLength(expected.length);
    actual.flat().forEach((v, i) => expect(v).toBeCloseTo(expected.flat()[i], 5));
  });
});
