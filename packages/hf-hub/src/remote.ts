// The checks that need no weight bytes: the signature (fetched and verified
// first), then the hub's file listing and its SHA-256 metadata compared with
// the signed manifest. Shared by the verified download and the remote check.
import { fileDownloadInfo, listFiles } from '@huggingface/hub';
import {
  GIT_PATHS,
  ManifestMismatchError,
  ModelSigningError,
  normalizeModelPath,
  parseShardName,
  verifyBundle,
  type ManifestDifference,
  type VerifiedBundle,
  type VerifiedManifest,
  type Verifier,
} from '@model-signing/core';
import { hubFailure, repoLabel, type HubContext } from './hub.js';
import { streamRemoteFile } from './stream.js';

/** Signatures are small JSON documents; anything larger is not one. */
const MAX_SIGNATURE_BYTES = 16 * 1024 * 1024;

/** A file as the hub lists it. */
export interface ListedFile {
  path: string;
  size: number;
  /** Git blob id. */
  oid: string;
  /** SHA-256 of the content, for files stored with LFS (or Xet, which keeps the LFS id). */
  sha256?: string;
}

/** A file of the repo the signature covers, with what the hub says about it. */
export interface RemoteFile extends ListedFile {
  /** Name of its blob in the cache: the SHA-256 for LFS files, else the git blob id (as huggingface_hub names them). */
  etag: string;
  /** True when the hub's SHA-256 metadata equals the signed digest, so the file is checked without its bytes. */
  coveredByMetadata: boolean;
}

/** Options of the listing comparison. */
export interface CompareOptions {
  signaturePath: string;
  ignoreUnsignedFiles: boolean;
  ignoreGitPaths: boolean;
}

/**
 * Fetches the signature at `commit` and verifies it (signature, statement,
 * signer) before anything else is looked at.
 *
 * @throws {ModelSigningError} `NOT_FOUND` when the repo has no signature; the
 *   bundle errors of core (`BAD_BUNDLE`, `SIGNATURE_INVALID`, `KEY_MISMATCH`, …).
 */
export async function fetchVerifiedSignature(
  ctx: HubContext,
  commit: string,
  signaturePath: string,
  verifier: Verifier,
): Promise<VerifiedBundle & { bytes: Uint8Array }> {
  const chunks: Uint8Array[] = [];
  try {
    const info = await fileDownloadInfo({ repo: ctx.repo, path: signaturePath, revision: commit, hubUrl: ctx.hubUrl, fetch: ctx.fetch });
    if (!info) {
      throw new ModelSigningError({
        code: 'NOT_FOUND',
        path: signaturePath,
        message: `${repoLabel(ctx.repo)} has no signature '${signaturePath}' at commit ${commit}: it was not uploaded signed (or the signature has another name: signaturePath / --signature). Nothing was downloaded.`,
      });
    }
    if (info.size > MAX_SIGNATURE_BYTES) {
      throw new ModelSigningError({
        code: 'BAD_BUNDLE',
        path: signaturePath,
        message: `'${signaturePath}' is ${info.size} bytes, too large to be a signature bundle`,
      });
    }
    // The size announced above bounds what is read: a hub that then sends more is cut off.
    await streamRemoteFile(ctx, commit, { path: signaturePath, size: info.size }, (chunk) => void chunks.push(chunk), info);
  } catch (cause) {
    throw hubFailure(cause, `fetching the signature '${signaturePath}'`, ctx, signaturePath);
  }
  const bytes = Buffer.concat(chunks);
  return { ...(await verifyBundle({ bundle: bytes, verifier })), bytes };
}

/**
 * Lists every file of the repo at `commit` (all pages).
 *
 * @throws {ModelSigningError} `NOT_FOUND`, `NETWORK_ERROR`, `ABORTED`.
 */
export async function listRepoFiles(ctx: HubContext, commit: string): Promise<ListedFile[]> {
  const files: ListedFile[] = [];
  try {
    for await (const entry of listFiles({ repo: ctx.repo, revision: commit, recursive: true, hubUrl: ctx.hubUrl, fetch: ctx.fetch })) {
      if (entry.type !== 'file') continue;
      files.push({ path: entry.path, size: entry.size, oid: entry.oid ?? '', ...(entry.lfs ? { sha256: entry.lfs.oid } : {}) });
    }
  } catch (cause) {
    throw hubFailure(cause, `listing the files of ${repoLabel(ctx.repo)}`, ctx);
  }
  return files;
}

