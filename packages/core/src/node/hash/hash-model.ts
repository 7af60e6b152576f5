import { ModelSigningError } from '../../errors.js';
import {
  DEFAULT_SHARD_SIZE,
  HASH_ALGORITHMS,
  resourceAlgorithm,
  shardName,
  shardRanges,
  sortResources,
  type HashAlgorithm,
  type Manifest,
  type ManifestResource,
  type Serialization,
  type SerializationMethod,
} from '../../format/manifest.js';
import { walkModel, type ModelFile, type WalkOptions } from '../walk.js';
import { hashJobs, type HashJobsOptions } from './pool.js';
import type { HashProgress } from '../../format/hash-algorithms.js';

export type { HashProgress } from '../../format/hash-algorithms.js';

/** How to hash: method, algorithm, shard size, and the execution knobs. */
export interface HashingOptions {
  /** Cancels the operation: it rejects with a `ModelSigningError` coded `ABORTED`. */
  abortSignal?: AbortSignal;
  /** `files` (default) or `shards`. */
  method?: SerializationMethod;
  /** `sha256` (default), `blake2b` or `blake3`. */
  hashAlgorithm?: HashAlgorithm;
  /** Shard size in bytes for `shards`; default 1,000,000,000. */
  shardSize?: number;
  /**
   * Hashing threads; 1 hashes on the calling thread. Default: planned from
   * the cores and the file sizes (no threads for tiny models, one thread
   * per big file when that shares the cores better). Results never depend on it.
   */
  workers?: number;
  /** Read buffer size in bytes; default 1 MiB. Results never depend on it. */
  chunkSize?: number;
  /** Called as bytes are hashed (about every 100 ms from the hashing threads). */
  onProgress?: (progress: HashProgress) => void;
}

/** Options for {@link hashModel}: which files ({@link WalkOptions}) and how ({@link HashingOptions}). */
export interface HashModelOptions extends WalkOptions, HashingOptions {}

/** The serialization parameters, validated, for the given options. */
export function resolveSerialization(options: HashingOptions & { allowSymlinks?: boolean }, ignorePaths: string[]): Serialization {
  const method = options.method ?? 'files';
  if (method !== 'files' && method !== 'shards') {
    throw new ModelSigningError({ code: 'INVALID_ARGUMENT', message: `Unknown method '${String(method)}'; use 'files' or 'shards'` });
  }
  const hashType = options.hashAlgorithm ?? 'sha256';
  if (!HASH_ALGORITHMS.includes(hashType)) {
    throw new ModelSigningError({
      code: 'INVALID_ARGUMENT',
      message: `Unknown hash algorithm '${String(hashType)}'; use ${HASH_ALGORITHMS.join(', ')}`,
    });
  }
  const serialization: Serialization = { method, hashType, allowSymlinks: options.allowSymlinks ?? false, ignorePaths };
  if (method === 'shards') {
    const shardSize = options.shardSize ?? DEFAULT_SHARD_SIZE;
    if (!Number.isSafeInteger(shardSize) || shardSize <= 0) {
      throw new ModelSigningError({ code: 'INVALID_ARGUMENT', message: `Shard size must be a positive integer, got ${shardSize}` });
    }
    serialization.shardSize = shardSize;
  }
  return serialization;
}

/** Options for {@link hashFiles}. */
export interface HashFilesOptions extends Pick<HashingOptions, 'workers' | 'chunkSize' | 'abortSignal' | 'onProgress'> {
  /**
   * Digests already proven for some files (model-relative name → one digest,
   * or one per shard in order): these files are not read. Incremental
   * re-signing and `trustCache` verification pass what their record proves.
   */
  knownDigests?: ReadonlyMap<string, readonly string[]>;
}

/**
 * Hashes the given files under `serialization` and returns the resources in
 * the reference's order. Files with {@link HashFilesOptions.knownDigests}
 * take those digests; the result is the same list, in the same order, as if
 * they had been hashed.
 */
