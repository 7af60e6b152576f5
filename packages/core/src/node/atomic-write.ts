import fs from 'node:fs/promises';
import path from 'node:path';
import { ModelSigningError } from '../errors.js';
import { removeStaleTemporaries, temporaryName } from './temporary.js';

/**
 * Writes a file atomically: the bytes go to a temporary file beside the
 * target, are flushed, and are renamed over it. A crash or error leaves
 * either the old file or the new one, never a partial one. The temporary
 * file's name starts with `TEMPORARY_PREFIX`, so a walk never lists
 * it, and leftovers of killed processes in the folder are removed first.
 * `data` may come in parts (written one after the other), so a large file
 * need not be one string or buffer.
 *
 * @throws {ModelSigningError} `WRITE_FAILED`.
 */
export async function writeFileAtomic(target: string, data: string | Uint8Array | Iterable<string | Uint8Array>): Promise<void> {
  const dir = path.dirname(path.resolve(target));
  const temp = path.join(dir, temporaryName(path.basename(target)));
  try {
    await removeStaleTemporaries(dir);
    const handle = await fs.open(temp, 'wx', 0o644);
    try {
      // Each writeFile continues where the last one ended.
      for (const part of typeof data === 'string' || data instanceof Uint8Array ? [data] : data) await handle.writeFile(part);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(temp, target);
  } catch (cause) {
    // Where the temporary file could not even be created (a parent that is a
    // file), removing it fails too; that must not hide the real error.
    await fs.rm(temp, { force: true }).catch(() => {});
    // Node's message ends with the temporary file's path ("EACCES: permission
    // denied, open '…/.model.sig.3f2a….tmp'"); the user only knows the target.
    const reason = (cause as Error).message.split(', ')[0];
    throw new ModelSigningError({ code: 'WRITE_FAILED', path: target, cause, message: `Could not write '${target}': ${reason}` });
  }
}
