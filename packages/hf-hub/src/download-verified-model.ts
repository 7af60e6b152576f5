import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { ModelSigningError, type SignerInfo } from '@model-signing/core';
import {
  abortedError,
  concurrencyOf,
  normalizeModelPath,
  outcomeOf,
  runPool,
  type VerificationOutcome,
} from '@model-signing/core/internal';
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
import { repoLabel, type HubConnectionParams, type RepoVerificationParams } from './hub.js';
import { openHubSession, type HubFile } from './hub-source.js';
import { allowPatternList, selectFiles } from './select.js';

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
export interface DownloadVerifiedModelResult extends VerificationOutcome {
  /** `<cache>/models--org--name/snapshots/<commit>`: every signed file (or those selected) plus the signature, all verified. */
  snapshotPath: string;
  commit: string;
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
  const revision = params.revision ?? 'main';
  checkRevision(revision);
  const concurrency = concurrencyOf(params.concurrency);
  const patterns = allowPatternList(params.allowPatterns);
  const lockTimeoutMs = params.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS;
  if (!Number.isFinite(lockTimeoutMs) || lockTimeoutMs < 0) {
    throw new ModelSigningError({ code: 'INVALID_ARGUMENT', message: `lockTimeoutMs must be a non-negative number, got ${lockTimeoutMs}` });
  }
  // Aborted by the caller, or by us when one file fails so the others stop.
  const stop = new AbortController();
  const signal = params.abortSignal ? AbortSignal.any([params.abortSignal, stop.signal]) : stop.signal;
  const onProgress = params.onProgress ?? (() => undefined);

  const { session, source } = await openHubSession(params, signal);
  const { commit } = source;
  onProgress({ phase: 'signature-verified', commit, signer: session.signer });
  session.checkListing();
  const signed = session.files!.map((f) => source.file(f.name)!);
  const wanted = patterns === undefined ? signed : selectFiles(signed, source.listedFiles(), patterns);

  // Files with the same content share one blob: fetch it once, check it for each name.
  const groups = new Map<string, HubFile[]>();
  for (const file of wanted) {
    const etag = etagOf(file);
    groups.set(etag, [...(groups.get(etag) ?? []), file]);
  }
  const totalBytes = [...groups.values()].reduce((sum, g) => sum + g[0].size, 0);
  onProgress({ phase: 'listing-matched', files: wanted.length, totalBytes });

