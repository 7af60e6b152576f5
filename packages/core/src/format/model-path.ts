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
