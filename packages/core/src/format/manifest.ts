import { ModelSigningError } from '../errors.js';
import { hexInto } from './hex.js';
import { createHasher, type HashAlgorithm } from './hash-algorithms.js';

export type { HashAlgorithm } from './hash-algorithms.js';

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
  ignorePaths: readonly string[];
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

/**
 * Compares two resource names by Unicode code point, which is the order of
 * their UTF-8 bytes (OMS spec §5.2.1). JavaScript's `<` compares UTF-16 code
 * units, which puts astral characters (surrogate pairs) before U+E000–U+FFFF;
 * remapping the first differing unit fixes that without encoding anything.
 */
export function compareResourceNames(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}

/** Surrogates (astral characters) rank above every other UTF-16 unit. */
function codePointRank(unit: number): number {
  if (unit >= 0xd800 && unit <= 0xdfff) return unit + 0x2000;
  if (unit >= 0xe000) return unit - 0x800;
  return unit;
}

/** A UTF-16 unit at or above the surrogates, where code-unit and code-point order can differ. */
const HIGH_UNIT = /[\ud800-\uffff]/;

/**
 * Sorts resources in the order OMS signs them: by `name`, code point by code
 * point ({@link compareResourceNames}). The Go port refuses any other order
 * and the reference verifies this one, so every manifest we emit goes
 * through here; verifiers accept any order (the root digest is recomputed
 * over the listed one). Returns a new array.
 *
 * A walk already lists files in this order, so this first checks (one
 * comparison per resource) and sorts only when needed, with the runtime's
 * own string order when no name has a unit where it differs.
 */
export function sortResources(resources: readonly ManifestResource[]): ManifestResource[] {
  let sorted = true;
  for (let i = 1; i < resources.length && sorted; i++) sorted = compareResourceNames(resources[i - 1].name, resources[i].name) <= 0;
  if (sorted) return [...resources];
  if (resources.some((r) => HIGH_UNIT.test(r.name))) return [...resources].sort((a, b) => compareResourceNames(a.name, b.name));
  return [...resources].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** How many digests the root digest decodes before each hash update. */
const ROOT_BATCH = 2048;

/**
 * The subject digest: SHA-256 over the raw digest bytes of the resources,
 * concatenated in the order given. Always SHA-256, whatever the file hash is.
 *
 * @throws {TypeError} when a digest is not hex (callers pass checked digests).
 */
export function rootDigest(resources: readonly ManifestResource[]): string {
  const hash = createHasher('sha256');
  // Digests are decoded into one buffer and hashed a batch at a time: one
  // update per digest would cost more than the hashing for a million.
  let buffer = new Uint8Array(ROOT_BATCH * 32);
  let used = 0;
  for (const r of resources) {
    const bytes = r.digest.length >> 1;
    if (used + bytes > buffer.length) {
      hash.update(buffer.subarray(0, used));
      used = 0;
      if (bytes > buffer.length) buffer = new Uint8Array(bytes);
    }
    if (!hexInto(r.digest, buffer, used)) throw new TypeError('not a whole number of hex bytes');
    used += bytes;
  }
  hash.update(buffer.subarray(0, used));
  return hash.digestHex();
}
