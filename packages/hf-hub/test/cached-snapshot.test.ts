import fs from 'node:fs/promises';
import path from 'node:path';
import { snapshotDownload } from '@huggingface/hub';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { downloadVerifiedModel, uploadSignedModel, verifyCachedModel } from '../src/index.js';
import { FakeHub } from '../src/testing.js';
import { TOKEN, expectCode, keyPair, tempDir, writeModel, removeTempDirs } from './helpers.js';

describe('re-verifying a cached snapshot', () => {
  let hub: FakeHub;
  let keys: Awaited<ReturnType<typeof keyPair>>;
  let model: Record<string, Buffer>;
  const repo = 'org/cached';

  beforeAll(async () => {
    hub = await FakeHub.start({ token: TOKEN });
    keys = await keyPair();
    const modelDir = await tempDir('model');
    model = await writeModel(modelDir);
    hub.createRepo(repo);
    await uploadSignedModel({ repo, modelPath: modelDir, signer: keys.signer, hubUrl: hub.url, accessToken: TOKEN });
  });
  afterAll(async () => {
    await hub.close();
    await removeTempDirs();
  });

  const connection = () => ({ hubUrl: hub.url, accessToken: TOKEN });

  it('verifies a snapshot this package wrote; a blob edited afterwards fails; downloading again repairs it', async () => {
    const cacheDir = await tempDir('cache');
    const { snapshotPath, commit } = await downloadVerifiedModel({ repo, verifier: keys.verifier, cacheDir, ...connection() });
    const byBranch = await verifyCachedModel({ repo, cacheDir, verifier: keys.verifier });
    expect(byBranch.commit).toBe(commit);
    expect(byBranch.snapshotPath).toBe(snapshotPath);
    expect((await verifyCachedModel({ repo, revision: commit, cacheDir, verifier: keys.verifier })).files.sort()).toEqual(
      Object.keys(model).sort(),
    );

    // Edit the weight's blob in place, as a careless tool or an attacker with disk access would.
    const blob = await fs.realpath(path.join(snapshotPath, 'model.safetensors'));
    const bytes = await fs.readFile(blob);
    bytes[1234] = bytes[1234] ^ 0xff;
    await fs.writeFile(blob, bytes);
    const error = await expectCode(() => verifyCachedModel({ repo, cacheDir, verifier: keys.verifier }), 'DIGEST_MISMATCH');
    expect(error.differences.map((d) => d.name)).toEqual(['model.safetensors']);

    // A download notices the bad blob, fetches the file again and replaces it.
    const repaired = await downloadVerifiedModel({ repo, verifier: keys.verifier, cacheDir, ...connection() });
    expect(repaired.downloaded).toEqual(['model.safetensors']);
    expect(repaired.reused).toEqual(
      Object.keys(model)
        .filter((f) => f !== 'model.safetensors')
        .sort(),
    );
    expect(await fs.readFile(blob)).toEqual(model['model.safetensors']);
    await verifyCachedModel({ repo, cacheDir, verifier: keys.verifier });
  });

  it('refuses a snapshot link that leaves the repo folder, even to identical bytes', async () => {
    const cacheDir = await tempDir('cache');
    const { snapshotPath } = await downloadVerifiedModel({ repo, verifier: keys.verifier, cacheDir, ...connection() });
    const outside = path.join(cacheDir, 'elsewhere.bin');
    await fs.writeFile(outside, model['model.safetensors']);
    const link = path.join(snapshotPath, 'model.safetensors');
    await fs.rm(link);
    await fs.symlink(path.relative(path.dirname(link), outside), link);
    const error = await expectCode(() => verifyCachedModel({ repo, cacheDir, verifier: keys.verifier }), 'PATH_ESCAPE');
    expect(error.path).toBe('model.safetensors');
  });

  it('verifies a snapshot that @huggingface/hub downloaded, with no verification of its own', async () => {
    const cacheDir = await tempDir('cache');
    const quiet = vi.spyOn(console, 'debug').mockImplementation(() => undefined); // the client logs every file it fetches
    const snapshotPath = await snapshotDownload({ repo, cacheDir, ...connection() }).finally(() => quiet.mockRestore());
    // That snapshot also holds the hub's .gitattributes, which is not part of the model.
    expect(await fs.readdir(snapshotPath)).toContain('.gitattributes');
    const result = await verifyCachedModel({ repo, cacheDir, verifier: keys.verifier });
    expect(result.snapshotPath).toBe(snapshotPath);
    expect(result.files.sort()).toEqual(Object.keys(model).sort());
  });

  it('says when the revision is not in the cache', async () => {
    const cacheDir = await tempDir('cache');
    const error = await expectCode(() => verifyCachedModel({ repo, revision: 'v1.0', cacheDir, verifier: keys.verifier }), 'NOT_FOUND');
    expect(error.message).toMatch(/'v1\.0'.*not in the cache/);
    await expectCode(() => verifyCachedModel({ repo, revision: '../../etc', cacheDir, verifier: keys.verifier }), 'INVALID_ARGUMENT');
  });
});
