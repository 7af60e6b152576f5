// Downloading only some files of a signed repo (allowPatterns), as
// transformers.js fetches only the files one model variant needs.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectCode, listTree, sha256, tempDir, useSignedRepos } from './helpers.js';

describe('downloading only the files asked for', () => {
  const repos = useSignedRepos('selective');
  const { uploadedRepo, download } = repos;

  it('fetches only the files that paths and patterns select, each verified; the others never leave the hub', async () => {
    const { repo, cacheDir } = await uploadedRepo();
    const result = await download(repo, cacheDir, { allowPatterns: ['config.json', 'weights/', 'tokenizer/vocab.tx?'] });
    const selected = ['config.json', 'tokenizer/vocab.txt', 'weights/extra/part-00001.bin'];
    expect(result.files).toEqual(selected);
    expect(result.downloaded).toEqual(selected);
    expect(await listTree(result.snapshotPath)).toEqual([...selected, 'model.sig'].sort());
    for (const f of selected) expect(sha256(await fs.readFile(path.join(result.snapshotPath, f)))).toBe(sha256(repos.model[f]));
    expect(repos.hub.bytesServed(repo, 'model.safetensors')).toBe(0);

    // `*` crosses `/`, as in huggingface_hub; `[!…]` is a complement.
    const weights = await download(repo, await tempDir('cache'), { allowPatterns: '*.[!j]*' });
    expect(weights.files).toEqual(['empty.txt', 'model.safetensors', 'tokenizer/vocab.txt', 'weights/extra/part-00001.bin']);
  });

  it('a selected file whose bytes differ is refused; an unselected one is never read', async () => {
    const { repo, cacheDir } = await uploadedRepo();
    // Same listed metadata, other bytes: only hashing can tell.
    repos.hub.replaceBytesKeepingMetadata(repo, 'model.safetensors', randomBytes(300_000));
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

    repos.hub.pushCommit(repo, { put: { 'README.md': Buffer.from('# unsigned\n') } });
    repos.hub.resetCounters();
    const unsigned = await expectCode(
      () => download(repo, cacheDir, { allowPatterns: ['README.md'], ignoreUnsignedFiles: true }),
      'UNSIGNED_FILE',
    );
    expect(unsigned.path).toBe('README.md');
    expect(repos.hub.bytesServed(repo)).toBe(repos.hub.bytesServed(repo, 'model.sig'));
    await expectCode(() => download(repo, cacheDir, { allowPatterns: [] }), 'INVALID_ARGUMENT');
    expect(await fs.readdir(cacheDir)).toEqual([]);
  });
});
