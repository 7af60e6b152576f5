import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { signModel } from '@model-signing/core';
import { registerSignedScheme, signedSaveHandler, verifiedLoadHandler } from '../src/index.js';
import { useTempDirs } from './helpers/dirs.js';
import { GRAPH_INPUT, GRAPH_OUTPUT, writeGraphModel } from './helpers/graph-model-fixture.js';
import { makeKeyPair } from './helpers/keys.js';
import { tf } from './helpers/tf.js';

const newDir = useTempDirs();

async function run(model: tf.GraphModel): Promise<number[][]> {
  return (await (model.predict(tf.tensor2d(GRAPH_INPUT)) as tf.Tensor).array()) as number[][];
}

describe('a converter-format graph model', () => {
  it('loads verified and computes the known outputs', async () => {
    const { signer, verifier } = await makeKeyPair();
    const modelDir = await newDir();
    await writeGraphModel(modelDir);
    await signModel({ modelPath: modelDir, signaturePath: path.join(modelDir, 'model.sig'), signer });

    const model = await tf.loadGraphModel(verifiedLoadHandler({ modelDir, verifier }));
    expect(model.inputs.map((i) => i.name)).toEqual(['x']);
    expect(await run(model)).toEqual(GRAPH_OUTPUT);
  });

  it('saves signed and loads verified again as a graph model', async () => {
    const { signer, verifier } = await makeKeyPair();
    const sourceDir = await newDir();
    await writeGraphModel(sourceDir);
    await signModel({ modelPath: sourceDir, signaturePath: path.join(sourceDir, 'model.sig'), signer });
    const model = await tf.loadGraphModel(verifiedLoadHandler({ modelDir: sourceDir, verifier }));

    const copyDir = path.join(await newDir(), 'copy');
    await model.save(signedSaveHandler({ modelDir: copyDir, signer }));
    const copy = await tf.loadGraphModel(verifiedLoadHandler({ modelDir: copyDir, verifier }));
    expect(await run(copy)).toEqual(GRAPH_OUTPUT);
  });

  it('loads through the signed:// scheme with tf.loadGraphModel', async () => {
    const { signer, verifier } = await makeKeyPair();
    const modelDir = await newDir();
    await writeGraphModel(modelDir);
    await signModel({ modelPath: modelDir, signaturePath: path.join(modelDir, 'model.sig'), signer });
    const unregister = registerSignedScheme({ verifier });
    try {
      expect(await run(await tf.loadGraphModel(`signed://${modelDir}`))).toEqual(GRAPH_OUTPUT);
    } finally {
      unregister();
    }
  });
});
