import path from 'node:path';
import { ModelSigningError } from '../errors.js';
import { staysInside } from './containment.js';

/** Paths ignored at the model root by default, as the reference does. */
export const GIT_PATHS: readonly string[] = ['.git', '.gitattributes', '.github', '.gitignore'];

/**
 * Normalizes a model-relative POSIX path the way the reference's
 * `PurePosixPath` does (`a//b` → `a/b`, `./a` → `a`) and refuses any path
 * that could leave the model root.
 *
 * @throws {ModelSigningError} `PATH_ESCAPE` for absolute paths and `..` components.
 */
export function normalizeModelPath(name: string): string {
  if (name.startsWith('/') || name.includes('\0')) {
    throw new ModelSigningError({ code: 'PATH_ESCAPE', path: name, message: `Path '${name}' is absolute; model paths must be relative to the model root` });
  }
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) {
    throw new ModelSigningError({ code: 'PATH_ESCAPE', path: name, message: `Path '${name}' leaves the model directory ('..' is not allowed)` });
  }
  return parts.length === 0 ? '.' : parts.join('/');
}

/** True when `rel` is `ignored` itself or lies under it (lexical, component-wise). */
export function isUnder(rel: string, ignored: string): boolean {
  return rel === ignored || rel.startsWith(ignored + '/');
}

/**
 * Turns a user-supplied ignore path (model-relative, or absolute inside the
 * model) into a model-relative POSIX path. Paths outside the model are
 * dropped (returns undefined), as the reference does.
 */
export function toModelRelative(modelRoot: string, ignorePath: string): string | undefined {
  let rel = ignorePath;
  if (path.isAbsolute(ignorePath)) {
    rel = path.relative(modelRoot, ignorePath);
    if (rel === '' || !staysInside(rel, path.sep)) return undefined;
  }
  rel = rel.split(path.sep).join('/');
  try {
    const normalized = normalizeModelPath(rel);
    return normalized === '.' ? undefined : normalized;
  } catch {
    return undefined;
  }
}

/** The subject name: the model path's last component, as the reference computes it. */
export function modelNameOf(modelPath: string): string {
  const base = path.basename(modelPath);
  if (base === '' || base === '.' || base === '..') return path.basename(path.resolve(modelPath));
  return base;
}
