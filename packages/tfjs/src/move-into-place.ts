import fs from 'node:fs/promises';
import path from 'node:path';
import { ModelSigningError } from '@model-signing/core';

function writeFailed(target: string, message: string, cause?: unknown): ModelSigningError {
  return new ModelSigningError({ code: 'WRITE_FAILED', path: target, cause, message });
}

/**
 * Renames the finished, signed `staging` directory to `target`.
 *
 * A missing or empty `target` is replaced by one atomic rename. A non-empty
 * one is refused unless `overwrite`; then it is first moved aside, so at every
 * instant `target` is either the complete old model, absent, or the complete
 * new one, never a mix of the two under one signature.
 *
 * @throws {ModelSigningError} `WRITE_FAILED`.
 */
export async function moveIntoPlace(staging: string, target: string, overwrite: boolean): Promise<void> {
  try {
    // rename(2) replaces an empty directory and fails on a non-empty one, so
    // there is no window between checking and replacing.
    await fs.rename(staging, target);
    return;
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST' && code !== 'ENOTDIR') {
      throw writeFailed(target, `Could not move the signed model into '${target}': ${(cause as Error).message}`, cause);
    }
  }
  const stats = await fs.lstat(target);
  if (!stats.isDirectory()) {
    throw writeFailed(target, `'${target}' exists and is not a directory; choose another path or remove it. Nothing was saved.`);
  }
  if (!overwrite) {
    throw writeFailed(
      target,
      `'${target}' already exists and is not empty; pass overwrite: true to replace it (its whole contents are removed) or save to a new directory. Nothing was saved.`,
    );
  }
  const parent = path.dirname(target);
  const aside = await fs.mkdtemp(path.join(parent, `.${path.basename(target)}.replaced-`));
  const old = path.join(aside, 'model');
  try {
    await fs.rename(target, old);
  } catch (cause) {
    await fs.rm(aside, { recursive: true, force: true });
    throw writeFailed(target, `Could not move the existing '${target}' aside to replace it: ${(cause as Error).message}`, cause);
  }
  try {
    await fs.rename(staging, target);
  } catch (cause) {
    const why = `Could not move the signed model into '${target}': ${(cause as Error).message}`;
    try {
      await fs.rename(old, target);
    } catch {
      throw writeFailed(target, `${why}; the previous contents could not be moved back and are kept in '${old}'`, cause);
    }
    await fs.rm(aside, { recursive: true, force: true });
    throw writeFailed(target, `${why}; the previous contents were restored`, cause);
  }
  await fs.rm(aside, { recursive: true, force: true });
}
