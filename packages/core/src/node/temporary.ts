import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';

/**
 * Prefix of every temporary file and folder this library and its adapters
 * create beside a model or a signature (atomic writes, save staging). The walk
 * never lists names that start with it, so a leftover from a killed process
 * is neither signed nor reported as unsigned, and later writes into the same
 * folder remove it once the process that made it is gone.
 */
export const TEMPORARY_PREFIX = '.oms-tmp-';

/** Whether a file or folder name (its last component) is one of our temporaries. */
export function isTemporaryName(name: string): boolean {
  return name.startsWith(TEMPORARY_PREFIX);
}

/**
 * A fresh, unpredictable temporary name: the prefix, this process's id (so a
 * later run can tell a leftover from work in progress), random bytes and
 * `hint` (what it is for, to help whoever finds it).
 */
export function temporaryName(hint: string): string {
  return `${TEMPORARY_PREFIX}${process.pid}-${randomBytes(8).toString('hex')}-${hint}`;
}

function ownerIsGone(name: string): boolean {
  const pid = Number(/^(\d+)-/.exec(name.slice(TEMPORARY_PREFIX.length))?.[1]);
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    // EPERM: the process runs, as another user.
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/**
 * Removes the temporaries in `dir` whose creating process no longer runs
 * (left by a crash or `kill -9`). Best effort: an unreadable folder or a
 * leftover that cannot be removed is left alone, since the walk ignores
 * them anyway. A process id reused since, or one from another machine or
 * container sharing the folder, keeps its leftover in place.
 */
export async function removeStaleTemporaries(dir: string): Promise<void> {
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch {
    return;
  }
  const stale = names.filter((name) => isTemporaryName(name) && ownerIsGone(name));
  await Promise.all(stale.map((name) => fs.rm(path.join(dir, name), { recursive: true, force: true }).catch(() => undefined)));
}
