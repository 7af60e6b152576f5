import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import {
  ManifestChecker,
  ManifestMismatchError,
  ModelSigningError,
  normalizeModelPath,
  type FileHasher,
  type SignerInfo,
  type VerifiedManifest,
} from '@model-signing/core';
import {
  CacheWrites,
  checkRevision,
  createExclusive,
  exists,
  linkSnapshotFile,
  lockBlobs,
  openRegularFile,
  repoCacheFolder,
  resolveHubCacheDir,
  temporaryName,
  writeAll,
  writeFileAtomic,
} from './cache.js';
import {
  DEFAULT_SIGNATURE_PATH,
  hubContext,
  repoLabel,
  resolveCommit,
  type HubConnectionParams,
  type RepoVerificationParams,
} from './hub.js';
import { compareListing, fetchVerifiedSignature, listRepoFiles, type ListedFile, type RemoteFile } from './remote.js';
import { allowPatternList, selectFiles } from './select.js';
import { streamRemoteFile } from './stream.js';

/** Parameters of {@link downloadVerifiedModel}. */
export interface DownloadVerifiedModelParams extends HubConnectionParams, RepoVerificationParams {
  /** Cache root. Default: `HF_HUB_CACHE`, `HUGGINGFACE_HUB_CACHE`, `$HF_HOME/hub` or `~/.cache/huggingface/hub`. */
  cacheDir?: string;
  /**
   * Download only these files: paths or fnmatch patterns over repo paths, as
   * huggingface_hub's `allow_patterns` (`*.json`, `onnx/`, `tokenizer/*`).
   * Each must select at least one signed file. Default: every signed file.
   * The snapshot then holds only those files (and the signature).
   */
  allowPatterns?: string | readonly string[];
  /** Files downloaded at the same time. Default 4. */
  concurrency?: number;
  /**
   * How long to wait for another download (in this or another process) that
   * is writing the same blobs, in milliseconds. Default 30 minutes; past it
   * the call fails with `LOCK_TIMEOUT`.
   */
  lockTimeoutMs?: number;
  onProgress?: (progress: DownloadProgress) => void;
}

/** Progress of {@link downloadVerifiedModel}, in the order the phases happen. */
export type DownloadProgress =
  /** The signature at `commit` verified. */
  | { phase: 'signature-verified'; commit: string; signer: SignerInfo }
  /** The hub's listing matches the signature; `files` will be fetched. */
  | { phase: 'listing-matched'; files: number; totalBytes: number }
  /** Another download (in this or another process) is writing the same blobs; this one waits for it, up to `lockTimeoutMs`. */
  | { phase: 'waiting-for-lock' }
  /** Bytes arrived (or a cached blob was re-hashed) for `path`. */
  | { phase: 'downloading'; path: string; bytesDone: number; totalBytes: number }
  /** `path` matched its signed digest; `reused` when a blob already in the cache was used. */
  | { phase: 'file-verified'; path: string; reused: boolean };

/** The outcome of {@link downloadVerifiedModel}. */
export interface DownloadVerifiedModelResult {
  /** `<cache>/models--org--name/snapshots/<commit>`: every signed file (or those selected) plus the signature, all verified. */
  snapshotPath: string;
  commit: string;
  manifest: VerifiedManifest;
  signer: SignerInfo;
  /** Model-relative paths of the verified files in the snapshot. */
  files: string[];
  /** Files whose bytes were downloaded. */
  downloaded: string[];
  /** Files whose blob was already in the cache and re-hashed instead. */
  reused: string[];
}

/** Default of {@link DownloadVerifiedModelParams.lockTimeoutMs}. */
const DEFAULT_LOCK_TIMEOUT_MS = 30 * 60 * 1000;

/**
 * Downloads a signed model into the Hugging Face cache, verifying it on the way.
 *
 * 1. The signature is fetched and checked first.
 * 2. The hub's listing is compared with the signed manifest: every signed
 *    file present, no unsigned one, and each SHA-256 the hub stores equal to
 *    the signed digest. A repo that fails is refused before any weight byte
 *    is downloaded.
 * 3. The blobs are locked against other downloads into the same cache
 *    (`.locks/`, across processes). Each file streams into a temporary file
 *    of its own, created exclusively without following links, through the
 *    signature's hash (one pass, flat memory); only once its bytes match is
 *    it renamed into `blobs/` and linked from `snapshots/<commit>/`. A blob
 *    already in the cache is re-hashed before it is used.
 *
 * The cache layout is huggingface_hub's, so Python and JS tools can load the
 * snapshot. On any failure every file, link and directory this call wrote is
 * removed before the error is thrown; only a fully verified snapshot is returned.
 *
 * With `allowPatterns`, steps 1–3 are unchanged (the whole repo must match
 * the signature) and only the selected files are downloaded.
 *
 * @throws {ModelSigningError} `NOT_FOUND` (repo, revision or signature), the
 *   bundle errors of core (`SIGNATURE_INVALID`, `KEY_MISMATCH`, …),
 *   {@link ManifestMismatchError} (`DIGEST_MISMATCH`, `MISSING_FILE`,
 *   `UNSIGNED_FILE`) naming the files, `NETWORK_ERROR`, `WRITE_FAILED`, `ABORTED`,
 *   `LOCK_TIMEOUT` (another download held the blobs longer than `lockTimeoutMs`).
 */