export async function hashFiles(
  files: readonly ModelFile[],
  serialization: Serialization,
  options: HashFilesOptions = {},
): Promise<ManifestResource[]> {
  for (const [name, value] of [
    ['workers', options.workers],
    ['chunkSize', options.chunkSize],
  ] as const) {
    if (value !== undefined && (!Number.isSafeInteger(value) || value <= 0)) {
      throw new ModelSigningError({ code: 'INVALID_ARGUMENT', message: `${name} must be a positive integer, got ${value}` });
    }
  }
  const algorithm = resourceAlgorithm(serialization);
  const { hashType } = serialization;
  const shardSize = serialization.method === 'shards' ? serialization.shardSize! : 0;
  const jobsOf = (file: ModelFile) => (shardSize > 0 ? shardCount(file.size, shardSize) : 1);
  // Files whose digests are known, by index; the others become jobs.
  // An array, not a map: a dataset re-signed incrementally knows a million.
  const knownOf = new Array<readonly string[] | undefined>(files.length);
  let reusedFiles = 0;
  let reusedBytes = 0;
  let totalBytes = 0;
  let count = 0;
  files.forEach((file, i) => {
    const digests = options.knownDigests?.get(file.name);
    if (digests !== undefined && digests.length === (shardSize > 0 ? shardCount(file.size, shardSize) : 1)) {
      knownOf[i] = digests;
      reusedFiles++;
      reusedBytes += file.size;
      return;
    }
    count += jobsOf(file);
    totalBytes += file.size;
  });
  // The jobs as parallel arrays, not an object per file: a dataset has a million.
  const paths = new Array<string>(count);
  const starts = new Float64Array(count);
  const ends = new Float64Array(count);
  const fileSizes = shardSize > 0 ? new Float64Array(count) : ends;
  let job = 0;
  files.forEach((file, i) => {
    if (knownOf[i] !== undefined) return;
    if (shardSize === 0) {
      paths[job] = file.absolutePath;
      ends[job++] = file.size;
      return;
    }
    for (let start = 0; start < file.size; start += shardSize) {
      paths[job] = file.absolutePath;
      starts[job] = start;
      ends[job] = Math.min(start + shardSize, file.size);
      fileSizes[job++] = file.size;
    }
  });
  let bytesHashed = 0;
  const poolOptions: HashJobsOptions = {};
  if (options.workers !== undefined) poolOptions.workers = options.workers;
  if (options.chunkSize !== undefined) poolOptions.chunkBytes = options.chunkSize;
  if (options.abortSignal) poolOptions.signal = options.abortSignal;
  const onProgress = options.onProgress;
  if (onProgress) {
    poolOptions.onBytes = (n, jobsDone) => {
      bytesHashed += n;
      onProgress({
        bytesHashed,
        totalBytes,
        files: files.length - reusedFiles,
        resourcesHashed: jobsDone,
        resources: count,
        reusedFiles,
        reusedBytes,
      });
    };
  }
  const hashed = count > 0 ? await hashJobs({ algorithm: hashType, paths, starts, ends, fileSizes }, poolOptions) : [];
  // Resources in the files' order: a walk lists them in signing order, so
  // most of the time nothing needs sorting.
  const resources: ManifestResource[] = [];
  let next = 0;
  files.forEach((file, i) => {
    const digests = knownOf[i];
    if (shardSize === 0) {
      resources.push({ name: file.name, algorithm, digest: digests ? digests[0] : hashed[next++] });
      return;
    }
    shardRanges(file.name, file.size, shardSize).forEach((range, k) =>
      resources.push({ name: shardName(range), algorithm, digest: digests ? digests[k] : hashed[next++] }),
    );
  });
  return sortResources(resources);
}

/** How many shards a file of `size` bytes has ({@link shardRanges}). */
function shardCount(size: number, shardSize: number): number {
  return Math.ceil(size / shardSize);
}

/**
 * Walks a model and hashes it into a manifest (no signing). The manifest's
 * `serialization.ignorePaths` lists every ignore rule that applied.
 *
 * @throws {ModelSigningError} from the walk (`NOT_FOUND`, `SYMLINK_REFUSED`, …) and `INVALID_ARGUMENT`.
 */
export async function hashModel(options: HashModelOptions): Promise<Manifest> {
  const walked = await walkModel(options);
  const serialization = resolveSerialization(options, walked.ignorePaths);
  const resources = await hashFiles(walked.files, serialization, options);
  return { modelName: walked.modelName, serialization, resources };
}
