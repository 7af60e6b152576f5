import fs from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ModelSigningError, signModel, type KeySigner, type KeyVerifier } from '@model-signing/core';
import { signedSaveHandler, verifiedLoadHandler } from '../src/index.js';
import { useTempDirs } from './helpers/dirs.js';
import { GRAPH_SHARDS, graphModelJson, writeGraphModel } from './helpers/graph-model-fixture.js';
import { makeKeyPair } from './helpers/keys.js';
import { denseModel } from './helpers/layers-model.js';
import { tf } from './helpers/tf.js';

const newDir = useTempDirs();
let signer: KeySigner;
let verifier: KeyVerifier;
let signedLayers: string;

beforeAll(async () => {
  ({ signer, verifier } = await makeKeyPair());
  signedLayers = path.join(await newDir(), 'dense');
  await denseModel().save(signedSaveHandler({ modelDir: signedLayers, signer }));
});

/** A private copy of the signed layers model to tamper with. */
async function layersCopy(): Promise<string> {
  const dir = path.join(await newDir(), 'dense');
  await fs.cp(signedLayers, dir, { recursive: true });
  return dir;
}

async function signedGraphModel(): Promise<string> {
  const dir = await newDir();
  await writeGraphModel(dir);
  await signModel({ modelPath: dir, signaturePath: path.join(dir, 'model.sig'), signer });
  return dir;
}

/** Loads through tfjs and returns the error; fails the test if a model comes back. */
async function loadError(load: () => Promise<unknown>): Promise<ModelSigningError> {
  let model: unknown;
  try {
    model = await load();
  } catch (err) {
    expect(err).toBeInstanceOf(ModelSigningError);
    return err as ModelSigningError;
  }
  throw new Error(`the load returned a model (${String(model)}) instead of failing`);
}

describe('a tampered layers model is refused', () => {
  it('a changed weight byte: DIGEST_MISMATCH naming weights.bin', async () => {
    const modelDir = await layersCopy();
    const weights = path.join(modelDir, 'weights.bin');
    const bytes = await fs.readFile(weights);
    bytes[17] ^= 0x01;
    await fs.writeFile(weights, bytes);
    const err = await loadError(() => tf.loadLayersModel(verifiedLoadHandler({ modelDir, verifier })));
    expect(err.code).toBe('DIGEST_MISMATCH');
    expect(err.path).toBe('weights.bin');
    expect(err.message).toContain('weights.bin');
  });

  it('an edited model.json: DIGEST_MISMATCH naming model.json', async () => {
    const modelDir = await layersCopy();
    const file = path.join(modelDir, 'model.json');
    const json = JSON.parse(await fs.readFile(file, 'utf8'));
    json.modelTopology.config.layers[1].config.activation = 'sigmoid';
    await fs.writeFile(file, JSON.stringify(json));
    const err = await loadError(() => tf.loadLayersModel(verifiedLoadHandler({ modelDir, verifier })));
    expect(err.code).toBe('DIGEST_MISMATCH');
    expect(err.path).toBe('model.json');
    expect(err.message).toContain('model.json');
  });

  it('a missing signature: NOT_FOUND naming model.sig', async () => {
    const modelDir = await layersCopy();
    await fs.rm(path.join(modelDir, 'model.sig'));
    const err = await loadError(() => tf.loadLayersModel(verifiedLoadHandler({ modelDir, verifier })));
    expect(err.code).toBe('NOT_FOUND');
    expect(err.path).toBe(path.join(modelDir, 'model.sig'));
    expect(err.message).toContain('model.sig');
  });

  it('a signature over maxBundleBytes: BUNDLE_TOO_LARGE; loads with the limit raised', async () => {
    const modelDir = await layersCopy();
    const size = (await fs.stat(path.join(modelDir, 'model.sig'))).size;
    const err = await loadError(() => tf.loadLayersModel(verifiedLoadHandler({ modelDir, verifier, maxBundleBytes: size - 1 })));
    expect(err.code).toBe('BUNDLE_TOO_LARGE');
    await tf.loadLayersModel(verifiedLoadHandler({ modelDir, verifier, maxBundleBytes: size }));
  });

  it('a FIFO or a link to /dev/zero as model.sig: SPECIAL_FILE at once, nothing read', async () => {
    const { execFileSync } = await import('node:child_process');
    const modelDir = await layersCopy();
    await fs.rm(path.join(modelDir, 'model.sig'));
    execFileSync('mkfifo', [path.join(modelDir, 'model.sig')]);
    const err = await loadError(() => tf.loadLayersModel(verifiedLoadHandler({ modelDir, verifier })));
    expect(err.code).toBe('SPECIAL_FILE');
    expect(err.path).toBe(path.join(modelDir, 'model.sig'));
    await fs.rm(path.join(modelDir, 'model.sig'));
    await fs.symlink('/dev/zero', path.join(modelDir, 'model.sig'));
    expect((await loadError(() => tf.loadLayersModel(verifiedLoadHandler({ modelDir, verifier })))).code).toBe('SPECIAL_FILE');
  });

  it('a wrong key: KEY_MISMATCH', async () => {
    const modelDir = await layersCopy();
    const other = await makeKeyPair();
    const err = await loadError(() => tf.loadLayersModel(verifiedLoadHandler({ modelDir, verifier: other.verifier })));
    expect(err.code).toBe('KEY_MISMATCH');
  });

  it('a signature whose payload was altered: SIGNATURE_INVALID', async () => {
    const modelDir = await layersCopy();
    const sigPath = path.join(modelDir, 'model.sig');
    const bundle = JSON.parse(await fs.readFile(sigPath, 'utf8'));
    const statement = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString('utf8'));
    statement.subject[0].name = 'renamed';
    bundle.dsseEnvelope.payload = Buffer.from(JSON.stringify(statement, null, 2)).toString('base64');
    await fs.writeFile(sigPath, JSON.stringify(bundle));
    const err = await loadError(() => tf.loadLayersModel(verifiedLoadHandler({ modelDir, verifier })));
    expect(err.code).toBe('SIGNATURE_INVALID');
  });
});

