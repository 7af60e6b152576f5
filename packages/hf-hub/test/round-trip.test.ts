import { writeFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { downloadFileToCacheDir, listFiles } from '@huggingface/hub';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { downloadVerifiedModel, uploadSignedModel, verifyCachedModel, type DownloadProgress, type UploadProgress } from '../src/index.js';
import { FakeHub } from '../src/testing.js';
import { TOKEN, expectCode, keyPair, listTree, sha256, tempDir, writeModel, removeTempDirs } from './helpers.js';

describe('upload signed, download verified', () => {
  let hub: FakeHub;
  let keys: Awaited<ReturnType<typeof keyPair>>;
  let modelDir: string;
  let model: Record<string, Buffer>;

  beforeAll(async () => {
    // A page size of 2 makes every listing span several pages.
    hub = await FakeHub.start({ pageSize: 2, token: TOKEN });
    keys = await keyPair();
    modelDir = await tempDir('model');
    model = await writeModel(modelDir);
  });
  afterAll(async () => {
    await hub.close();
    await removeTempDirs();
  });

  it('uploads every model file and the signature in one commit, then downloads a verified snapshot', async () => {
    hub.createRepo('org/tiny');
    const commitsBefore = hub.repos.get('org/tiny')!.commits.size;
    const uploadEvents: UploadProgress['phase'][] = [];
    const uploaded = await uploadSignedModel({
      repo: 'org/tiny',
      modelPath: modelDir,
      signer: keys.signer,
      hubUrl: hub.url,
      accessToken: TOKEN,
      onProgress: (p) => uploadEvents.push(p.phase),
    });
    expect(hub.repos.get('org/tiny')!.commits.size).toBe(commitsBefore + 1);
    expect(uploaded.commit.oid).toBe(hub.head('org/tiny'));
    const onHub = [...hub.files('org/tiny').keys()].sort();
    expect(onHub).toEqual(['.gitattributes', ...Object.keys(model), 'model.sig'].sort());
    expect(uploaded.files).toEqual(Object.keys(model).sort());
    expect(onHub.some((p) => p.startsWith('.git/'))).toBe(false);
    // The weights went through LFS, so the hub lists their SHA-256.
    expect(hub.files('org/tiny').get('model.safetensors')!.lfs?.oid).toBe(sha256(model['model.safetensors']));
    expect(uploadEvents).toEqual(expect.arrayContaining(['hashing', 'signing', 'preuploading', 'uploadingLargeFiles', 'committing']));

    const cacheDir = await tempDir('cache');
    const events: DownloadProgress[] = [];
    const result = await downloadVerifiedModel({
      repo: 'org/tiny',
      verifier: keys.verifier,
      cacheDir,
      hubUrl: hub.url,
      accessToken: TOKEN,
      onProgress: (p) => events.push(p),
    });
    // The listing came in pages of two, following the `Link` header.
    expect(hub.requests.filter((r) => r.includes('/tree/') && r.includes('cursor=')).length).toBeGreaterThan(2);
    const repoFolder = path.join(cacheDir, 'models--org--tiny');
    expect(result.snapshotPath).toBe(path.join(repoFolder, 'snapshots', uploaded.commit.oid));
    expect(result.files).toEqual(Object.keys(model).sort());
    expect(result.downloaded).toEqual(Object.keys(model).sort());
    expect(result.signer.method).toBe('key');
    // Load the files: the bytes are the ones that were signed.
    for (const [name, data] of Object.entries(model)) expect(await fs.readFile(path.join(result.snapshotPath, name))).toEqual(data);
    expect(JSON.parse(await fs.readFile(path.join(result.snapshotPath, 'config.json'), 'utf8'))).toEqual({
      architectures: ['TinyNet'],
      hidden_size: 8,
    });
    expect(await fs.readFile(path.join(repoFolder, 'refs', 'main'), 'utf8')).toBe(uploaded.commit.oid);
    // huggingface_hub's layout: relative links into blobs/ named by the LFS SHA-256 or the git blob id.
    const weights = hub.files('org/tiny').get('weights/extra/part-00001.bin')!;
    expect(await fs.readlink(path.join(result.snapshotPath, 'weights/extra/part-00001.bin'))).toBe(`../../../../blobs/${weights.lfs!.oid}`);
    expect(await fs.readlink(path.join(result.snapshotPath, 'config.json'))).toBe(
      `../../blobs/${hub.files('org/tiny').get('config.json')!.gitOid}`,
    );
    expect(await listTree(path.join(repoFolder, 'blobs'))).not.toContainEqual(expect.stringMatching(/incomplete$/));
    // The hub-created .gitattributes is not part of the model and is not fetched.
    expect(await listTree(result.snapshotPath)).toEqual([...Object.keys(model), 'model.sig'].sort());
    expect(events[0]).toMatchObject({ phase: 'signature-verified', commit: uploaded.commit.oid });
    expect(
      events
        .filter((e) => e.phase === 'file-verified')
        .map((e) => (e as { path: string }).path)
        .sort(),
    ).toEqual(Object.keys(model).sort());

    // The snapshot re-verifies from the cache, through its links into blobs/.
    const again = await verifyCachedModel({ repo: 'org/tiny', cacheDir, verifier: keys.verifier });
    expect(again.files.sort()).toEqual(Object.keys(model).sort());

    // @huggingface/hub finds the files this package cached without downloading them again.
    hub.resetCounters();
    const pointer = await downloadFileToCacheDir({
      repo: 'org/tiny',
      path: 'model.safetensors',
      revision: uploaded.commit.oid,
      cacheDir,
      hubUrl: hub.url,
      accessToken: TOKEN,
    });
    expect(pointer).toBe(path.join(result.snapshotPath, 'model.safetensors'));
    expect(hub.requests).toEqual([]);

    // A second download re-hashes the cached blobs instead of fetching them.
    const second = await downloadVerifiedModel({
      repo: 'org/tiny',
      verifier: keys.verifier,
      cacheDir,
      hubUrl: hub.url,
      accessToken: TOKEN,
    });
    expect(second.reused).toEqual(Object.keys(model).sort());
    expect(second.downloaded).toEqual([]);
    expect(hub.bytesServed('org/tiny')).toBe(hub.bytesServed('org/tiny', 'model.sig'));
  });

  it('takes the token and the endpoint from HF_TOKEN and HF_ENDPOINT', async () => {
    hub.createRepo('org/env');
    vi.stubEnv('HF_TOKEN', TOKEN);
    vi.stubEnv('HF_ENDPOINT', hub.url);
    try {
      await uploadSignedModel({ repo: 'org/env', modelPath: modelDir, signer: keys.signer });
      const result = await downloadVerifiedModel({ repo: 'org/env', verifier: keys.verifier, cacheDir: await tempDir('cache') });
      expect(result.files).toEqual(Object.keys(model).sort());
      // A token in another form is sent as it is; this hub refuses it, and the message says what to check.
      vi.stubEnv('HF_TOKEN', 'not-this-hubs-token');
      const refused = await expectCode(
        () => downloadVerifiedModel({ repo: 'org/env', verifier: keys.verifier, cacheDir: modelDir }),
        'NETWORK_ERROR',
      );
      expect(refused.message).toMatch(/HTTP 401.*access token/);
    } finally {
      vi.unstubAllEnvs();
    }
    // Without credentials the hub refuses, and the message says what to check.
    const error = await expectCode(
      () => downloadVerifiedModel({ repo: 'org/env', verifier: keys.verifier, cacheDir: modelDir, hubUrl: hub.url }),
      'NETWORK_ERROR',
    );
    expect(error.message).toMatch(/HTTP 401.*access token/);
  });

  it('keeps a local model.sig and git files out of the signature and the upload, and honours ignorePaths', async () => {
    hub.createRepo('org/ignores');
    const dir = await tempDir('model');
    await writeModel(dir);
    await fs.writeFile(path.join(dir, 'model.sig'), 'an old signature');
    await fs.writeFile(path.join(dir, 'notes.md'), 'private notes');
    const uploaded = await uploadSignedModel({
      repo: 'org/ignores',
      modelPath: dir,
      signer: keys.signer,
      ignorePaths: ['notes.md'],
      hubUrl: hub.url,
      accessToken: TOKEN,
    });
    expect(uploaded.manifest.resources.map((r) => r.name)).not.toContain('model.sig');
    expect(uploaded.manifest.serialization.ignorePaths).toEqual(expect.arrayContaining(['.git', 'model.sig', 'notes.md']));
    expect(hub.files('org/ignores').has('notes.md')).toBe(false);
    expect(hub.files('org/ignores').get('model.sig')!.data.toString()).not.toBe('an old signature');
    const listed: string[] = [];
    for await (const entry of listFiles({ repo: 'org/ignores', recursive: true, hubUrl: hub.url, accessToken: TOKEN }))
      listed.push(entry.path);
    expect(listed).not.toContain('.git/HEAD');
  });

  it('commits nothing when a model file changes between signing and upload', async () => {
    hub.createRepo('org/racy');
    const dir = await tempDir('model');
    await writeModel(dir);
    const commitsBefore = hub.repos.get('org/racy')!.commits.size;
    const error = await expectCode(
      () =>
        uploadSignedModel({
          repo: 'org/racy',
          modelPath: dir,
          signer: keys.signer,
          hubUrl: hub.url,
          accessToken: TOKEN,
          onProgress: (p) => {
            if (p.phase === 'signing') writeFileSync(path.join(dir, 'model.safetensors'), 'swapped after hashing');
          },
        }),
      'DIGEST_MISMATCH',
    );
    expect(error.differences.map((d) => d.name)).toEqual(['model.safetensors']);
    expect(error.message).toContain('nothing was committed');
    expect(hub.repos.get('org/racy')!.commits.size).toBe(commitsBefore);
  });

  it('says when the repository does not exist, and creates it with createRepo', async () => {
    const error = await expectCode(
      () => uploadSignedModel({ repo: 'org/new', modelPath: modelDir, signer: keys.signer, hubUrl: hub.url, accessToken: TOKEN }),
      'NOT_FOUND',
    );
    expect(error.message).toMatch(/createRepo/);
    const uploaded = await uploadSignedModel({
      repo: 'org/new',
      modelPath: modelDir,
      signer: keys.signer,
      createRepo: true,
      hubUrl: hub.url,
      accessToken: TOKEN,
    });
    expect(uploaded.commit.oid).toBe(hub.head('org/new'));
    // Creating a repository that exists is not an error.
    await uploadSignedModel({
      repo: 'org/new',
      modelPath: modelDir,
      signer: keys.signer,
      createRepo: true,
      hubUrl: hub.url,
      accessToken: TOKEN,
    });
  });

  it('works with a private Hub-compatible server whose tokens do not start with hf_', async () => {
    const privateToken = 'pat-7f3a9c-enterprise';
    const server = await FakeHub.start({ token: privateToken });
    try {
      const connection = { hubUrl: server.url, accessToken: privateToken };
      await uploadSignedModel({ ...connection, repo: 'team/model', modelPath: modelDir, signer: keys.signer, createRepo: true });
      const result = await downloadVerifiedModel({
        ...connection,
        repo: 'team/model',
        verifier: keys.verifier,
        cacheDir: await tempDir('cache'),
      });
      expect(result.files).toEqual(Object.keys(model).sort());
      expect(server.requests.length).toBeGreaterThan(0);
    } finally {
      await server.close();
    }
  });

  it('sends the token to the hub only, never to the storage hosts it hands uploads and downloads to', async () => {
    // A storage host on another origin: it records the Authorization it gets and passes uploads on to the hub's store.
    const seen: { method: string; authorization: string | undefined }[] = [];
    // Assigned once the storage host's URL is known; its handler reads it.
    // eslint-disable-next-line prefer-const
    let target: FakeHub | undefined;
    const storage = http.createServer((req, res) => {
      seen.push({ method: req.method!, authorization: req.headers.authorization });
      if (req.method === 'GET') return void res.end(model['model.safetensors']);
      const chunks: Buffer[] = [];
      req
        .on('data', (c: Buffer) => chunks.push(c))
        .on('end', () => {
          fetch(`${target!.url}${req.url}`, { method: 'PUT', body: Buffer.concat(chunks) }).then(
            (r) => res.writeHead(r.status).end(),
            () => res.writeHead(500).end(),
          );
        });
    });
    await new Promise<void>((resolve) => storage.listen(0, '127.0.0.1', resolve));
    const storageBase = `http://127.0.0.1:${(storage.address() as AddressInfo).port}`;
    target = await FakeHub.start({ token: TOKEN, lfsUploadBase: storageBase });
    try {
      target.createRepo('org/stored');
      // The hub demands the token on every request, so success proves it was sent there.
      await uploadSignedModel({ repo: 'org/stored', modelPath: modelDir, signer: keys.signer, hubUrl: target.url, accessToken: TOKEN });
      expect(seen.filter((s) => s.method === 'PUT').length).toBeGreaterThan(0);
      target.planDownloads('org/stored', 'model.safetensors', () => ({ redirectTo: `${storageBase}/blob` }));
      const result = await downloadVerifiedModel({
        repo: 'org/stored',
        verifier: keys.verifier,
        cacheDir: await tempDir('cache'),
        hubUrl: target.url,
        accessToken: TOKEN,
      });
      expect(result.downloaded).toContain('model.safetensors');
      expect(seen.filter((s) => s.method === 'GET')).toHaveLength(1);
      expect(seen.map((s) => s.authorization)).toEqual(seen.map(() => undefined));
    } finally {
      await target.close();
      await new Promise((resolve) => storage.close(resolve));
    }
  });
});
