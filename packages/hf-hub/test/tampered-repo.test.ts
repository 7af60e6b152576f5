import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { ManifestMismatchError } from '@model-signing/core';
import { describe, expect, it } from 'vitest';
import { uploadSignedModel } from '../src/index.js';
import { TOKEN, expectCode, keyPair, listTree, useSignedRepos } from './helpers.js';

/** Each test gets its own freshly uploaded repo and an empty cache. */
describe('a repo changed on the hub after signing is refused', () => {
  const repos = useSignedRepos('model');
  const { uploadedRepo, download } = repos;

  /** Only the signature's bytes left the hub: not one byte of any model file. */
  const expectNoModelBytesServed = (repo: string) => {
    expect(repos.hub.bytesServed(repo, 'model.sig')).toBeGreaterThan(0);
    expect(repos.hub.bytesServed(repo)).toBe(repos.hub.bytesServed(repo, 'model.sig'));
  };

  it('a weight replaced on the hub: DIGEST_MISMATCH before any weight byte is served', async () => {
    const { repo, cacheDir } = await uploadedRepo();
    repos.hub.pushCommit(repo, { put: { 'model.safetensors': randomBytes(300_000) } });
    const error = await expectCode(() => download(repo, cacheDir), 'DIGEST_MISMATCH');
    expect(error).toBeInstanceOf(ManifestMismatchError);
    expect(error.differences).toEqual([expect.objectContaining({ kind: 'mismatch', name: 'model.safetensors' })]);
    expect(error.message).toContain('model.safetensors');
    expectNoModelBytesServed(repo);
    expect(await fs.readdir(cacheDir)).toEqual([]);
  });

  it('metadata that says one thing and bytes that say another: caught while streaming, cache left clean', async () => {
    const { repo, cacheDir } = await uploadedRepo();
    // Same size, same listed SHA-256 and oid: only the bytes differ.
    repos.hub.replaceBytesKeepingMetadata(repo, 'weights/extra/part-00001.bin', randomBytes(70_000));
    const error = await expectCode(() => download(repo, cacheDir), 'DIGEST_MISMATCH');
    expect(error.differences.map((d) => d.name)).toEqual(['weights/extra/part-00001.bin']);
    expect(error.message).toMatch(/weights\/extra\/part-00001\.bin.*nothing this download wrote was kept/);
    expect(repos.hub.bytesServed(repo, 'weights/extra/part-00001.bin')).toBeGreaterThanOrEqual(70_000);
    expect(await fs.readdir(cacheDir)).toEqual([]);
  });

  it('an extra file on the hub: UNSIGNED_FILE, unless ignoreUnsignedFiles (and then it is not downloaded)', async () => {
    const { repo, cacheDir } = await uploadedRepo();
    repos.hub.pushCommit(repo, { put: { 'backdoor.py': Buffer.from('import os\n') } });
    const error = await expectCode(() => download(repo, cacheDir), 'UNSIGNED_FILE');
    expect(error.differences).toEqual([{ kind: 'unsigned', name: 'backdoor.py' }]);
    expectNoModelBytesServed(repo);
    expect(await fs.readdir(cacheDir)).toEqual([]);

    const result = await download(repo, cacheDir, { ignoreUnsignedFiles: true });
    expect(result.files).toEqual(Object.keys(repos.model).sort());
    expect(repos.hub.bytesServed(repo, 'backdoor.py')).toBe(0);
    expect(await listTree(result.snapshotPath)).not.toContain('backdoor.py');
  });

  it('a signed file deleted on the hub: MISSING_FILE', async () => {
    const { repo, cacheDir } = await uploadedRepo();
    repos.hub.pushCommit(repo, { delete: ['tokenizer/vocab.txt'] });
    const error = await expectCode(() => download(repo, cacheDir), 'MISSING_FILE');
    expect(error.differences).toEqual([{ kind: 'missing', name: 'tokenizer/vocab.txt' }]);
    expectNoModelBytesServed(repo);
    expect(await fs.readdir(cacheDir)).toEqual([]);
  });

  it('the signature missing: NOT_FOUND, nothing downloaded', async () => {
    const { repo, cacheDir } = await uploadedRepo();
    repos.hub.pushCommit(repo, { delete: ['model.sig'] });
    const error = await expectCode(() => download(repo, cacheDir), 'NOT_FOUND');
    expect(error.path).toBe('model.sig');
    expect(repos.hub.bytesServed(repo)).toBe(0);
    expect(await fs.readdir(cacheDir)).toEqual([]);
  });

  it('a signature by another key: KEY_MISMATCH; a signature whose bytes were altered: SIGNATURE_INVALID', async () => {
    const { repo, cacheDir } = await uploadedRepo();
    const other = await keyPair();
    await expectCode(() => download(repo, cacheDir, { verifier: other.verifier }), 'KEY_MISMATCH');
    expectNoModelBytesServed(repo);

    // Re-sign the same files with the other key: the verifier who trusts the first key still refuses.
    const resigned = await uploadedRepo();
    await uploadSignedModel({
      repo: resigned.repo,
      modelPath: repos.modelDir,
      signer: other.signer,
      hubUrl: repos.hub.url,
      accessToken: TOKEN,
    });
    await expectCode(() => download(resigned.repo, resigned.cacheDir), 'KEY_MISMATCH');

    const forged = await uploadedRepo();
    const bundle = JSON.parse(repos.hub.files(forged.repo).get('model.sig')!.data.toString('utf8'));
    const statement = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString('utf8'));
    statement.predicate.resources[0].digest = '0'.repeat(64);
    bundle.dsseEnvelope.payload = Buffer.from(JSON.stringify(statement)).toString('base64');
    repos.hub.pushCommit(forged.repo, { put: { 'model.sig': Buffer.from(JSON.stringify(bundle)) } });
    repos.hub.resetCounters();
    await expectCode(() => download(forged.repo, forged.cacheDir), 'SIGNATURE_INVALID');
    expectNoModelBytesServed(forged.repo);
    expect(await fs.readdir(cacheDir)).toEqual([]);
  });

  it('an object id from the hub that is not a hex id never becomes a cache file name', async () => {
    const { repo, cacheDir } = await uploadedRepo();
    repos.hub.files(repo).get('config.json')!.gitOid = '../../../../outside';
    const error = await expectCode(() => download(repo, cacheDir), 'NETWORK_ERROR');
    expect(error.path).toBe('config.json');
    expectNoModelBytesServed(repo);
    expect(await fs.readdir(cacheDir)).toEqual([]);
  });

  it('a download cut off mid-file leaves nothing unverified, and a retry succeeds', async () => {
    const { repo, cacheDir } = await uploadedRepo();
    repos.hub.cutOffNextDownload(repo, 'model.safetensors', 100_000);
    const error = await expectCode(() => download(repo, cacheDir), 'NETWORK_ERROR');
    expect(error.path).toBe('model.safetensors');
    expect(error.message).toContain('model.safetensors');
    // 100,000 body bytes, plus the one byte of the client's `Range: bytes=0-0` size probe.
    expect(repos.hub.bytesServed(repo, 'model.safetensors')).toBe(100_001);
    expect(await fs.readdir(cacheDir)).toEqual([]);

    const result = await download(repo, cacheDir);
    expect(result.downloaded).toEqual(Object.keys(repos.model).sort());
    expect(await listTree(path.join(cacheDir, 'models--org--' + repo.split('/')[1], 'blobs'))).toHaveLength(
      Object.keys(repos.model).length + 1,
    );
  });

  it('an abort stops the download and cleans up', async () => {
    const { repo, cacheDir } = await uploadedRepo();
    const controller = new AbortController();
    const error = await expectCode(
      () =>
        download(repo, cacheDir, {
          abortSignal: controller.signal,
          onProgress: (p) => {
            if (p.phase === 'downloading') controller.abort();
          },
        }),
      'ABORTED',
    );
    expect(error.message).toMatch(/Cancelled/);
    expect(await fs.readdir(cacheDir)).toEqual([]);
  });
});
