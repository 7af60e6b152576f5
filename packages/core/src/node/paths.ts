import path from 'node:path';
import { staysInside } from '../format/containment.js';
import { normalizeModelPath } from '../format/model-path.js';

export { GIT_PATHS } from '../format/model-path.js';

// Node-only because these helpers take platform paths (node:path); resource
// names themselves are checked by format/model-path.ts.

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
