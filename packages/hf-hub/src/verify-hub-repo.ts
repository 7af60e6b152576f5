import { outcomeOf, type VerificationOutcome } from '@model-signing/core/internal';
import type { HubConnectionParams, RepoVerificationParams } from './hub.js';
import { openHubSession } from './hub-source.js';

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
export interface VerifyHubRepoResult extends VerificationOutcome {
  commit: string;
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
  const hashFiles = params.hashFiles ?? 'all';
  const { session, source } = await openHubSession(params);
  session.checkListing();
  const { serialization } = session.manifest;
  // The hub's SHA-256 (compared with the signed digest by checkListing) pins a file's bytes; so does an empty file's size in shard mode.
  const coveredByMetadata = (name: string) =>
    serialization.method === 'files'
      ? serialization.hashType === 'sha256' && source.file(name)?.sha256 !== undefined
      : source.file(name)?.size === 0;
  const listed = session.files!;
  const toHash = listed.filter((f) => hashFiles === 'all' || (hashFiles === 'uncovered' && !coveredByMetadata(f.name)));
  const totalBytes = toHash.reduce((sum, f) => sum + f.size, 0);
  let bytesDone = 0;
  const hashed = new Set<string>();
  for (const file of toHash) {
    let before = 0;
    await session.checkFile(file.name, {
      onBytes: (received) => {
        bytesDone += received - before;
        before = received;
        params.onProgress?.({ phase: 'hashing', path: file.name, bytesDone, totalBytes });
      },
    });
    hashed.add(file.name);
  }
  if (hashFiles === 'all') await session.finish();
  const files = listed
    .map((f): RemoteFileCheck => ({
      path: f.name,
      size: f.size,
      checkedBy: hashed.has(f.name) ? 'hashed' : coveredByMetadata(f.name) ? 'metadata' : 'unchecked',
    }))
    .sort((a, b) => (a.path < b.path ? -1 : 1));
  const by = (kind: RemoteFileCheck['checkedBy']) => files.filter((f) => f.checkedBy === kind).map((f) => f.path);
  return {
    commit: source.commit,
    ...outcomeOf(session),
    files,
    hashed: by('hashed'),
    metadataOnly: by('metadata'),
    unchecked: by('unchecked'),
    bytesChecked: files.every((f) => f.checkedBy === 'hashed'),
  };
}
