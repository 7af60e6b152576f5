import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { signModel, verifyModel } from '@model-signing/core';
import { loadVerifiedArtifacts, saveSignedArtifacts, signedSaveHandler, verifiedLoadHandler } from '../src/index.js';
import { listDir, useTempDirs } from './helpers/dirs.js';
import { makeKeyPair } from './helpers/keys.js';
import { denseModel, predictSample } from './helpers/layers-model.js';
import { tf } from './helpers/tf.js';

const newDir = useTempDirs();

describe('a layers model saved signed and loaded verified', () => {
  it('predicts exactly what the original predicts', async () => {
    const { signer, verifier } = await makeKeyPair();
    const original = denseModel();
    const modelDir = path.join(await newDir(), 'dense');
    await original.save(signedSaveHandler({ modelDir, signer }));

    const loaded = await tf.loadLayersModel(verifiedLoadHandler({ modelDir, verifier }));
    expect(await predictSample(loaded)).toEqual(await predictSample(original));
    expect(loaded.getWeights().map((w) => w.shape)).toEqual([[3, 4], [4], [4, 2], [2]]);
  });

  it('loads with a claims.jsonl beside model.sig as the signature, and reports which line verified', async () => {
    const { signer, verifier } = await makeKeyPair();
    const original = denseModel();
    const modelDir = path.join(await newDir(), 'dense');
    await original.save(signedSaveHandler({ modelDir, signer }));
    const signaturePath = path.join(modelDir, 'claims.jsonl');
    await signModel({ modelPath: modelDir, signaturePath, signer });

    const verified = await loadVerifiedArtifacts({ modelDir, verifier, signaturePath });
    expect(verified.source).toEqual({ layout: 'claims', line: 1, lines: 1, warnings: [] });
    // model.sig is not part of the model either: the signature does not list it.
    expect(verified.files.sort()).toEqual(['model.json', 'weights.bin']);
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(verified.artifacts));
    expect(await predictSample(loaded)).toEqual(await predictSample(original));
  });

  it("writes TensorFlow.js's file layout plus a signature that core verifies", async () => {
    const { signer, verifier } = await makeKeyPair();
    const parent = await newDir();
    const modelDir = path.join(parent, 'dense');
    await denseModel().save(signedSaveHandler({ modelDir, signer }));

    expect(await listDir(parent)).toEqual(['dense']);
    expect(await listDir(modelDir)).toEqual(['model.json', 'model.sig', 'weights.bin']);
    const json = JSON.parse(await fs.readFile(path.join(modelDir, 'model.json'), 'utf8'));
    expect(json.format).toBe('layers-model');
    expect(json.weightsManifest).toHaveLength(1);
    expect(json.weightsManifest[0].paths).toEqual(['weights.bin']);
    expect(json.weightsManifest[0].weights.map((w: { name: string }) => w.name)).toEqual([
      'hidden/kernel',
      'hidden/bias',
      'out/kernel',
      'out/bias',
    ]);
    expect((await fs.stat(path.join(modelDir, 'weights.bin'))).size).toBe((12 + 4 + 8 + 2) * 4);

    const result = await verifyModel({ modelPath: modelDir, signaturePath: path.join(modelDir, 'model.sig'), verifier });
    expect(result.files.sort()).toEqual(['model.json', 'weights.bin']);
    expect(result.manifest.modelName).toBe('dense');
  });

  it('reports the signer and the checked files, and honours the hashing options', async () => {
    const { signer, verifier } = await makeKeyPair();
    const modelDir = path.join(await newDir(), 'dense');
    const saved = { current: undefined as Awaited<ReturnType<typeof saveSignedArtifacts>> | undefined };
    await denseModel().save(
      tf.io.withSaveHandler(async (artifacts) => {
        saved.current = await saveSignedArtifacts({
          modelDir,
          artifacts,
          signer,
          method: 'shards',
          shardSize: 64,
          hashAlgorithm: 'blake2b',
        });
        return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
      }),
    );
    expect(saved.current?.manifest.serialization).toMatchObject({ method: 'shards', hashType: 'blake2b', shardSize: 64 });

    const progress = new Map<string, string>();
    const reported: string[][] = [];
    const verified = await loadVerifiedArtifacts({
      modelDir,
      verifier,
      onProgress: (p) => progress.set(p.file, `${p.filesDone}/${p.filesTotal}: ${p.bytes} of ${p.totalBytes}`),
      onVerified: ({ files }) => void reported.push(files),
    });
    expect(verified.signer.method).toBe('key');
    expect(verified.files.sort()).toEqual(['model.json', 'weights.bin']);
    // Each file read to its end, in turn; then onVerified, once, before the model is built.
    const size = async (name: string) => (await fs.stat(path.join(modelDir, name))).size;
    expect(Object.fromEntries(progress)).toEqual({
      'model.json': `0/2: ${await size('model.json')} of ${await size('model.json')}`,
      'weights.bin': `1/2: ${await size('weights.bin')} of ${await size('weights.bin')}`,
    });
    expect(reported).toEqual([verified.files]);
    expect(verified.manifest.resources.length).toBeGreaterThan(2);
    const fromMemory = await tf.loadLayersModel(tf.io.fromMemory(verified.artifacts));
    expect(await predictSample(fromMemory)).toEqual(await predictSample(denseModel()));
  });

  it('stops when aborted', async () => {
    const { signer, verifier } = await makeKeyPair();
    const modelDir = path.join(await newDir(), 'dense');
    await denseModel().save(signedSaveHandler({ modelDir, signer }));
    const controller = new AbortController();
    controller.abort();
    await expect(loadVerifiedArtifacts({ modelDir, verifier, abortSignal: controller.signal })).rejects.toMatchObject({ code: 'ABORTED' });
  });
});
