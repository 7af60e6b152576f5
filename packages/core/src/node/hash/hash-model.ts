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
import type { HashJob } from './read-range.js';
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
  const jobs: HashJob[] = [];
  const names: string[] = [];
  const known: ManifestResource[] = [];
  let reusedFiles = 0;
  let reusedBytes = 0;
  for (const file of files) {
    const digests = options.knownDigests?.get(file.name);
    if (serialization.method === 'files') {
      if (digests?.length === 1) {
        known.push({ name: file.name, algorithm, digest: digests[0] });
        reusedFiles++;
        reusedBytes += file.size;
        continue;
      }
      jobs.push({ path: file.absolutePath, start: 0, end: file.size, fileSize: file.size, algorithm: serialization.hashType });
      names.push(file.name);
    } else {
      const ranges = shardRanges(file.name, file.size, serialization.shardSize!);
      if (digests !== undefined && digests.length === ranges.length) {
        ranges.forEach((range, i) => known.push({ name: shardName(range), algorithm, digest: digests[i] }));
        reusedFiles++;
        reusedBytes += file.size;
        continue;
      }
      for (const range of ranges) {
        jobs.push({ path: file.absolutePath, start: range.start, end: range.end, fileSize: file.size, algorithm: serialization.hashType });
        names.push(shardName(range));
      }
    }
  }
  const totalBytes = jobs.reduce((sum, j) => sum + j.end - j.start, 0);
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
        resources: jobs.length,
        reusedFiles,
        reusedBytes,
      });
    };
  }
  const digests = await hashJobs(jobs, poolOptions);
  const resources = names.map((name, i) => ({ name, algorithm, digest: digests[i] }));
  return sortResources(known.length > 0 ? [...known, ...resources] : resources);
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
