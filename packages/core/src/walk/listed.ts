import fs from 'node:fs/promises';
import path from 'node:path';
import { ModelSigningError } from '../errors.js';
import { isUnder, normalizeModelPath } from './paths.js';
import type { ModelFile } from './walk.js';

/** Options for {@link listNamedFiles}. */
export interface ListNamedFilesOptions {
  /** Absolute model directory. */
  root: string;
  names: readonly string[];
  ignorePaths: readonly string[];
  allowSymlinks: boolean;
  symlinkTargetRoot?: string;
}

/**
 * Resolves the files a signature names, without walking the directory (for
 * `ignoreUnsignedFiles`, as the reference does). Every name is checked for
 * containment, so a signed `../secret` is never read. Names that are ignored
 * or absent are returned in `missing`.
 */
export async function listNamedFiles(options: ListNamedFilesOptions): Promise<{ files: ModelFile[]; missing: string[] }> {
  const realRoot = await fs.realpath(options.root);
  const targetRoot = options.symlinkTargetRoot ? await fs.realpath(options.symlinkTargetRoot) : realRoot;
  const files: ModelFile[] = [];
  const missing: string[] = [];
  for (const raw of options.names) {
    const name = normalizeModelPath(raw);
    if (options.ignorePaths.some((ig) => isUnder(name, ig))) {
      missing.push(name);
      continue;
    }
    const abs = path.join(realRoot, ...name.split('/'));
    let real: string;
    try {
      real = await fs.realpath(abs);
    } catch {
      missing.push(name);
      continue;
    }
    if (real !== abs) {
      if (!options.allowSymlinks) {
        throw new ModelSigningError({ code: 'SYMLINK_REFUSED', path: name, message: `'${name}' is reached through a symbolic link; symlinks are refused unless the allowSymlinks option is set` });
      }
      const rel = path.relative(targetRoot, real);
      if (rel.startsWith('..') || path.isAbsolute(rel)) {
        throw new ModelSigningError({ code: 'PATH_ESCAPE', path: name, message: `'${name}' resolves outside the model (${real})` });
      }
    }
    const stats = await fs.stat(real);
    if (!stats.isFile()) {
      throw new ModelSigningError({ code: 'SPECIAL_FILE', path: name, message: `'${name}' is not a regular file` });
    }
    files.push({ name, absolutePath: real, size: stats.size });
  }
  return { files, missing };
}
