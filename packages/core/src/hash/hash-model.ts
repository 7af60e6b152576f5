import { ModelSigningError } from '../errors.js';
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
} from '../manifest/manifest.js';
import { walkModel, type ModelFile, type WalkOptions } from '../walk/walk.js';
import { hashJobs, type HashJobsOptions } from './pool.js';
import type { HashJob } from './read-range.js';
import { abortSignalOf, type Cancellable } from '../cancellation.js';

/** Progress of a long hash, reported as bytes are hashed. */
export interface HashProgress {
  bytesHashed: number;
  totalBytes: number;
  /** Files being hashed. */
  files: number;
  /** Resources (files, or shards with the `shards` method) whose digest is done. */
  resourcesHashed: number;
  /** Resources in all: equals `files` unless files are split into several shards. */
  resources: number;
}

/** How to hash: method, algorithm, shard size, and the execution knobs. */
export interface HashingOptions extends Cancellable {
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
    throw new ModelSigningError({ code: 'INVALID_ARGUMENT', message: `Unknown hash algorithm '${String(hashType)}'; use ${HASH_ALGORITHMS.join(', ')}` });
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

/**
 * Hashes the given files under `serialization` and returns the resources in
 * the reference's order.
 */
export async function hashFiles(
  files: readonly ModelFile[],
  serialization: Serialization,
  options: Pick<HashingOptions, 'workers' | 'chunkSize' | 'abortSignal' | 'signal' | 'onProgress'> = {},
): Promise<ManifestResource[]> {
  for (const [name, value] of [['workers', options.workers], ['chunkSize', options.chunkSize]] as const) {
    if (value !== undefined && (!Number.isSafeInteger(value) || value <= 0)) {
      throw new ModelSigningError({ code: 'INVALID_ARGUMENT', message: `${name} must be a positive integer, got ${value}` });
    }
  }
  const algorithm = resourceAlgorithm(serialization);
  const jobs: HashJob[] = [];
  const names: string[] = [];
  for (const file of files) {
    if (serialization.method === 'files') {
      jobs.push({ path: file.absolutePath, start: 0, end: file.size, fileSize: file.size, algorithm: serialization.hashType });
      names.push(file.name);
    } else {
      for (const range of shardRanges(file.name, file.size, serialization.shardSize!)) {
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
  const signal = abortSignalOf(options);
  if (signal) poolOptions.signal = signal;
  const onProgress = options.onProgress;
  if (onProgress) {
    poolOptions.onBytes = (n, jobsDone) => {
      bytesHashed += n;
      onProgress({ bytesHashed, totalBytes, files: files.length, resourcesHashed: jobsDone, resources: jobs.length });
    };
  }
  const digests = await hashJobs(jobs, poolOptions);
  const resources = names.map((name, i) => ({ name, algorithm, digest: digests[i]! }));
  return sortResources(resources);
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
