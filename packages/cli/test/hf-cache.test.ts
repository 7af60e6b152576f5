import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs, ours, reference, tempDir, writeKeyPair } from './helpers.js';

afterAll(cleanupTempDirs);

// A snapshot that Python's huggingface_hub downloaded is a folder of links
// into the cache repo's blobs/. The reference verifies it with
// --allow_symlinks; so must plain `model-signing verify`.
describe('verify on a Hugging Face cache snapshot', () => {
  it('verifies a snapshot the reference signed, and refuses a link that leaves the cache repo', async () => {
    const work = await tempDir('oms-hf-cache-');
    const repo = path.join(work, 'hub', 'models--org--model');
    const snapshot = path.join(repo, 'snapshots', '5f3c1e0a9b');
    await fs.mkdir(path.join(repo, 'blobs'), { recursive: true });
    await fs.mkdir(snapshot, { recursive: true });
    await fs.writeFile(path.join(repo, 'blobs', '9d1a'), '{"hidden_size": 8}');
    await fs.writeFile(path.join(repo, 'blobs', '7e22'), Buffer.alloc(3000, 1));
    await fs.symlink('../../blobs/9d1a', path.join(snapshot, 'config.json'));
    await fs.symlink('../../blobs/7e22', path.join(snapshot, 'model.safetensors'));
    const keys = await writeKeyPair(work, 'P-256');
    const sig = path.join(work, 'model.sig');

    const signed = await reference(['sign', 'key', snapshot, '--private_key', keys.privateKey, '--signature', sig, '--allow_symlinks']);
    expect(signed.code, signed.stderr).toBe(0);
    const verified = await ours(['verify', 'key', snapshot, '--signature', sig, '--public-key', keys.publicKey, '--allow-symlinks']);
    expect(verified.code, verified.stderr).toBe(0);
    expect(verified.stdout).toBe('Verification succeeded\n');

    await fs.writeFile(path.join(work, 'elsewhere'), 'x');
    await fs.symlink(path.join(work, 'elsewhere'), path.join(snapshot, 'extra.txt'));
    const escaped = await ours(['verify', 'key', snapshot, '--signature', sig, '--public-key', keys.publicKey, '--allow-symlinks']);
    expect(escaped.code).toBe(1);
    expect(escaped.stderr).toMatch(/\[PATH_ESCAPE\].*extra\.txt/);
  });
});
