import { createHash } from 'node:crypto';
import { ModelSigningError } from '../errors.js';

/** Hash algorithms OMS defines for file and shard digests. */
export type HashAlgorithm = 'sha256' | 'blake2b' | 'blake3';

/** Every supported {@link HashAlgorithm}, for validating input. */
export const HASH_ALGORITHMS: readonly HashAlgorithm[] = ['sha256', 'blake2b', 'blake3'];

/** `files`: one digest per file. `shards`: one digest per fixed-size byte range of each file. */
export type SerializationMethod = 'files' | 'shards';

/** The default shard size of the reference implementation: 1,000,000,000 bytes (decimal GB). */
export const DEFAULT_SHARD_SIZE = 1_000_000_000;

/** How the model was turned into digests; recorded in the signature as `predicate.serialization`. */
export interface Serialization {
  method: SerializationMethod;
  hashType: HashAlgorithm;
  allowSymlinks: boolean;
  /** Only for `shards`. */
  shardSize?: number;
  /** Model-relative paths excluded from the manifest (recorded so verifiers exclude them too). */
  ignorePaths: string[];
}

/** One entry of the manifest: a file (`files`) or a byte range of a file (`shards`). */
export interface ManifestResource {
  /** POSIX path relative to the model root (`.` for a single-file model), or `path:start:end` for a shard. */
  name: string;
  /** `sha256`, `blake2b`, `blake3`, or `<hash>-sharded-<size>` for shards. */
  algorithm: string;
  /** Lowercase hex digest. */
  digest: string;
}

/** A model's digests, in the order they are signed. */
export interface Manifest {
  /** Informational name of the model (the subject name); never compared. */
  modelName: string;
  serialization: Serialization;
  resources: ManifestResource[];
}

/** Byte range of a shard resource, parsed from its name. */
export interface ShardRange {
  path: string;
  start: number;
  end: number;
}

/** The `algorithm` string the reference writes for a resource. */
export function resourceAlgorithm(serialization: Pick<Serialization, 'method' | 'hashType' | 'shardSize'>): string {
  if (serialization.method === 'files') return serialization.hashType;
  return `${serialization.hashType}-sharded-${serialization.shardSize ?? DEFAULT_SHARD_SIZE}`;
}

/** Shard name `path:start:end`; the path may itself contain `:`. */
export function shardName(range: ShardRange): string {
  return `${range.path}:${range.start}:${range.end}`;
}

/**
 * Parses `path:start:end` from the last two `:` fields, so paths that contain
 * `:` still parse (the reference's 3-way split does not; the spec says this).
 *
 * @throws {ModelSigningError} `BAD_PAYLOAD` when the name is not a shard name.
 */
export function parseShardName(name: string): ShardRange {
  const last = name.lastIndexOf(':');
  const middle = last > 0 ? name.lastIndexOf(':', last - 1) : -1;
  const startText = name.slice(middle + 1, last);
  const endText = name.slice(last + 1);
  if (middle <= 0 || !/^\d+$/.test(startText) || !/^\d+$/.test(endText)) {
    throw new ModelSigningError({
      code: 'BAD_PAYLOAD',
      message: `Invalid shard resource name '${name}': expected 'path:start:end'`,
    });
  }
  const start = Number(startText);
  const end = Number(endText);
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || end <= start) {
    throw new ModelSigningError({ code: 'BAD_PAYLOAD', message: `Invalid shard range in resource name '${name}'` });
  }
  return { path: name.slice(0, middle), start, end };
}

/**
 * Splits a file of `size` bytes into the shard ranges the reference uses:
 * `[0,S)`, `[S,2S)`, …, the last one ending at `size`. Empty files have no shard.
 */
export function shardRanges(path: string, size: number, shardSize: number): ShardRange[] {
  const ranges: ShardRange[] = [];
  for (let start = 0; start < size; start += shardSize) {
    ranges.push({ path, start, end: Math.min(start + shardSize, size) });
  }
  return ranges;
}

function compareBytes(a: Buffer, b: Buffer): number {
  return Buffer.compare(a, b);
}

interface SortKey {
  components: Buffer[];
  start: number;
  end: number;
}

function sortKeyOf(name: string, method: SerializationMethod): SortKey {
  const range = method === 'shards' ? parseShardName(name) : { path: name, start: 0, end: 0 };
  const components = range.path === '.' ? [] : range.path.split('/').map((c) => Buffer.from(c, 'utf8'));
  return { components, start: range.start, end: range.end };
}

function compareKeys(a: SortKey, b: SortKey): number {
  const n = Math.min(a.components.length, b.components.length);
  for (let i = 0; i < n; i++) {
    const c = compareBytes(a.components[i]!, b.components[i]!);
    if (c !== 0) return c;
  }
  if (a.components.length !== b.components.length) return a.components.length - b.components.length;
  return a.start - b.start || a.end - b.end;
}

/**
 * Sorts resources in the reference's order: by path components compared by
 * code point (UTF-8 bytes), a path before its descendants, then shards by
 * numeric start and end. Emitting this order reproduces the reference's
 * subject digest exactly; verifiers accept any order.
 */
export function sortResources(resources: ManifestResource[], method: SerializationMethod): ManifestResource[] {
  const keyed = resources.map((resource) => ({ resource, key: sortKeyOf(resource.name, method) }));
  keyed.sort((a, b) => compareKeys(a.key, b.key));
  return keyed.map((k) => k.resource);
}

/**
 * The subject digest: SHA-256 over the raw digest bytes of the resources,
 * concatenated in the order given. Always SHA-256, whatever the file hash is.
 */
export function rootDigest(resources: readonly ManifestResource[]): string {
  const hash = createHash('sha256');
  for (const r of resources) hash.update(Buffer.from(r.digest, 'hex'));
  return hash.digest('hex');
}
