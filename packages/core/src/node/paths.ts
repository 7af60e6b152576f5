import path from 'node:path';
import { staysInside } from '../format/containment.js';
import { normalizeModelPath } from '../format/model-path.js';

// Node-only because these helpers take platform paths (node:path); resource
// names themselves are checked by format/model-path.ts.

/** Paths ignored at the model root by default, as the reference does. */
export const GIT_PATHS: readonly string[] = ['.git', '.gitattributes', '.github', '.gitignore'];

// Signature and attestation files are the other default: one rule, kept
// runtime-neutral so that loaders reading a listing apply it too.
export { ATTESTATION_FILE_PATTERNS, CLAIMS_FILE_NAME, isAttestationFile } from '../format/attestation-files.js';

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