describe('extra and missing weight files', () => {
  it('an extra weight file: UNSIGNED_FILE naming it', async () => {
    const modelDir = await signedGraphModel();
    await fs.writeFile(path.join(modelDir, 'group1-shard3of3.bin'), new Uint8Array(8));
    const err = await loadError(() => tf.loadGraphModel(verifiedLoadHandler({ modelDir, verifier })));
    expect(err.code).toBe('UNSIGNED_FILE');
    expect(err.path).toBe('group1-shard3of3.bin');
    expect(err.message).toContain('group1-shard3of3.bin');
  });

  it('tolerates an unrelated unsigned file only with ignoreUnsignedFiles', async () => {
    const modelDir = await signedGraphModel();
    await fs.writeFile(path.join(modelDir, 'NOTES.txt'), 'added after signing');
    const model = await tf.loadGraphModel(verifiedLoadHandler({ modelDir, verifier, ignoreUnsignedFiles: true }));
    expect(model.outputs.map((o) => o.name)).toEqual(['y']);
  });

  it('a missing weight file: MISSING_FILE naming it', async () => {
    const modelDir = await signedGraphModel();
    await fs.rm(path.join(modelDir, GRAPH_SHARDS[1]));
    const err = await loadError(() => tf.loadGraphModel(verifiedLoadHandler({ modelDir, verifier })));
    expect(err.code).toBe('MISSING_FILE');
    expect(err.path).toBe(GRAPH_SHARDS[1]);
    expect(err.message).toContain(GRAPH_SHARDS[1]);
  });

  it('a changed byte in the second shard: DIGEST_MISMATCH naming that shard', async () => {
    const modelDir = await signedGraphModel();
    const shard = path.join(modelDir, GRAPH_SHARDS[1]);
    const bytes = await fs.readFile(shard);
    bytes[0] ^= 0x80;
    await fs.writeFile(shard, bytes);
    const err = await loadError(() => tf.loadGraphModel(verifiedLoadHandler({ modelDir, verifier })));
    expect(err.code).toBe('DIGEST_MISMATCH');
    expect(err.path).toBe(GRAPH_SHARDS[1]);
  });

  it('a signed file that model.json does not name is still checked', async () => {
    const modelDir = await newDir();
    await writeGraphModel(modelDir);
    await fs.writeFile(path.join(modelDir, 'README.md'), 'tiny graph model');
    await signModel({ modelPath: modelDir, signaturePath: path.join(modelDir, 'model.sig'), signer });
    await fs.writeFile(path.join(modelDir, 'README.md'), 'tiny graph model, edited');
    const err = await loadError(() => tf.loadGraphModel(verifiedLoadHandler({ modelDir, verifier })));
    expect(err.code).toBe('DIGEST_MISMATCH');
    expect(err.path).toBe('README.md');
  });

  it('model.json must be signed even when unsigned files are tolerated', async () => {
    const modelDir = await newDir();
    await writeGraphModel(modelDir);
    await signModel({ modelPath: modelDir, signaturePath: path.join(modelDir, 'model.sig'), signer, ignorePaths: ['model.json'] });
    const err = await loadError(() => tf.loadGraphModel(verifiedLoadHandler({ modelDir, verifier, ignoreUnsignedFiles: true })));
    expect(err.code).toBe('UNSIGNED_FILE');
    expect(err.path).toBe('model.json');
  });

  it('a weight file that model.json names but nobody signed or wrote: NOT_FOUND naming it', async () => {
    const modelDir = await newDir();
    await fs.writeFile(path.join(modelDir, 'model.json'), JSON.stringify(graphModelJson(['never-written.bin'])));
    await signModel({ modelPath: modelDir, signaturePath: path.join(modelDir, 'model.sig'), signer });
    const err = await loadError(() => tf.loadGraphModel(verifiedLoadHandler({ modelDir, verifier })));
    expect(err.code).toBe('NOT_FOUND');
    expect(err.path).toBe('never-written.bin');
  });
});
