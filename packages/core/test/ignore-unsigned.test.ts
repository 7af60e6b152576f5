import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { KeySigner, KeyVerifier, signModel, verifyModel } from '../dist/index.js';
import { cleanupTempDirs, ecKeyPair, expectCode, tempDir, writeTree } from './helpers.js';

afterEach(cleanupTempDirs);

describe('verifyModel with ignoreUnsignedFiles', () => {
  it('looks only at signed files: unsigned symlinks, FIFOs and non-UTF-8 names are no error, as in the reference', async () => {
    const model = await tempDir();
    await writeTree(model, { 'w.bin': 'w', 'sub/x.bin': 'x' });
    const keys = ecKeyPair();
    const signaturePath = path.join(await tempDir(), 'model.sig');
    await signModel({ modelPath: model, signaturePath, signer: await KeySigner.create({ privateKey: keys.privateKey }) });
    const verifier = await KeyVerifier.create({ publicKey: keys.publicKey });

    const outside = await tempDir();
    fs.writeFileSync(path.join(outside, 'secret'), 's');
    fs.symlinkSync(path.join(outside, 'secret'), path.join(model, 'escape'));
    execFileSync('mkfifo', [path.join(model, 'sub/pipe')]);
    fs.writeFileSync(Buffer.concat([Buffer.from(path.join(model, 'bad-')), Buffer.from([0xff])]), 'n');

    const result = await verifyModel({ modelPath: model, signaturePath, verifier, ignoreUnsignedFiles: true });
    expect(result.files.sort()).toEqual(['sub/x.bin', 'w.bin']);
    // Without it, the walk still examines (and refuses) everything; which refusal comes first varies.
    const strict = await verifyModel({ modelPath: model, signaturePath, verifier }).catch((e: { code: string }) => e);
    expect(['SYMLINK_REFUSED', 'SPECIAL_FILE', 'INVALID_FILE_NAME']).toContain((strict as { code: string }).code);

    // Signed files are still checked: a changed or missing one fails.
    fs.writeFileSync(path.join(model, 'sub/x.bin'), 'changed');
    await expectCode(verifyModel({ modelPath: model, signaturePath, verifier, ignoreUnsignedFiles: true }), 'DIGEST_MISMATCH');
    fs.rmSync(path.join(model, 'sub/x.bin'));
    await expectCode(verifyModel({ modelPath: model, signaturePath, verifier, ignoreUnsignedFiles: true }), 'MISSING_FILE');
  });
});
