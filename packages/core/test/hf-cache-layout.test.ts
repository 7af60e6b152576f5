import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { walkModel } from '../dist/internal-node.js';
import { hubCacheRepoFolder } from '../dist/internal-node.js';
import { cleanupTempDirs, expectCode, tempDir } from './helpers.js';

afterAll(cleanupTempDirs);

/**
 * The layout huggingface_hub writes: bytes in `<repo>/blobs/<hash>`, and a
 * snapshot of relative links to them. Returns the snapshot directory.
 */
async function hubCache(root: string, repo = 'models--org--model'): Promise<string> {
  const blobs = path.join(root, repo, 'blobs');
  const snapshot = path.join(root, repo, 'snapshots', '0123abcd');
  await fs.mkdir(blobs, { recursive: true });
  await fs.mkdir(path.join(snapshot, 'tokenizer'), { recursive: true });
  await fs.writeFile(path.join(blobs, 'aaa'), '{"hidden": 8}');
  await fs.writeFile(path.join(blobs, 'bbb'), 'vocab');
  await fs.symlink('../../blobs/aaa', path.join(snapshot, 'config.json'));
  await fs.symlink('../../../blobs/bbb', path.join(snapshot, 'tokenizer', 'vocab.txt'));
  return snapshot;
}

/** The walk options a Hugging Face cache snapshot needs: links may resolve inside its cache repo folder. */
async function snapshotWalk(snapshot: string) {
  const repoFolder = await hubCacheRepoFolder(snapshot);
  return { modelPath: snapshot, allowSymlinks: true, ...(repoFolder !== undefined ? { symlinkTargetRoot: repoFolder } : {}) };
}

describe('walking a Hugging Face cache snapshot (hubCacheRepoFolder)', () => {
  it("follows links into the same cache repo's blobs", async () => {
    const snapshot = await hubCache(await tempDir());
    expect(await hubCacheRepoFolder(snapshot)).toBe(await fs.realpath(path.dirname(path.dirname(snapshot))));
    const walked = await walkModel(await snapshotWalk(snapshot));
    expect(walked.files.map((f) => [f.name, f.size]).sort()).toEqual([
      ['config.json', 13],
      ['tokenizer/vocab.txt', 5],
    ]);
  });

  it('still refuses every link without allowSymlinks', async () => {
    const snapshot = await hubCache(await tempDir());
    await expectCode(walkModel({ modelPath: snapshot }), 'SYMLINK_REFUSED');
  });

  it("refuses links into another repo's blobs, or anywhere else outside the snapshot", async () => {
    const root = await tempDir();
    const snapshot = await hubCache(root);
    await hubCache(root, 'models--org--other');
    await fs.symlink('../../../models--org--other/blobs/aaa', path.join(snapshot, 'other.json'));
    expect((await expectCode(walkModel(await snapshotWalk(snapshot)), 'PATH_ESCAPE')).path).toBe('other.json');
    await fs.rm(path.join(snapshot, 'other.json'));
    await fs.writeFile(path.join(root, 'secret'), 'x');
    await fs.symlink(path.join(root, 'secret'), path.join(snapshot, 'secret'));
    expect((await expectCode(walkModel(await snapshotWalk(snapshot)), 'PATH_ESCAPE')).path).toBe('secret');
  });

  it('gives a directory that only looks like a cache no such licence', async () => {
    const root = await tempDir();
    const model = path.join(root, 'snapshots', 'v1'); // no models--… repo folder above it
    await fs.mkdir(path.join(root, 'blobs'), { recursive: true });
    await fs.mkdir(model, { recursive: true });
    await fs.writeFile(path.join(root, 'blobs', 'aaa'), 'x');
    await fs.symlink('../../blobs/aaa', path.join(model, 'config.json'));
    expect(await hubCacheRepoFolder(model)).toBeUndefined();
    await expectCode(walkModel(await snapshotWalk(model)), 'PATH_ESCAPE');
  });
});