  const cacheDir = resolveHubCacheDir(params.cacheDir);
  const repoFolder = repoCacheFolder(cacheDir, source.repo);
  const blobsDir = path.join(repoFolder, 'blobs');
  const snapshotPath = path.join(repoFolder, 'snapshots', commit);
  // openHubSession keeps the signature's bytes for this.
  const signature = session.signature!;
  const signatureBlob = path.join(blobsDir, signatureEtag(source.signatureEntry, signature));
  // The claims file the session read beside the signature: kept in the snapshot, so the cached check sees the same claims.
  const claims = source.claimsRead;
  const claimsBlob = claims && path.join(blobsDir, signatureEtag(source.file(claims.path), claims.bytes));
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
  /** Progress as the session hands out checked bytes of `file`. */
  const counting = (file: HubFile) => {
    let before = 0;
    return {
      onBytes: (received: number) => {
        bytesDone += received - before;
        before = received;
        onProgress({ phase: 'downloading', path: file.name, bytesDone, totalBytes });
      },
    };
  };
  /** A blob on disk, read through a descriptor opened without following links, in 1 MiB chunks. */
  async function* blobChunks(handle: fs.FileHandle): AsyncGenerator<Uint8Array> {
    for (;;) {
      const buffer = Buffer.allocUnsafe(1024 * 1024);
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) return;
      yield buffer.subarray(0, bytesRead);
    }
  }
  /** Checks a blob on disk as `file`; false when there is no regular file there. */
  const checkBlob = async (blob: string, file: HubFile, progress: boolean): Promise<boolean> => {
    const handle = await openRegularFile(blob);
    if (!handle) return false;
    try {
      await session.checkBytes(file.name, blobChunks(handle), progress ? counting(file) : {});
      return true;
    } finally {
      await handle.close();
    }
  };
  /** Whether a blob already in the cache holds the signed bytes of every file of the group. */
  const cachedBlobMatches = async (blob: string, group: HubFile[]): Promise<boolean> => {
    const before = bytesDone;
    try {
      for (const file of group) if (!(await checkBlob(blob, file, file === group[0]))) return false;
      return true;
    } catch (err) {
      if (!(err instanceof ModelSigningError) || err.code !== 'DIGEST_MISMATCH') throw err;
      bytesDone = before; // the bytes will be counted again as they download
      return false;
    }
  };

  /**
   * A blob already in the cache (from any tool) counts only if its bytes
   * match the signature: it is re-hashed, never trusted for its name. A new
   * one is downloaded into a temporary file only this call created, hashing
   * exactly the bytes it writes there; the rename into `blobs/` happens only
   * after they matched, and is the only step that publishes them.
   */
  const fetchBlob = async (group: HubFile[]): Promise<void> => {
    const first = group[0];
    const blob = path.join(blobsDir, etagOf(first));
    const blobExisted = await exists(blob);
    const reusedBlob = blobExisted && (await cachedBlobMatches(blob, group));
    if (!reusedBlob) {
      const temporary = temporaryName(blob);
      writes.add(temporary);
      const handle = await createExclusive(temporary);
      try {
        for await (const chunk of session.stream(first.name, counting(first))) await writeAll(handle, chunk);
      } finally {
        await handle.close();
      }
      // The other names of the same content: checked from the bytes just written.
      for (const file of group.slice(1)) await checkBlob(temporary, file, false);
      await fs.rename(temporary, blob);
      writes.forget(temporary);
      // A corrupt blob replaced by verified bytes is kept on rollback: the new bytes are the right ones.
      if (!blobExisted) writes.add(blob);
    }
    for (const file of group) {
      await linkSnapshotFile(path.join(snapshotPath, normalizeModelPath(file.name)), blob, writes);
      (reusedBlob ? reused : downloaded).push(file.name);
      onProgress({ phase: 'file-verified', path: file.name, reused: reusedBlob });
    }
  };

  // Every blob this call may write stays locked until it has finished or
  // rolled back, so that another download never reuses a blob this one is
  // about to remove, nor removes one this one has linked.
  const locks = await lockBlobs({
    cacheDir,
    repoFolder,
    etags: [...groups.keys(), path.basename(signatureBlob), ...(claimsBlob ? [path.basename(claimsBlob)] : [])],
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
    if (patterns === undefined) await session.finish();
    throwIfLockLost();
    await writeFileAtomic(signatureBlob, signature, writes);
    await linkSnapshotFile(path.join(snapshotPath, source.signaturePath), signatureBlob, writes);
    if (claims && claimsBlob) {
      await writeFileAtomic(claimsBlob, claims.bytes, writes);
      await linkSnapshotFile(path.join(snapshotPath, claims.path), claimsBlob, writes);
    }
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
          ? abortedError(params.abortSignal, { doing: `downloading ${repoLabel(source.repo)}`, cause })
          : new ModelSigningError({
              code: 'WRITE_FAILED',
              cause,
              message: `Writing to the cache under ${repoFolder} failed: ${(cause as Error).message}`,
            }));
    error.message += left.length > 0 ? ` (could not remove: ${left.join(', ')})` : '; nothing this download wrote was kept in the cache';
    throw error;
  }
  await locks.release();
  const files = wanted.map((f) => f.name).sort();
  return {
    snapshotPath,
    commit,
    ...outcomeOf(session),
    files,
    downloaded: downloaded.sort(),
    reused: reused.sort(),
  };
}

/**
 * The blob name of the signature: the hub's id when it describes these very
 * bytes (LFS SHA-256 or git blob id), else the git blob id of the bytes.
 */
function signatureEtag(entry: HubFile | undefined, bytes: Uint8Array): string {
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const gitOid = createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex');
  return entry?.sha256 === sha256 ? sha256 : gitOid;
}

/**
 * The cache blob name huggingface_hub gives a file: the SHA-256 for LFS
 * files, else the git blob id. It comes from the hub and becomes a file
 * name, so only a hex object id is accepted.
 *
 * @throws {ModelSigningError} `NETWORK_ERROR` for anything else.
 */
function etagOf(file: HubFile): string {
  const etag = file.sha256 ?? file.oid;
  if (!/^(?:[0-9a-f]{40}|[0-9a-f]{64})$/.test(etag)) {
    throw new ModelSigningError({
      code: 'NETWORK_ERROR',
      path: file.name,
      message: `The hub lists '${file.name}' with an invalid object id '${etag}'; refusing to use it as a cache name`,
    });
  }
  return etag;
}