export async function downloadVerifiedModel(params: DownloadVerifiedModelParams): Promise<DownloadVerifiedModelResult> {
  const signaturePath = normalizeModelPath(params.signaturePath ?? DEFAULT_SIGNATURE_PATH);
  const revision = params.revision ?? 'main';
  checkRevision(revision);
  const concurrency = params.concurrency ?? 4;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new ModelSigningError({ code: 'INVALID_ARGUMENT', message: `concurrency must be a positive integer, got ${concurrency}` });
  }
  const patterns = allowPatternList(params.allowPatterns);
  const lockTimeoutMs = params.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS;
  if (!Number.isFinite(lockTimeoutMs) || lockTimeoutMs < 0) {
    throw new ModelSigningError({ code: 'INVALID_ARGUMENT', message: `lockTimeoutMs must be a non-negative number, got ${lockTimeoutMs}` });
  }
  // Aborted by the caller, or by us when one file fails so the others stop.
  const stop = new AbortController();
  const signal = params.abortSignal ? AbortSignal.any([params.abortSignal, stop.signal]) : stop.signal;
  const ctx = hubContext(params.repo, params, signal);
  const onProgress = params.onProgress ?? (() => undefined);

  const commit = await resolveCommit(ctx, revision);
  const verified = await fetchVerifiedSignature(ctx, commit, signaturePath, params.verifier);
  onProgress({ phase: 'signature-verified', commit, signer: verified.signer });
  const ignoreUnsignedFiles = params.ignoreUnsignedFiles ?? false;
  const listed = await listRepoFiles(ctx, commit);
  const listing = compareListing(verified.manifest, listed, {
    signaturePath,
    ignoreUnsignedFiles,
    ignoreGitPaths: params.ignoreGitPaths ?? true,
  });
  const wanted = patterns === undefined ? listing.files : selectFiles(listing.files, listed, patterns);

  // Files with the same content share one blob: fetch it once, check it for each name.
  const groups = new Map<string, RemoteFile[]>();
  for (const file of wanted) groups.set(file.etag, [...(groups.get(file.etag) ?? []), file]);
  const totalBytes = [...groups.values()].reduce((sum, g) => sum + g[0].size, 0);
  onProgress({ phase: 'listing-matched', files: wanted.length, totalBytes });

  const cacheDir = resolveHubCacheDir(params.cacheDir);
  const repoFolder = repoCacheFolder(cacheDir, ctx.repo);
  const blobsDir = path.join(repoFolder, 'blobs');
  const snapshotPath = path.join(repoFolder, 'snapshots', commit);
  const signatureBlob = path.join(blobsDir, signatureEtag(listing.signature, verified.bytes));
  const checker = new ManifestChecker(verified.manifest, { ignoreUnsignedFiles });
  const writes = new CacheWrites(cacheDir);
  const lockDirs = new CacheWrites(cacheDir);
  const downloaded: string[] = [];
  const reused: string[] = [];
  let bytesDone = 0;
  let lockLost: ModelSigningError | undefined;

  // Set by the lock's callback while this function awaits; a closure reads it afresh (a plain check would be narrowed away).
  const throwIfLockLost = () => {
    if (lockLost) throw lockLost;
  };
  const hashersFor = (group: RemoteFile[]) => group.map((f) => checker.createFileHasher(f.path));
  const feed = (hashers: FileHasher[], file: RemoteFile, chunk: Uint8Array) => {
    for (const h of hashers) h.update(chunk);
    bytesDone += chunk.length;
    onProgress({ phase: 'downloading', path: file.path, bytesDone, totalBytes });
  };

  /**
   * A blob already in the cache (from any tool) counts only if its bytes
   * match the signature: it is re-hashed, never trusted for its name. It is
   * read through a descriptor opened without following links.
   */
  const cachedBlobMatches = async (blob: string, group: RemoteFile[]): Promise<boolean> => {
    const handle = await openRegularFile(blob);
    if (!handle) return false;
    const hashers = hashersFor(group);
    const before = bytesDone;
    try {
      // Hashing is synchronous, so one buffer serves every read.
      const buffer = Buffer.allocUnsafe(1024 * 1024);
      for (let n; (n = (await handle.read(buffer, 0, buffer.length, null)).bytesRead) > 0;) {
        signal.throwIfAborted();
        feed(hashers, group[0], buffer.subarray(0, n));
      }
    } finally {
      await handle.close();
    }
    try {
      for (const h of hashers) h.finish();
      return true;
    } catch (err) {
      if (!(err instanceof ManifestMismatchError)) throw err;
      bytesDone = before; // the bytes will be counted again as they download
      return false;
    }
  };

  /**
   * Downloads into a temporary file only this call created, hashing exactly
   * the bytes it writes there; the rename into `blobs/` happens only after
   * they matched, and is the only step that publishes them.
   */
  const fetchBlob = async (group: RemoteFile[]): Promise<void> => {
    const first = group[0];
    const blob = path.join(blobsDir, first.etag);
    const blobExisted = await exists(blob);
    const reusedBlob = blobExisted && (await cachedBlobMatches(blob, group));
    if (!reusedBlob) {
      const temporary = temporaryName(blob);
      writes.add(temporary);
      const handle = await createExclusive(temporary);
      const hashers = hashersFor(group);
      try {
        await streamRemoteFile(ctx, commit, first, async (chunk) => {
          feed(hashers, first, chunk);
          await writeAll(handle, chunk);
        });
      } finally {
        await handle.close();
      }
      for (const h of hashers) h.finish();
      await fs.rename(temporary, blob);
      writes.forget(temporary);
      // A corrupt blob replaced by verified bytes is kept on rollback: the new bytes are the right ones.
      if (!blobExisted) writes.add(blob);
    }
    for (const file of group) {
      await linkSnapshotFile(path.join(snapshotPath, normalizeModelPath(file.path)), blob, writes);
      (reusedBlob ? reused : downloaded).push(file.path);
      onProgress({ phase: 'file-verified', path: file.path, reused: reusedBlob });
    }
  };

  // Every blob this call may write stays locked until it has finished or
  // rolled back, so that another download never reuses a blob this one is
  // about to remove, nor removes one this one has linked.
  const locks = await lockBlobs({
    cacheDir,
    repoFolder,
    etags: [...groups.keys(), path.basename(signatureBlob)],
    timeoutMs: lockTimeoutMs,
    signal,
    dirs: lockDirs,
    onWait: () => onProgress({ phase: 'waiting-for-lock' }),
    onLost: (error) => {
      lockLost ??= error;
      stop.abort(error);
    },
  }).catch(async (cause: unknown) => {
    await lockDirs.rollback();
    throw cause;
  });
  try {
    await writes.ensureDir(blobsDir);
    await writes.ensureDir(snapshotPath);
    await runPool([...groups.values()], concurrency, fetchBlob, () => stop.abort());
    // Each file was checked whole as it completed; with a selection, the others are not expected.
    if (patterns === undefined) checker.finish();
    throwIfLockLost();
    await writeFileAtomic(signatureBlob, verified.bytes, writes);
    await linkSnapshotFile(path.join(snapshotPath, signaturePath), signatureBlob, writes);
    if (revision !== commit) {
      const ref = path.join(repoFolder, 'refs', revision);
      await writes.ensureDir(path.dirname(ref));
      await writeFileAtomic(ref, new TextEncoder().encode(commit), writes);
    }
    throwIfLockLost();
  } catch (cause) {
    stop.abort();
    const left = await writes.rollback();
    await locks.release();
    await lockDirs.rollback();
    const error =
      lockLost ??
      (cause instanceof ModelSigningError
        ? cause
        : params.abortSignal?.aborted
          ? new ModelSigningError({ code: 'ABORTED', cause, message: `Cancelled while downloading ${repoLabel(ctx.repo)}` })
          : new ModelSigningError({
              code: 'WRITE_FAILED',
              cause,
              message: `Writing to the cache under ${repoFolder} failed: ${(cause as Error).message}`,
            }));
    error.message += left.length > 0 ? ` (could not remove: ${left.join(', ')})` : '; nothing this download wrote was kept in the cache';
    throw error;
  }
  await locks.release();
  const files = wanted.map((f) => f.path).sort();
  return {
    snapshotPath,
    commit,
    manifest: verified.manifest,
    signer: verified.signer,
    files,
    downloaded: downloaded.sort(),
    reused: reused.sort(),
  };
}

/**
 * Runs `work` over `items`, `limit` at a time. The first failure calls
 * `onFailure` (which cancels the others), waits for every running item to
 * settle, and is rethrown; later failures are consequences of the cancel.
 */
async function runPool<T>(items: T[], limit: number, work: (item: T) => Promise<void>, onFailure: () => void): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (failure === undefined && next < items.length) {
      const item = items[next++];
      try {
        await work(item);
      } catch (error) {
        if (failure === undefined) {
          failure = { error };
          onFailure();
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure !== undefined) throw failure.error;
}

/**
 * The blob name of the signature: the hub's id when it describes these very
 * bytes (LFS SHA-256 or git blob id), else the git blob id of the bytes.
 */
function signatureEtag(entry: ListedFile | undefined, bytes: Uint8Array): string {
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const gitOid = createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex');
  return entry?.sha256 === sha256 ? sha256 : gitOid;
}
