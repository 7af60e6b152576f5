import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { KeySigner, KeyVerifier, hashModel, signModel, verifyModel, type Signer } from '../dist/index.js';
import { cleanupTempDirs, expectCode, tempDir, writeTree } from './helpers.js';

afterAll(cleanupTempDirs);

// Cancellation is `abortSignal` across the project (as in huggingface.js),
// the Signer interface included, and it fails with the one ABORTED error.
describe('abortSignal', () => {
  it("reaches a signer's sign() as { abortSignal }", async () => {
    const dir = await tempDir();
    await writeTree(dir, { 'a.bin': 'a' });
    const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const inner = await KeySigner.create({ privateKey: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }) });
    const seen: (AbortSignal | undefined)[] = [];
    const signer: Signer = { method: 'key', sign: (pae, options) => (seen.push(options?.abortSignal), inner.sign(pae)) };
    const controller = new AbortController();
    await signModel({ modelPath: dir, signer, signaturePath: path.join(await tempDir(), 'model.sig'), abortSignal: controller.signal });
    expect(seen).toEqual([controller.signal]);
  });

  it('cancels hashing, signing and verifying', async () => {
    const dir = await tempDir();
    const model = path.join(dir, 'model');
    await writeTree(model, { 'a.bin': 'a'.repeat(1000), 'b/c.bin': 'c' });
    const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const signer = await KeySigner.create({ privateKey: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }) });
    const verifier = await KeyVerifier.create({ publicKey: pair.publicKey.export({ type: 'spki', format: 'pem' }) });
    const signaturePath = path.join(dir, 'model.sig');
    await expectCode(hashModel({ modelPath: model, abortSignal: AbortSignal.abort() }), 'ABORTED');
    await expectCode(signModel({ modelPath: model, signer, signaturePath, abortSignal: AbortSignal.abort() }), 'ABORTED');
    await expect(fs.access(signaturePath)).rejects.toThrow();
    await signModel({ modelPath: model, signer, signaturePath, abortSignal: new AbortController().signal });
    await expectCode(verifyModel({ modelPath: model, verifier, signaturePath, abortSignal: AbortSignal.abort() }), 'ABORTED');
    expect(
      (await verifyModel({ modelPath: model, verifier, signaturePath, abortSignal: new AbortController().signal })).files.sort(),
    ).toEqual(['a.bin', 'b/c.bin']);
  });
});
