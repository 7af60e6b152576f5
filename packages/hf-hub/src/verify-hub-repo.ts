import { ManifestChecker, normalizeModelPath, type SignerInfo, type VerifiedManifest } from '@model-signing/core';
import { DEFAULT_SIGNATURE_PATH, hubContext, resolveCommit, type HubConnectionParams, type RepoVerificationParams } from './hub.js';
import { compareListing, fetchVerifiedSignature, listRepoFiles } from './remote.js';
import { streamRemoteFile } from './stream.js';

/** Parameters of {@link verifyHubRepo}. */
export interface VerifyHubRepoParams extends HubConnectionParams, RepoVerificationParams {
  /**
   * Also stream (without storing) the files the hub has no SHA-256 for and
   * hash them, so every file is checked. Default false: those are only reported.
   */
  hashUncoveredFiles?: boolean;
  onProgress?: (progress: { phase: 'hashing'; path: string; bytesDone: number; totalBytes: number }) => void;
}

/** How one signed file was checked by {@link verifyHubRepo}. */
export interface RemoteFileCheck {
  path: string;
  size: number;
  /** `metadata`: the hub's SHA-256 equals the signed digest. `hashed`: its bytes were streamed and matched. `unchecked`: only its presence was checked. */
  checkedBy: 'metadata' | 'hashed' | 'unchecked';
}

/** The outcome of {@link verifyHubRepo}. */
export interface VerifyHubRepoResult {
  commit: string;
  manifest: VerifiedManifest;
  signer: SignerInfo;
  files: RemoteFileCheck[];
  /** Files whose hub SHA-256 matched the signature. */
  coveredByMetadata: string[];
  /** Files the metadata cannot vouch for: they need their bytes to be verified. */
  needBytes: string[];
  /** True when every signed file was checked by metadata or by its bytes. */
  complete: boolean;
}

/**
 * Verifies a hub repo at a revision without downloading its weights: the
 * signature, the file listing (nothing missing, nothing unsigned) and the
 * hub's SHA-256 metadata against the signed digests. The SHA-256s are the
 * hub's own claims, checked against a signature that is not; a file without
 * one (regular git files, non-sha256 or shard signatures) is reported in
 * `needBytes`, or streamed and hashed with `hashUncoveredFiles`.
 *
 * @throws {ModelSigningError} as {@link downloadVerifiedModel} before its
 *   download starts; with `hashUncoveredFiles`, `DIGEST_MISMATCH` naming the file.
 */
export async function verifyHubRepo(params: VerifyHubRepoParams): Promise<VerifyHubRepoResult> {
  const signaturePath = normalizeModelPath(params.signaturePath ?? DEFAULT_SIGNATURE_PATH);
  const ctx = hubContext(params.repo, params);
  const commit = await resolveCommit(ctx, params.revision ?? 'main');
  const { manifest, signer } = await fetchVerifiedSignature(ctx, commit, signaturePath, params.verifier);
  const ignoreUnsignedFiles = params.ignoreUnsignedFiles ?? false;
  const listing = compareListing(manifest, await listRepoFiles(ctx, commit), { signaturePath, ignoreUnsignedFiles, ignoreGitPaths: params.ignoreGitPaths ?? true });

  const checker = new ManifestChecker(manifest, { ignoreUnsignedFiles });
  const uncovered = listing.files.filter((f) => !f.coveredByMetadata);
  const totalBytes = uncovered.reduce((sum, f) => sum + f.size, 0);
  let bytesDone = 0;
  const hashed = new Set<string>();
  if (params.hashUncoveredFiles) {
    for (const file of uncovered) {
      const hasher = checker.createFileHasher(file.path);
      await streamRemoteFile(ctx, commit, file, (chunk) => {
        hasher.update(chunk);
        bytesDone += chunk.length;
        params.onProgress?.({ phase: 'hashing', path: file.path, bytesDone, totalBytes });
      });
      hasher.finish();
      hashed.add(file.path);
    }
  }
  const files = listing.files
    .map((f): RemoteFileCheck => ({ path: f.path, size: f.size, checkedBy: f.coveredByMetadata ? 'metadata' : hashed.has(f.path) ? 'hashed' : 'unchecked' }))
    .sort((a, b) => (a.path < b.path ? -1 : 1));
  return {
    commit,
    manifest,
    signer,
    files,
    coveredByMetadata: files.filter((f) => f.checkedBy === 'metadata').map((f) => f.path),
    needBytes: uncovered.map((f) => f.path).sort(),
    complete: files.every((f) => f.checkedBy !== 'unchecked'),
  };
}