/** The model files of a repo that passed the listing comparison, and the signature's own entry. */
export interface ComparedListing {
  /** Files to fetch: every signed file (and, for shard signatures, empty files, which have no shards). */
  files: RemoteFile[];
  signature: ListedFile | undefined;
}

/**
 * Compares the hub's listing with the signed manifest before any weight byte
 * moves: every signed file must be listed, no unsigned file may be (unless
 * tolerated), and the hub's SHA-256 (for `files` signatures with sha256) or
 * size (for shard signatures) must match what was signed. Paths the
 * signature recorded as ignored, the signature itself and (by default) git
 * files such as the `.gitattributes` the hub creates are not model files.
 *
 * @throws {ManifestMismatchError} listing every difference: `DIGEST_MISMATCH`,
 *   `MISSING_FILE` or `UNSIGNED_FILE`.
 */
export function compareListing(manifest: VerifiedManifest, listed: readonly ListedFile[], options: CompareOptions): ComparedListing {
  const { method, hashType } = manifest.serialization;
  const signed = signedFiles(manifest);
  const ignored = [...manifest.serialization.ignorePaths, options.signaturePath, ...(options.ignoreGitPaths ? GIT_PATHS : [])];
  const isIgnored = (p: string) => ignored.some((ig) => p === ig || p.startsWith(`${ig}/`));
  const differences: ManifestDifference[] = [];
  const files: RemoteFile[] = [];
  const seen = new Set<string>();
  let signature: ListedFile | undefined;

  for (const entry of listed) {
    if (entry.path === options.signaturePath) signature = entry;
    const expected = signed.get(entry.path);
    if (expected === undefined) {
      if (isIgnored(entry.path)) continue;
      // Shard signatures list no resource for an empty file; it is still part of the model.
      if (method === 'shards' && entry.size === 0) files.push({ ...entry, etag: etagOf(entry), coveredByMetadata: true });
      else if (!options.ignoreUnsignedFiles) differences.push({ kind: 'unsigned', name: entry.path });
      continue;
    }
    seen.add(entry.path);
    let coveredByMetadata = false;
    if (method === 'files' && hashType === 'sha256' && entry.sha256 !== undefined) {
      if (entry.sha256 !== expected.digest)
        differences.push({ kind: 'mismatch', name: entry.path, expected: expected.digest, actual: entry.sha256 });
      coveredByMetadata = true;
    } else if (method === 'shards' && entry.size !== expected.size) {
      differences.push({ kind: 'mismatch', name: entry.path, expected: `${expected.size} bytes`, actual: `${entry.size} bytes` });
    }
    files.push({ ...entry, etag: etagOf(entry), coveredByMetadata });
  }
  for (const name of signed.keys()) if (!seen.has(name)) differences.push({ kind: 'missing', name });
  if (differences.length > 0) throw new ManifestMismatchError(differences);
  return { files, signature };
}

/**
 * The cache blob name huggingface_hub gives a file. It comes from the hub and
 * becomes a file name, so only a hex object id is accepted.
 *
 * @throws {ModelSigningError} `NETWORK_ERROR` for anything else.
 */
export function etagOf(entry: ListedFile): string {
  const etag = entry.sha256 ?? entry.oid;
  if (!/^(?:[0-9a-f]{40}|[0-9a-f]{64})$/.test(etag)) {
    throw new ModelSigningError({
      code: 'NETWORK_ERROR',
      path: entry.path,
      message: `The hub lists '${entry.path}' with an invalid object id '${etag}'; refusing to use it as a cache name`,
    });
  }
  return etag;
}

/** Signed files by path: the `files` digest, or for shards the file's total size. */
function signedFiles(manifest: VerifiedManifest): Map<string, { digest?: string; size?: number }> {
  const files = new Map<string, { digest?: string; size?: number }>();
  for (const r of manifest.resources) {
    if (manifest.serialization.method === 'files') {
      files.set(checkedName(r.name), { digest: r.digest });
    } else {
      const shard = parseShardName(r.name);
      const name = checkedName(shard.path);
      files.set(name, { size: Math.max(files.get(name)?.size ?? 0, shard.end) });
    }
  }
  return files;
}

/** Signed names become cache paths, so they must be plain relative paths. */
function checkedName(name: string): string {
  if (name === '.') {
    throw new ModelSigningError({
      code: 'INVALID_ARGUMENT',
      message: 'The signature covers a single-file model; a hub repo is a directory of files. Sign the directory that holds the file.',
    });
  }
  if (normalizeModelPath(name) !== name) {
    throw new ModelSigningError({
      code: 'PATH_ESCAPE',
      path: name,
      message: `The signature names '${name}', which is not a normalized path inside the model`,
    });
  }
  return name;
}
