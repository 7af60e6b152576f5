import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { downloadVerifiedModel, uploadSignedModel, verifyHubRepo } from '../src/index.js';
import { FakeHub } from '../src/testing.js';
import { TOKEN, expectCode, keyPair, tempDir, writeModel, removeTempDirs } from './helpers.js';

describe('checking a hub repo without downloading its weights', () => {
  let hub: FakeHub;
  let keys: Awaited<ReturnType<typeof keyPair>>;
  let modelDir: string;
  let model: Record<string, Buffer>;

  beforeAll(async () => {
    hub = await FakeHub.start({ token: TOKEN });
    keys = await keyPair();
    modelDir = await tempDir('model');
    model = await writeModel(modelDir);
  });
  afterAll(async () => {
    await hub.close();
    await removeTempDirs();
  });

  const connection = () => ({ hubUrl: hub.url, accessToken: TOKEN });
  const lfsFiles = ['model.safetensors', 'weights/extra/part-00001.bin'];
  const regularFiles = ['config.json', 'empty.txt', 'tokenizer/vocab.txt'];

  it('hashes every file by default; hashFiles: uncovered / none read fewer bytes and say which files were not hashed', async () => {
    hub.createRepo('org/remote');
    await uploadSignedModel({ repo: 'org/remote', modelPath: modelDir, signer: keys.signer, ...connection() });
    hub.resetCounters();

    const metadata = await verifyHubRepo({ repo: 'org/remote', verifier: keys.verifier, hashFiles: 'none', ...connection() });
    expect(metadata.commit).toBe(hub.head('org/remote'));
    expect(metadata.metadataOnly).toEqual(lfsFiles);
    expect(metadata.unchecked).toEqual(regularFiles);
    expect(metadata.hashed).toEqual([]);
    expect(metadata.bytesChecked).toBe(false);
    expect(metadata.files.find((f) => f.path === 'config.json')).toMatchObject({ checkedBy: 'unchecked' });
    expect(hub.bytesServed('org/remote')).toBe(hub.bytesServed('org/remote', 'model.sig'));

    const uncovered = await verifyHubRepo({ repo: 'org/remote', verifier: keys.verifier, hashFiles: 'uncovered', ...connection() });
    expect(uncovered.hashed).toEqual(regularFiles);
    expect(uncovered.metadataOnly).toEqual(lfsFiles);
    expect(uncovered.bytesChecked).toBe(false);
    for (const f of lfsFiles) expect(hub.bytesServed('org/remote', f)).toBe(0);
    expect(hub.bytesServed('org/remote', 'config.json')).toBeGreaterThanOrEqual(model['config.json'].length);

    const full = await verifyHubRepo({ repo: 'org/remote', verifier: keys.verifier, ...connection() });
    expect(full.bytesChecked).toBe(true);
    expect(full.hashed).toEqual([...lfsFiles, ...regularFiles].sort());
    expect(full.metadataOnly).toEqual([]);
    for (const f of lfsFiles) expect(hub.bytesServed('org/remote', f)).toBeGreaterThanOrEqual(model[f].length);
  });

  it('refuses a replaced weight from its metadata alone, and bytes that differ from honest-looking metadata once hashed', async () => {
    hub.createRepo('org/remote-tampered');
    await uploadSignedModel({ repo: 'org/remote-tampered', modelPath: modelDir, signer: keys.signer, ...connection() });
    hub.pushCommit('org/remote-tampered', { put: { 'config.json': Buffer.from('{"hidden_size": 9}') } });
    // The regular file has no SHA-256 on the hub: only its bytes can tell.
    const report = await verifyHubRepo({ repo: 'org/remote-tampered', verifier: keys.verifier, hashFiles: 'none', ...connection() });
    expect(report.unchecked).toContain('config.json');
    const error = await expectCode(
      () => verifyHubRepo({ repo: 'org/remote-tampered', verifier: keys.verifier, ...connection() }),
      'DIGEST_MISMATCH',
    );
    expect(error.differences.map((d) => d.name)).toEqual(['config.json']);

    hub.pushCommit('org/remote-tampered', { put: { 'model.safetensors': randomBytes(300_000) } });
    hub.resetCounters();
    await expectCode(
      () => verifyHubRepo({ repo: 'org/remote-tampered', verifier: keys.verifier, hashFiles: 'none', ...connection() }),
      'DIGEST_MISMATCH',
    );
    expect(hub.bytesServed('org/remote-tampered')).toBe(hub.bytesServed('org/remote-tampered', 'model.sig'));
  });

  it('metadata that matches the signature proves nothing about the bytes served: only hashing catches them', async () => {
    hub.createRepo('org/remote-lying');
    await uploadSignedModel({ repo: 'org/remote-lying', modelPath: modelDir, signer: keys.signer, ...connection() });
    hub.replaceBytesKeepingMetadata('org/remote-lying', 'model.safetensors', randomBytes(300_000));
    const metadata = await verifyHubRepo({ repo: 'org/remote-lying', verifier: keys.verifier, hashFiles: 'none', ...connection() });
    expect(metadata.metadataOnly).toContain('model.safetensors');
    expect(metadata.bytesChecked).toBe(false);
    const error = await expectCode(
      () => verifyHubRepo({ repo: 'org/remote-lying', verifier: keys.verifier, ...connection() }),
      'DIGEST_MISMATCH',
    );
    expect(error.differences.map((d) => d.name)).toEqual(['model.safetensors']);
  });

  it('checks a pinned revision: the signature, listing and files of that commit, not of the moving branch', async () => {
    hub.createRepo('org/pinned');
    const { commit } = await uploadSignedModel({ repo: 'org/pinned', modelPath: modelDir, signer: keys.signer, ...connection() });
    hub.pushCommit('org/pinned', { put: { 'model.safetensors': randomBytes(300_000) } });
    await expectCode(() => verifyHubRepo({ repo: 'org/pinned', verifier: keys.verifier, ...connection() }), 'DIGEST_MISMATCH');
    const report = await verifyHubRepo({ repo: 'org/pinned', revision: commit.oid, verifier: keys.verifier, ...connection() });
    expect(report.commit).toBe(commit.oid);
    const download = await downloadVerifiedModel({
      repo: 'org/pinned',
      revision: commit.oid,
      verifier: keys.verifier,
      cacheDir: await tempDir('cache'),
      ...connection(),
    });
    expect(download.commit).toBe(commit.oid);
  });

  it('shard signatures: sizes are compared before download, digests while streaming', async () => {
    hub.createRepo('org/shards');
    await uploadSignedModel({
      repo: 'org/shards',
      modelPath: modelDir,
      signer: keys.signer,
      method: 'shards',
      shardSize: 65_536,
      ...connection(),
    });
    const report = await verifyHubRepo({ repo: 'org/shards', verifier: keys.verifier, hashFiles: 'none', ...connection() });
    expect(report.metadataOnly).toEqual(['empty.txt']);
    expect((await verifyHubRepo({ repo: 'org/shards', verifier: keys.verifier, ...connection() })).bytesChecked).toBe(true);
    const cacheDir = await tempDir('cache');
    const result = await downloadVerifiedModel({ repo: 'org/shards', verifier: keys.verifier, cacheDir, ...connection() });
    expect(result.files).toEqual(Object.keys(model).sort());

    // Same listed size, other bytes: only the streamed shard digests can tell.
    hub.replaceBytesKeepingMetadata('org/shards', 'model.safetensors', randomBytes(300_000));
    const freshCache = await tempDir('cache');
    const streamed = await expectCode(
      () => downloadVerifiedModel({ repo: 'org/shards', verifier: keys.verifier, cacheDir: freshCache, ...connection() }),
      'DIGEST_MISMATCH',
    );
    expect(streamed.differences.length).toBeGreaterThan(0);
    expect(streamed.differences.every((d) => d.name.startsWith('model.safetensors:'))).toBe(true);
    expect(await fs.readdir(freshCache)).toEqual([]);

    // Another size: refused from the listing, before any weight byte moves.
    hub.pushCommit('org/shards', { put: { 'model.safetensors': randomBytes(300_001) } });
    hub.resetCounters();
    const error = await expectCode(
      () => downloadVerifiedModel({ repo: 'org/shards', verifier: keys.verifier, cacheDir: freshCache, ...connection() }),
      'DIGEST_MISMATCH',
    );
    expect(error.differences).toEqual([
      expect.objectContaining({ name: 'model.safetensors', expected: '300000 bytes', actual: '300001 bytes' }),
    ]);
    expect(hub.bytesServed('org/shards')).toBe(hub.bytesServed('org/shards', 'model.sig'));
  });
});
