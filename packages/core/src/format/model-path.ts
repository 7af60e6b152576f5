// Runtime-neutral (no `node:*`): resource names are checked the same way in
// Node and in browsers, with the one containment test (containment.ts).
// Helpers that need node:path are in node/paths.ts.
import { ModelSigningError } from '../errors.js';
import { staysInside } from './containment.js';

/**
 * Normalizes a model-relative POSIX path the way the reference's
 * `PurePosixPath` does (`a//b` → `a/b`, `./a` → `a`) and refuses any path
 * that could leave the model root.
 *
 * @throws {ModelSigningError} `PATH_ESCAPE` for absolute paths and `..` components.
 */
export function normalizeModelPath(name: string): string {
  if (isNormal(name)) return name;
  if (name.startsWith('/') || name.includes('\0')) {
    throw new ModelSigningError({
      code: 'PATH_ESCAPE',
      path: name,
      message: `Path '${name}' is absolute; model paths must be relative to the model root`,
    });
  }
  if (!staysInside(name)) {
    throw new ModelSigningError({
      code: 'PATH_ESCAPE',
      path: name,
      message: `Path '${name}' leaves the model directory ('..' is not allowed)`,
    });
  }
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  return parts.length === 0 ? '.' : parts.join('/');
}

/**
 * Whether `name` is already a normal relative path (no empty, `.` or `..`
 * component, no NUL): returned as it is, which spares a manifest of a
 * million names a million splits and joins. Conservative: some normal
 * names (`a./b`, `b.`) take the full path above, with the same result.
 */
function isNormal(name: string): boolean {
  return (
    name !== '' &&
    !name.startsWith('/') &&
    !name.endsWith('/') &&
    !name.endsWith('.') &&
    !name.includes('//') &&
    !name.includes('./') &&
    !name.includes('..') &&
    !name.includes('\0')
  );
}

/** Paths left out at the model root by default, as the reference does. */
export const GIT_PATHS: readonly string[] = ['.git', '.gitattributes', '.github', '.gitignore'];

/**
 * The one ignore-path check: whether the model-relative `name` is one of
 * `paths` or lies under one (component-wise, so `a/bc` is not under `a/b`).
 * The walk, the session's listing, incremental signing and the loaders all
 * decide "is this path ignored (or named)" through it.
 */
export function isUnderAny(name: string, paths: readonly string[]): boolean {
  return paths.some((p) => name === p || name.startsWith(`${p}/`));
}
