// createSignature is the one signing path of signModel and the adapters:
// the same model signed from disk and from bytes in memory gives the same
// manifest, which verifies; onWalked runs before any hashing and can refuse.
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { KeySigner, KeyVerifier, ModelSigningError, verifyModel } from '../dist/index.js';
import { createSignature, writeSignature } from '../dist/internal-node.js';
import { cleanupTempDirs, ecKeyPair, expectCode, tempDir, writeTree } from './helpers.js';

afterEach(cleanupTempDirs);

const FILES: Record<string, string> = { 'model.bin': 'x'.repeat(300), 'sub/config.json': '{"a":1}', 'empty.txt': '' };

describe('createSignature', () => {
  it.each([
    ['files', {}],
    ['shards', { method: 'shards' as const, shardSize: 128, hashAlgorithm: 'blake2b' as const }],
  ])('signs the same manifest from disk and from memory (%s), and it verifies', async (_, settings) => {
    const keys = ecKeyPair();
    const signer = await KeySigner.create({ privateKey: keys.privateKey });
    const model = path.join(await tempDir(), 'my-model');
    await writeTree(model, FILES);
    const fromDisk = await createSignature({ ...settings, signer, walk: { modelPath: model } });
    const bytes = new Map(Object.entries(FILES).map(([name, text]) => [name, new TextEncoder().encode(text)]));
    const fromMemory = await createSignature({
      ...settings,
      signer,
      inMemory: { files: bytes, modelName: 'my-model', ignorePaths: fromDisk.manifest.serialization.ignorePaths },
    });
    expect(fromMemory.manifest).toEqual(fromDisk.manifest);
    expect(fromDisk.walked?.files.map((f) => f.name).sort()).toEqual(Object.keys(FILES).sort());

    const signaturePath = path.join(await tempDir(), 'model.sig');
    await writeSignature(signaturePath, fromMemory.bundle);
    const verified = await verifyModel({
      modelPath: model,
      signaturePath,
      verifier: await KeyVerifier.create({ publicKey: keys.publicKey }),
    });
    expect(verified.files.sort()).toEqual(Object.keys(FILES).sort());
  });

  it('calls onWalked before hashing, so a caller can refuse the layout; names the subject as asked', async () => {
    const signer = await KeySigner.create({ privateKey: ecKeyPair().privateKey });
    const model = await tempDir();
    await writeTree(model, FILES);
    const seen: string[] = [];
    const refused = createSignature({
      signer,
      walk: { modelPath: model },
      onProgress: () => seen.push('hashed'),
      onWalked: (walked) => {
        seen.push(`walked ${walked.files.length}`);
        throw new ModelSigningError({ code: 'INVALID_ARGUMENT', message: 'not this layout' });
      },
    });
    await expectCode(refused, 'INVALID_ARGUMENT');
    expect(seen).toEqual(['walked 3']);
    const named = await createSignature({ signer, walk: { modelPath: model }, modelName: 'final-name' });
    expect(named.manifest.modelName).toBe('final-name');
  });

  it('needs exactly one source, and refuses an empty model', async () => {
    const signer = await KeySigner.create({ privateKey: ecKeyPair().privateKey });
    const model = await tempDir();
    await expectCode(createSignature({ signer }), 'INVALID_ARGUMENT');
    await expectCode(
      createSignature({ signer, walk: { modelPath: model }, inMemory: { files: new Map(), modelName: 'm', ignorePaths: [] } }),
      'INVALID_ARGUMENT',
    );
    await fs.mkdir(path.join(model, 'empty-dir'));
    await expectCode(createSignature({ signer, walk: { modelPath: model } }), 'EMPTY_MODEL');
  });
});
