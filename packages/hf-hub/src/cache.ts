import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import fs, { type FileHandle } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ModelSigningError } from '@model-signing/core';
import { abortedError } from '@model-signing/core/internal';
import lockfile from 'proper-lockfile';
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

  /** @param root the cache root; every directory written to must be a real directory below it. */
  constructor(private readonly root: string) {}

  /**
   * Creates `dir` and its parents, recording the ones that did not exist.
   * The cache root itself may sit behind a symlink (a cache moved to another
   * disk), but no directory inside it may: in a shared cache, a planted
   * `snapshots/<commit> -> /elsewhere` would make this call replace files there.
   *
   * @throws {ModelSigningError} `PATH_ESCAPE` when `dir` resolves outside its place in the cache.
   */
  async ensureDir(dir: string): Promise<void> {
    const first = await fs.mkdir(dir, { recursive: true });
    if (first !== undefined) {
      const created: string[] = [];
      for (let d = dir; ; d = path.dirname(d)) {
        created.push(d);
        if (d === first || d === path.dirname(d)) break;
      }
      this.dirs.push(...created.reverse());
    }
    const [realRoot, realDir] = await Promise.all([fs.realpath(this.root), fs.realpath(dir)]);
    const expected = path.join(realRoot, path.relative(this.root, dir));
    if (realDir !== expected) {
      throw new ModelSigningError({
        code: 'PATH_ESCAPE',
        path: dir,
        message: `'${dir}' in the hub cache leads to '${realDir}' through a symlink; refusing to write through it`,
      });
    }
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
 * Creates `file` for writing only if nothing is there: no file, and no
 * symlink either (`O_EXCL` with `O_NOFOLLOW`), so a link planted in a shared
 * cache can never redirect the write outside it.
 */
export async function createExclusive(file: string): Promise<FileHandle> {
  return fs.open(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o644);
}

/**
 * Opens an existing regular file for reading without following a symlink at
 * `file`; `undefined` when there is none (or something else is there).
 */
export async function openRegularFile(file: string): Promise<FileHandle | undefined> {
  const handle = await fs.open(file, constants.O_RDONLY | constants.O_NOFOLLOW).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT' || e.code === 'ELOOP') return undefined;
    throw e;
  });
  if (handle && !(await handle.stat()).isFile()) {
    await handle.close();
    return undefined;
  }
  return handle;
}

/**
 * A temporary name next to `target` that no other writer (another call,
 * another process, huggingface_hub's resumable `<etag>.incomplete`) uses.
 */
export function temporaryName(target: string): string {
  return `${target}.${randomBytes(8).toString('hex')}.incomplete`;
}

/** Writes all of `chunk` (a single write may write less). */
export async function writeAll(handle: FileHandle, chunk: Uint8Array): Promise<void> {
  for (let offset = 0; offset < chunk.length;) offset += (await handle.write(chunk, offset)).bytesWritten;
}

/**
 * Writes `target` whole or not at all: into a fresh temporary file, then
 * renamed over `target`. The rename is the only publication step, and it
 * replaces a symlink at `target` instead of writing through it.
 */
export async function writeFileAtomic(target: string, bytes: Uint8Array, writes: CacheWrites): Promise<void> {
  if (!(await exists(target))) writes.add(target);
  const temporary = temporaryName(target);
  writes.add(temporary);
  const handle = await createExclusive(temporary);
  try {
    await writeAll(handle, bytes);
  } finally {
    await handle.close();
  }
  await fs.rename(temporary, target);
  writes.forget(temporary);
}

/** A dead holder's lock is taken over after this long without a refresh; a live holder refreshes it every half of it. */
const LOCK_STALE_MS = 20_000;

/** Parameters of {@link lockBlobs}. */
export interface LockBlobsParams {
  cacheDir: string;
  repoFolder: string;
  /** Blob names (etags) to lock; locked in sorted order so that two callers cannot deadlock. */
  etags: readonly string[];
  /** Give up waiting for a lock after this long. */
  timeoutMs: number;
  signal: AbortSignal;
  /** Called when a held lock is lost (its directory removed, or not refreshed in time); the caller must stop. */
  onLost: (error: ModelSigningError) => void;
  /** Records the lock folders created, so that a failed call can remove them. */
  dirs: CacheWrites;
  /** Called once, when a lock is found held by another download and the wait begins. */
  onWait: () => void;
}

/** Held locks; {@link BlobLocks.release} never throws. */
export interface BlobLocks {
  release(): Promise<void>;
}

/**
 * Locks blobs of one repo across calls and processes, as huggingface_hub
 * does under `<cache>/.locks/<repo folder>/`: each lock is a directory
 * `<etag>.model-signing.lock` created atomically (proper-lockfile), kept fresh
 * while held, and taken over when its holder died. The name differs from
 * huggingface_hub's `<etag>.lock`, which is a `flock`ed file this package
 * cannot share. Waiting is bounded by `timeoutMs`.
 *
 * @throws {ModelSigningError} `LOCK_TIMEOUT`, `ABORTED`, `WRITE_FAILED`.
 */
export async function lockBlobs(params: LockBlobsParams): Promise<BlobLocks> {
  const dir = path.join(params.cacheDir, '.locks', path.basename(params.repoFolder));
  const releases: (() => Promise<void>)[] = [];
  const release = async () => {
    for (const r of releases.splice(0).reverse()) await r().catch(() => undefined);
  };
  const deadline = Date.now() + params.timeoutMs;
  let waited = false;
  try {
    for (const etag of [...new Set(params.etags)].sort()) {
      const target = path.join(dir, `${etag}.model-signing`);
      for (let wait = 50; ; wait = Math.min(wait * 2, 1000)) {
        params.signal.throwIfAborted();
        const outcome = await params.dirs
          .ensureDir(dir)
          .then(() =>
            lockfile.lock(target, {
              realpath: false,
              stale: LOCK_STALE_MS,
              retries: 0,
              onCompromised: (cause) =>
                params.onLost(
                  new ModelSigningError({
                    code: 'WRITE_FAILED',
                    cause,
                    message: `Lost the cache lock ${target}.lock while writing; another process may have taken it over`,
                  }),
                ),
            }),
          )
          .catch((e: NodeJS.ErrnoException) => {
            if (e.code === 'ELOCKED') return 'held' as const;
            // A failing download removed the empty lock folder meanwhile; make it again.
            if (e.code === 'ENOENT') return 'removed' as const;
            throw e;
          });
        if (typeof outcome === 'function') {
          releases.push(outcome);
          break;
        }
        if (Date.now() >= deadline) {
          throw new ModelSigningError({
            code: 'LOCK_TIMEOUT',
            message: `Another download has held ${target}.lock for more than ${Math.round(params.timeoutMs / 1000)} s; try again when it is done (a lock whose holder died is taken over after ${LOCK_STALE_MS / 1000} s)`,
          });
        }
        if (outcome === 'held' && !waited) params.onWait();
        waited ||= outcome === 'held';
        await sleep(Math.min(wait, Math.max(deadline - Date.now(), 0)), undefined, { signal: params.signal });
      }
    }
  } catch (cause) {
    await release();
    if (cause instanceof ModelSigningError) throw cause;
    if (params.signal.aborted) throw abortedError(params.signal, { doing: 'waiting for the cache lock', cause });
    throw new ModelSigningError({
      code: 'WRITE_FAILED',
      cause,
      message: `Could not lock the cache under ${dir}: ${(cause as Error).message}`,
    });
  }
  return { release };
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
