import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { ModelSigningError } from '@model-signing/core';
import { normalizeModelPath } from '@model-signing/core/internal';
import type { VerifiedStore } from '../verified-store.js';

/**
 * A {@link VerifiedStore} in a directory: `<dir>/<key>`, where a key is a
 * model-relative path below `<repo>/<signed root digest>/`. Writes go to a temporary
 * name that no key can take and are renamed into place, so a crash never
 * leaves a partial entry under a key.
 */
export class FileStore implements VerifiedStore {
  constructor(private readonly dir: string) {}

  async read(key: string): Promise<Uint8Array | undefined> {
    try {
      return await fs.readFile(this.pathOf(key));
    } catch (cause) {
      // ENOTDIR: a file where a folder of the key should be; there is no entry either way.
      const code = (cause as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
      throw new ModelSigningError({
        code: 'NOT_FOUND',
        path: key,
        cause,
        message: `Cached file '${key}' cannot be read: ${(cause as Error).message}`,
      });
    }
  }

  async write(key: string, bytes: Uint8Array): Promise<void> {
    const target = this.pathOf(key);
    // pathOf refuses keys with a '.ms-tmp-' segment, so no key can name this file.
    const temp = path.join(path.dirname(target), `.ms-tmp-${randomBytes(8).toString('hex')}.tmp`);
    try {
      await fs.mkdir(path.dirname(target), { recursive: true });
      await fs.writeFile(temp, bytes, { flag: 'wx' });
      await fs.rename(temp, target);
    } catch (cause) {
      // The temporary file may not exist (or its folder may not be one); the write's error is what matters.
      await fs.rm(temp, { force: true }).catch(() => undefined);
      throw new ModelSigningError({
        code: 'WRITE_FAILED',
        path: key,
        cause,
        message: `Cannot store verified file '${key}' in '${this.dir}': ${(cause as Error).message}`,
      });
    }
  }

  async remove(key: string): Promise<void> {
    await fs.rm(this.pathOf(key), { force: true });
  }

  /** The entry's path; keys are checked so none leaves the directory or names a temporary file. */
  private pathOf(key: string): string {
    const relative = normalizeModelPath(key);
    if (relative.split('/').some((segment) => segment.startsWith('.ms-tmp-'))) {
      throw new ModelSigningError({
        code: 'INVALID_ARGUMENT',
        path: key,
        message: `'${key}' cannot be cached: '.ms-tmp-' names are reserved for temporary files`,
      });
    }
    return path.join(this.dir, ...relative.split('/'));
  }
}
