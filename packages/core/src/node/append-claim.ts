// Appending a line to a claims file on disk, whole or not at all, one writer
// at a time across processes.
import fs from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { abortedError, throwIfAborted } from '../cancellation.js';
import { ModelSigningError } from '../errors.js';
import { serializeBundle, type SerializedBundle } from '../format/bundle.js';
import { TEMPORARY_PREFIX, removeStaleTemporaries, temporaryName } from './temporary.js';

/** Whether a signature path selects the claims layout (JSON Lines, appended): its name ends in `.jsonl`. */
export function isClaimsPath(signaturePath: string): boolean {
  return signaturePath.endsWith('.jsonl');
}

/** Options for {@link appendClaim}. */
export interface AppendClaimOptions {
  /** Cancels the operation: it rejects with a `ModelSigningError` coded `ABORTED`. */
  abortSignal?: AbortSignal;
  /** Give up waiting for another writer's lock after this long (`LOCK_TIMEOUT`). Default 60 s. */
  lockTimeoutMs?: number;
  /** A lock not refreshed for this long belongs to a writer that died (kill -9) and is taken over. Default 10 s; at least 2 s. */
  lockStaleMs?: number;
}

/** The outcome of {@link appendClaim}. */
export interface AppendedClaim {
  /** The file did not exist before. */
  created: boolean;
}

const DEFAULT_LOCK_TIMEOUT_MS = 60_000;
const DEFAULT_LOCK_STALE_MS = 10_000;

function writeFailed(target: string, cause: unknown, why?: string): ModelSigningError {
  const reason = why ?? (cause as Error).message.split(', ')[0];
  return new ModelSigningError({ code: 'WRITE_FAILED', path: target, cause, message: `Could not append to '${target}': ${reason}` });
}

/**
 * Appends one bundle to a claims file as one compact, newline-terminated
 * line (creating the file), atomically: the current file is copied to a
 * temporary file beside it, the line added and flushed, and the copy renamed
 * over the file. A writer killed at any point leaves the file as it was or
 * with the whole line, never half a line; a file whose last line lacks its
 * newline (cut short by another tool) gets one first, so the new line stays
 * whole. Writers in other processes wait for each other on a lock beside the
 * file (`.oms-tmp-lock-<name>`, which walks never list); the lock of a writer
 * that died is taken over once stale.
 *
 * @throws {ModelSigningError} `SPECIAL_FILE` (the path is not a regular file),
 *   `LOCK_TIMEOUT`, `WRITE_FAILED`, `ABORTED`.
 */
export async function appendClaim(claimsPath: string, bundle: SerializedBundle, options: AppendClaimOptions = {}): Promise<AppendedClaim> {
  const line = serializeBundle(bundle);
  const target = path.resolve(claimsPath);
  const dir = path.dirname(target);
  const release = await lock(target, options);
  let lost: ModelSigningError | undefined;
  release.onLost((error) => (lost = error));
  const temporary = path.join(dir, temporaryName(path.basename(target)));
  try {
    await removeStaleTemporaries(dir);
    const existing = await fs.stat(target).catch((cause: NodeJS.ErrnoException) => {
      if (cause.code === 'ENOENT') return undefined;
      throw writeFailed(claimsPath, cause);
    });
    if (existing && !existing.isFile()) {
      throw new ModelSigningError({
        code: 'SPECIAL_FILE',
        path: claimsPath,
        message: `'${claimsPath}' is not a regular file (a directory, FIFO, socket or device); refusing to append to it`,
      });
    }
    try {
      if (existing) await fs.copyFile(target, temporary, fs.constants.COPYFILE_EXCL);
      const handle = await fs.open(temporary, existing ? 'a+' : 'wx', 0o644);
      try {
        const newline = existing && existing.size > 0 && !(await endsWithNewline(handle, existing.size)) ? '\n' : '';
        await handle.writeFile(`${newline}${line}\n`);
        await handle.sync();
      } finally {
        await handle.close();
      }
      throwIfAborted(options.abortSignal, { path: claimsPath, doing: `appending to '${claimsPath}'` });
      if (lost) throw lost;
      await fs.rename(temporary, target);
    } catch (cause) {
      if (cause instanceof ModelSigningError) throw cause;
      if (options.abortSignal?.aborted)
        throw abortedError(options.abortSignal, { path: claimsPath, doing: `appending to '${claimsPath}'`, cause });
      throw writeFailed(claimsPath, cause);
    }
    return { created: existing === undefined };
  } finally {
    await fs.rm(temporary, { force: true }).catch(() => undefined);
    await release();
  }
}

async function endsWithNewline(handle: fs.FileHandle, size: number): Promise<boolean> {
  const last = new Uint8Array(1);
  await handle.read(last, 0, 1, size - 1);
  return last[0] === 0x0a;
}

interface HeldLock {
  (): Promise<void>;
  onLost(listener: (error: ModelSigningError) => void): void;
}

/** Takes the lock on `target` across processes, waiting at most `lockTimeoutMs`. */
async function lock(target: string, options: AppendClaimOptions): Promise<HeldLock> {
  const signal = options.abortSignal;
  const timeoutMs = options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS;
  const stale = Math.max(options.lockStaleMs ?? DEFAULT_LOCK_STALE_MS, 2000);
  const lockfilePath = path.join(path.dirname(target), `${TEMPORARY_PREFIX}lock-${path.basename(target)}`);
  let listener: ((error: ModelSigningError) => void) | undefined;
  const deadline = Date.now() + timeoutMs;
  // Loaded here, not with the package: it loads graceful-fs, which wraps every
  // function of the process's `fs` (every hashed file's close included).
  const { default: lockfile } = await import('proper-lockfile');
  for (let wait = 20; ; wait = Math.min(wait * 2, 500)) {
    throwIfAborted(signal, { path: target, doing: 'waiting for the claims file lock' });
    const release = await lockfile
      .lock(target, {
        lockfilePath,
        realpath: false,
        stale,
        retries: 0,
        onCompromised: (cause) =>
          listener?.(writeFailed(target, cause, 'another writer took over its lock (this one stalled for longer than the stale time)')),
      })
      .catch((cause: NodeJS.ErrnoException) => {
        if (cause.code === 'ELOCKED') return undefined;
        throw writeFailed(target, cause, `cannot lock it (${cause.code ?? cause.message})`);
      });
    if (release) {
      const held = (() => release().catch(() => undefined)) as HeldLock;
      held.onLost = (l) => (listener = l);
      return held;
    }
    if (Date.now() >= deadline) {
      throw new ModelSigningError({
        code: 'LOCK_TIMEOUT',
        path: target,
        message: `Another writer has held the lock on '${target}' for more than ${Math.round(timeoutMs / 1000)} s (${lockfilePath}; a dead writer's lock is taken over after ${stale / 1000} s)`,
      });
    }
    await sleep(Math.min(wait, Math.max(deadline - Date.now(), 0)));
  }
}
