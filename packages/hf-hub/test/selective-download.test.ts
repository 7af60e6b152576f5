// Downloading only some files of a signed repo (allowPatterns), as
// transformers.js fetches only the files one model variant needs.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { downloadVerifiedModel, uploadSignedModel } from '../src/index.js';
import { FakeHub } from './hub-server.js';
import { TOKEN, expectCode, keyPair, listTree, removeTempDirs, sha256, tempDir, writeModel } from './helpers.js';

describe('downloading only the files asked for', () => {
  let hub: FakeHub;
  let keys: Awaited<ReturnType<typeof keyPair>>;
  let modelDir: string;
  let model: Record<string, Buffer>;
  let repoCount = 0;

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

  async function uploadedRepo(): Promise<{ repo: string; cacheDir: string }> {
    const repo = `org/selective-${++repoCount}`;
    hub.createRepo(repo);
    await uploadSignedModel({ repo, modelPath: modelDir, signer: keys.signer, hubUrl: hub.url, accessToken: TOKEN });
    hub.resetCounters();
    return { repo, cacheDir: await tempDir('cache') };
  }

  const download = (repo: string, cacheDir: string, extra: Partial<Parameters<typeof downloadVerifiedModel>[0]> = {}) =>
    downloadVerifiedModel({ repo, verifier: keys.verifier, cacheDir, hubUrl: hub.url, accessToken: TOKEN, ...extra });

  it('fetches only the files that paths and patterns select, each verified; the others never leave the hub', async () => {
    const { repo, cacheDir } = await uploadedRepo();
    const result = await download(repo, cacheDir, { allowPatterns: ['config.json', 'weights/', 'tokenizer/vocab.tx?'] });
    const selected = ['config.json', 'tokenizer/vocab.txt', 'weights/extra/part-00001.bin'];
    expect(result.files).toEqual(selected);
    expect(result.downloaded).toEqual(selected);
    expect(await listTree(result.snapshotPath)).toEqual([...selected, 'model.sig'].sort());
    for (const f of selected) expect(sha256(await fs.readFile(path.join(result.snapshotPath, f)))).toBe(sha256(model[f]!));
    expect(hub.bytesServed(repo, 'model.safetensors')).toBe(0);

    // `*` crosses `/`, as in huggingface_hub; `[!…]` is a complement.
    const weights = await download(repo, await tempDir('cache'), { allowPatterns: '*.[!j]*' });
    expect(weights.files).toEqual(['empty.txt', 'model.safetensors', 'tokenizer/vocab.txt', 'weights/extra/part-00001.bin']);
  });

  it('a selected file whose bytes differ is refused; an unselected one is never read', async () => {
    const { repo, cacheDir } = await uploadedRepo();
    // Same listed metadata, other bytes: only hashing can tell.
    hub.replaceBytesKeepingMetadata(repo, 'model.safetensors', randomBytes(300_000));
    const ok = await download(repo, cacheDir, { allowPatterns: ['config.json'] });
    expect(ok.files).toEqual(['config.json']);
    const freshCache = await tempDir('cache');
    const error = await expectCode(() => download(repo, freshCache, { allowPatterns: ['model.safetensors'] }), 'DIGEST_MISMATCH');
    expect(await fs.readdir(freshCache)).toEqual([]);
    expect(error.differences.map((d) => d.name)).toEqual(['model.safetensors']);
  });

  it('a path the signature does not cover is refused before any weight byte is served', async () => {
    const { repo, cacheDir } = await uploadedRepo();
    const missing = await expectCode(() => download(repo, cacheDir, { allowPatterns: ['config.json', 'onnx/model.onnx'] }), 'MISSING_FILE');
    expect(missing.message).toContain("'onnx/model.onnx'");

    hub.pushCommit(repo, { put: { 'README.md': Buffer.from('# unsigned\n') } });
    hub.resetCounters();
    const unsigned = await expectCode(() => download(repo, cacheDir, { allowPatterns: ['README.md'], ignoreUnsignedFiles: true }), 'UNSIGNED_FILE');
    expect(unsigned.path).toBe('README.md');
    expect(hub.bytesServed(repo)).toBe(hub.bytesServed(repo, 'model.sig'));
    await expectCode(() => download(repo, cacheDir, { allowPatterns: [] }), 'INVALID_ARGUMENT');
    expect(await fs.readdir(cacheDir)).toEqual([]);
  });
});
