import fs from 'node:fs/promises';
import path from 'node:path';
import { DEFAULT_SIGNATURE_NAME, ModelSigningError, verifyModel, type HashProgress, type VerificationResult } from '@model-signing/core';
import { normalizeModelPath } from '@model-signing/core/internal';
import { checkRevision, repoCacheFolder, resolveHubCacheDir } from './cache.js';
import { parseRepo, repoLabel, type RepoVerificationParams } from './hub.js';

/** Parameters of {@link verifyCachedModel}. */
export interface VerifyCachedModelParams extends RepoVerificationParams {
  /** Cache root; same default as {@link downloadVerifiedModel}. A branch or tag revision is read from `refs/`. */
  cacheDir?: string;
  /** Hashing worker threads. Default: all cores. */
  workers?: number;
  abortSignal?: AbortSignal;
  onProgress?: (progress: HashProgress) => void;
}

/** The outcome of {@link verifyCachedModel}. */
export interface VerifyCachedModelResult extends VerificationResult {
  snapshotPath: string;
  commit: string;
}

/**
 * Re-verifies a snapshot in the Hugging Face cache, whichever tool
 * downloaded it (this package, huggingface_hub, @huggingface/hub): every
 * file is re-hashed from disk. Snapshot entries may be symlinks into the
 * repo's own `blobs/`; a link that leaves the repo folder is refused
 * (`PATH_ESCAPE`).
 *
 * @throws {ModelSigningError} `NOT_FOUND` when the revision is not cached,
 *   bundle errors, {@link ManifestMismatchError} naming changed, missing and
 *   unsigned files, `PATH_ESCAPE`.
 */
export async function verifyCachedModel(params: VerifyCachedModelParams): Promise<VerifyCachedModelResult> {
  const repo = parseRepo(params.repo);
  const revision = params.revision ?? 'main';
  checkRevision(revision);
  const repoFolder = repoCacheFolder(resolveHubCacheDir(params.cacheDir), repo);
  let commit = revision;
  if (!/^[0-9a-f]{40}$/.test(revision)) {
    try {
      commit = (await fs.readFile(path.join(repoFolder, 'refs', revision), 'utf8')).trim();
    } catch (cause) {
      throw new ModelSigningError({
        code: 'NOT_FOUND',
        cause,
        message: `Revision '${revision}' of ${repoLabel(repo)} is not in the cache (${repoFolder}); download it first or pass a commit id`,
      });
    }
    checkRevision(commit);
  }
  const snapshotPath = path.join(repoFolder, 'snapshots', commit);
  const signaturePath = path.join(snapshotPath, normalizeModelPath(params.signaturePath ?? DEFAULT_SIGNATURE_NAME));
  const result = await verifyModel({
    modelPath: snapshotPath,
    signaturePath,
    verifier: params.verifier,
    allowSymlinks: true,
    symlinkTargetRoot: repoFolder,
    ignoreUnsignedFiles: params.ignoreUnsignedFiles ?? false,
    ignoreGitPaths: params.ignoreGitPaths ?? true,
    ...(params.ignoreAttestationFiles !== undefined ? { ignoreAttestationFiles: params.ignoreAttestationFiles } : {}),
    ...(params.maxBundleBytes !== undefined ? { maxBundleBytes: params.maxBundleBytes } : {}),
    ...(params.workers !== undefined ? { workers: params.workers } : {}),
    ...(params.abortSignal ? { abortSignal: params.abortSignal } : {}),
    ...(params.onProgress ? { onProgress: params.onProgress } : {}),
  });
  return { ...result, snapshotPath, commit };
}
