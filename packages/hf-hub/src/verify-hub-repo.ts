import { ManifestChecker, normalizeModelPath, type SignerInfo, type VerifiedManifest } from '@model-signing/core';
import { DEFAULT_SIGNATURE_PATH, hubContext, resolveCommit, type HubConnectionParams, type RepoVerificationParams } from './hub.js';
import { compareListing, fetchVerifiedSignature, listRepoFiles } from './remote.js';
import { streamRemoteFile } from './stream.js';

/** Parameters of {@link verifyHubRepo}. */
export interface VerifyHubRepoParams extends HubConnectionParams, RepoVerificationParams {
  /**
   * Which files to stream from the hub (nothing is stored) and hash:
   * - `all` (default): every signed file, so the result proves the bytes the hub serves;
   * - `uncovered`: only the files the hub has no SHA-256 for; the others are checked by metadata only;
   * - `none`: no file; only the signature, the listing and the hub's SHA-256 metadata are checked.
   */
  hashFiles?: 'all' | 'uncovered' | 'none';
  onProgress?: (progress: { phase: 'hashing'; path: string; bytesDone: number; totalBytes: number }) => void;
}

/** How one signed file was checked by {@link verifyHubRepo}. */
export interface RemoteFileCheck {
  path: string;
  size: number;
  /**
   * `hashed`: the bytes the hub served were streamed and matched the signature.
   * `metadata`: only the hub's SHA-256 claim for the file matched; its bytes were not read.
   * `unchecked`: only its presence was checked (the hub lists no SHA-256 for it, and it was not hashed).
   */
  checkedBy: 'hashed' | 'metadata' | 'unchecked';
}

/** The outcome of {@link verifyHubRepo}. The signature and the file listing always verified. */
export interface VerifyHubRepoResult {
  commit: string;
  manifest: VerifiedManifest;
  signer: SignerInfo;
  /** Every signed file, sorted by path. */
  files: RemoteFileCheck[];
  /** Files whose served bytes matched the signature. */
  hashed: string[];
  /** Files whose hub SHA-256 matched the signature; their bytes were not read. */
  metadataOnly: string[];
  /** Files only known to be present. */
  unchecked: string[];
  /** True when every signed file's bytes were hashed: the only outcome that proves what the hub serves. */
  bytesChecked: boolean;
}

/**
 * Verifies a hub repo at a revision without storing anything: the
 * signature, the file listing (nothing missing, nothing unsigned), the hub's
 * SHA-256 metadata against the signed digests, and by default the bytes of
 * every file, streamed and hashed.
 *
 * The SHA-256s are the hub's own claims, checked against a signature that is
 * not. A match proves that the hub's records agree with the signature (a
 * replaced or added file is caught before any download); it does not prove
 * that the hub serves those bytes. Only `hashed` files, and `bytesChecked`,
 * say that.
 *
 * @throws {ModelSigningError} as {@link downloadVerifiedModel} before its
 *   download starts; `DIGEST_MISMATCH` naming a file whose bytes differ.
 */
export async function verifyHubRepo(params: VerifyHubRepoParams): Promise<VerifyHubRepoResult> {
  const signaturePath = normalizeModelPath(params.signaturePath ?? DEFAULT_SIGNATURE_PATH);
  const hashFiles = params.hashFiles ?? 'all';
  const ctx = hubContext(params.repo, params);
  const commit = await resolveCommit(ctx, params.revision ?? 'main');
  const { manifest, signer } = await fetchVerifiedSignature(ctx, commit, signaturePath, params.verifier);
  const ignoreUnsignedFiles = params.ignoreUnsignedFiles ?? false;
  const listing = compareListing(manifest, await listRepoFiles(ctx, commit), {
    signaturePath,
    ignoreUnsignedFiles,
    ignoreGitPaths: params.ignoreGitPaths ?? true,
  });

  const checker = new ManifestChecker(manifest, { ignoreUnsignedFiles });
  const toHash = listing.files.filter((f) => hashFiles === 'all' || (hashFiles === 'uncovered' && !f.coveredByMetadata));
  const totalBytes = toHash.reduce((sum, f) => sum + f.size, 0);
  let bytesDone = 0;
  const hashed = new Set<string>();
  for (const file of toHash) {
    const hasher = checker.createFileHasher(file.path);
    await streamRemoteFile(ctx, commit, file, (chunk) => {
      hasher.update(chunk);
      bytesDone += chunk.length;
      params.onProgress?.({ phase: 'hashing', path: file.path, bytesDone, totalBytes });
    });
    hasher.finish();
    hashed.add(file.path);
  }
  const files = listing.files
    .map((f): RemoteFileCheck => ({
      path: f.path,
      size: f.size,
      checkedBy: hashed.has(f.path) ? 'hashed' : f.coveredByMetadata ? 'metadata' : 'unchecked',
    }))
    .sort((a, b) => (a.path < b.path ? -1 : 1));
  const by = (kind: RemoteFileCheck['checkedBy']) => files.filter((f) => f.checkedBy === kind).map((f) => f.path);
  return {
    commit,
    manifest,
    signer,
    files,
    hashed: by('hashed'),
    metadataOnly: by('metadata'),
    unchecked: by('unchecked'),
    bytesChecked: files.every((f) => f.checkedBy === 'hashed'),
  };
}
