import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { KeySigner, signModel } from '../dist/index.js';
import { cleanupTempDirs, ecKeyPair, expectCode, tempDir, writeTree } from './helpers.js';

afterEach(cleanupTempDirs);

describe('signModel signaturePath', () => {
  it('refuses the model or a file of it before hashing, and replaces an earlier signature', async () => {
    const model = await tempDir();
    await writeTree(model, { 'weights.bin': 'weights', 'sub/config.json': '{}' });
    const signer = await KeySigner.create({ privateKey: ecKeyPair().privateKey });
    for (const target of ['weights.bin', 'sub/config.json', 'sub', '.']) {
      const err = await expectCode(signModel({ modelPath: model, signer, signaturePath: path.join(model, target) }), 'INVALID_ARGUMENT');
      expect(err.message).toContain('signing would replace it');
    }
    expect(await fs.readFile(path.join(model, 'weights.bin'), 'utf8')).toBe('weights');
    const single = path.join(model, 'weights.bin');
    await expectCode(signModel({ modelPath: single, signer, signaturePath: single }), 'INVALID_ARGUMENT');

    const signaturePath = path.join(model, 'model.sig');
    await signModel({ modelPath: model, signer, signaturePath });
    const first = await fs.readFile(signaturePath, 'utf8');
    const again = await signModel({ modelPath: model, signer, signaturePath });
    expect(again.manifest.resources.map((r) => r.name)).toEqual(['sub/config.json', 'weights.bin']);
    expect(await fs.readFile(signaturePath, 'utf8')).not.toBe(first);
  });
});
