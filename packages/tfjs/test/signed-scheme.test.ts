import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { verifyModel } from '@model-signing/core';
import { registerSignedScheme } from '../src/index.js';
import { useTempDirs } from './helpers/dirs.js';
import { makeKeyPair } from './helpers/keys.js';
import { denseModel, predictSample } from './helpers/layers-model.js';
import { tf } from './helpers/tf.js';

const newDir = useTempDirs();

describe('registerSignedScheme', () => {
  it('routes model.save and tf.loadLayersModel through signing and verification', async () => {
    const { signer, verifier } = await makeKeyPair();
    const unregister = registerSignedScheme({ signer, verifier });
    try {
      const modelDir = path.join(await newDir(), 'dense');
      const original = denseModel();
      const saved = await original.save(`signed://${modelDir}`);
      expect(saved.modelArtifactsInfo.weightDataBytes).toBe(26 * 4);
      await verifyModel({ modelPath: modelDir, signaturePath: path.join(modelDir, 'model.sig'), verifier });

      const loaded = await tf.loadLayersModel(`signed://${modelDir}`);
      expect(await predictSample(loaded)).toEqual(await predictSample(original));

      const weights = path.join(modelDir, 'weights.bin');
      const bytes = await fs.readFile(weights);
      bytes[0] ^= 0xff;
      await fs.writeFile(weights, bytes);
      await expect(tf.loadLayersModel(`signed://${modelDir}`)).rejects.toMatchObject({ code: 'DIGEST_MISMATCH', path: 'weights.bin' });
    } finally {
      unregister();
    }
  });

  it('resolves relative paths against the working directory', async () => {
    const { signer, verifier } = await makeKeyPair();
    const unregister = registerSignedScheme({ scheme: 'oms', signer, verifier });
    try {
      const modelDir = path.join(await newDir(), 'relative');
      const relative = path.relative(process.cwd(), modelDir);
      expect(path.isAbsolute(relative)).toBe(false);
      await denseModel().save(`oms://${relative}`);
      expect((await fs.readdir(modelDir)).sort()).toEqual(['model.json', 'model.sig', 'weights.bin']);
      const loaded = await tf.loadLayersModel(`oms://${relative}`);
      expect(await predictSample(loaded)).toEqual(await predictSample(denseModel()));
    } finally {
      unregister();
    }
  });

  it('stops routing once unregistered, and can then be registered with another key', async () => {
    const first = await makeKeyPair();
    const second = await makeKeyPair();
    const modelDir = path.join(await newDir(), 'dense');
    const unregisterFirst = registerSignedScheme({ signer: first.signer, verifier: first.verifier });
    await denseModel().save(`signed://${modelDir}`);
    expect(() => registerSignedScheme({ verifier: second.verifier })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(tf.io.getLoadHandlers(`signed://${modelDir}`)).toHaveLength(1);
    unregisterFirst();
    expect(tf.io.getLoadHandlers(`signed://${modelDir}`)).toHaveLength(0);
    expect(tf.io.getSaveHandlers(`signed://${modelDir}`)).toHaveLength(0);
    // Without a router tfjs falls back to fetching the URL, which fails for this scheme: still no model.
    await expect(tf.loadLayersModel(`signed://${modelDir}`)).rejects.toThrow();

    const unregisterSecond = registerSignedScheme({ verifier: second.verifier });
    try {
      await expect(tf.loadLayersModel(`signed://${modelDir}`)).rejects.toMatchObject({ code: 'KEY_MISMATCH' });
      // Registered with a verifier only: the scheme cannot save.
      expect(tf.io.getSaveHandlers(`signed://${modelDir}`)).toHaveLength(0);
      await expect(denseModel().save(`signed://${path.join(await newDir(), 'other')}`)).rejects.toThrow(/save handler/i);
    } finally {
      unregisterSecond();
    }
  });

  it('refuses a malformed scheme, no signer and no verifier, and an empty path', async () => {
    const { verifier } = await makeKeyPair();
    expect(() => registerSignedScheme({ scheme: 'signed://', verifier })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => registerSignedScheme({})).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    const unregister = registerSignedScheme({ verifier });
    try {
      await expect(tf.loadLayersModel('signed://')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    } finally {
      unregister();
    }
  });
});
