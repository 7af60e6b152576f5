import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ModelSigningError } from '@model-signing/core';
import type { RepoId } from './hub.js';

/**
 * The hub cache directory, chosen as huggingface_hub and @huggingface/hub
 * choose it: `cacheDir`, else `HF_HUB_CACHE`, `HUGGINGFACE_HUB_CACHE`,
 * `$HF_HOME/hub`, `$XDG_CACHE_HOME/huggingface/hub`, `~/.cache/huggingface/hub`.
 */
export function resolveHubCacheDir(cacheDir?: string): string {
  const env = process.env;
  const home = env['HF_HOME'] ?? path.join(env['XDG_CACHE_HOME'] ?? path.join(os.homedir(), '.cache'), 'huggingface');
  return path.resolve(cacheDir ?? env['HF_HUB_CACHE'] ?? env['HUGGINGFACE_HUB_CACHE'] ?? path.join(home, 'hub'));
}

/** The repo's folder in the cache: `models--org--name` (or `datasets--…`, `spaces--…`). */
export function repoCacheFolder(cacheDir: string, repo: RepoId): string {
  return path.join(cacheDir, [`${repo.type}s`, ...repo.name.split('/')].join('--'));
}

/**
 * A revision names a file under `refs/`, so it must stay a plain relative path.
 *
 * @throws {ModelSigningError} `INVALID_ARGUMENT`.
 */
export function checkRevision(revision: string): void {
  const parts = revision.split('/');
  if (revision === '' || parts.some((p) => p === '' || p === '.' || p === '..') || revision.includes('\\') || revision.includes('\0')) {
    throw new ModelSigningError({ code: 'INVALID_ARGUMENT', message: `'${revision}' is not a valid revision (branch, tag or commit id)` });
  }
}

/**
 * Remembers every file and directory one call writes into the cache, so a
 * failure can take them all back and leave nothing unverified behind.
 * Paths that existed before the call are never recorded, hence never removed.
 */
export class CacheWrites {
  private readonly files = new Set<string>();
  private readonly dirs: string[] = [];

  /** Creates `dir` and its parents, recording the ones that did not exist. */
  async ensureDir(dir: string): Promise<void> {
    const first = await fs.mkdir(dir, { recursive: true });
    if (first === undefined) return;
    const created: string[] = [];
    for (let d = dir; ; d = path.dirname(d)) {
      created.push(d);
      if (d === first || d === path.dirname(d)) break;
    }
    this.dirs.push(...created.reverse());
  }

  /** Records a file or link this call created. */
  add(file: string): void {
    this.files.add(file);
  }

  /** Forgets a path (renamed away, or now a kept result). */
  forget(file: string): void {
    this.files.delete(file);
  }

  /** Removes everything recorded, deepest directories last. Never throws. */
  async rollback(): Promise<string[]> {
    const left: string[] = [];
    for (const file of this.files) await fs.rm(file, { force: true }).catch(() => left.push(file));
    for (const dir of [...this.dirs].reverse()) {
      // A directory someone else filled meanwhile stays.
      await fs.rmdir(dir).catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' || e.code === 'ENOTEMPTY' ? undefined : left.push(dir)));
    }
    this.files.clear();
    this.dirs.length = 0;
    return left;
  }
}

/** Whether a path exists, without following a final symlink. */
export async function exists(p: string): Promise<boolean> {
  return fs.lstat(p).then(
    () => true,
    () => false,
  );
}

/**
 * Points `pointer` at `blob` with a relative link, as huggingface_hub does
 * (`snapshots/<commit>/a/b.bin -> ../../../blobs/<etag>`), replacing whatever
 * else was there. A link that is already right is left alone.
 */
export async function linkSnapshotFile(pointer: string, blob: string, writes: CacheWrites): Promise<void> {
  await writes.ensureDir(path.dirname(pointer));
  const target = path.relative(path.dirname(pointer), blob);
  const current = await fs.readlink(pointer).catch(() => undefined);
  if (current === target) return;
  await fs.rm(pointer, { force: true });
  await fs.symlink(target, pointer);
  writes.add(pointer);
}
