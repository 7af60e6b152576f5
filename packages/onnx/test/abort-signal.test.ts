import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createVerifiedSession, saveSignedModel } from '../src/index.js';
import { buildModel, keyPair, runModel, tempDir, EXPECTED } from './fixtures.js';

// Cancellation is `abortSignal` across the project (as in huggingface.js).
describe('abortSignal', () => {
  it('cancels a save and a verified load; a live one lets both finish', async () => {
    const { signer, verifier } = await keyPair();
    const dir = path.join(await tempDir(), 'model');
    await expect(saveSignedModel(dir, { model: buildModel(), signer, abortSignal: AbortSignal.abort() })).rejects.toMatchObject({
      code: 'ABORTED',
    });
    await saveSignedModel(dir, { model: buildModel(), signer, abortSignal: new AbortController().signal });
    await expect(createVerifiedSession({ modelPath: dir, verifier, abortSignal: AbortSignal.abort() })).rejects.toMatchObject({
      code: 'ABORTED',
    });
    const session = await createVerifiedSession({ modelPath: dir, verifier, abortSignal: new AbortController().signal });
    expect(await runModel(session)).toEqual(EXPECTED);
  });
});
