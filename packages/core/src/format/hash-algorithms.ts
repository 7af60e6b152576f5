// No static `node:*` import: the manifest checker and the root digest use
// this module in browsers too. In Node the built-ins are
// taken from `process.getBuiltinModule`, so sha256 and blake2b run on OpenSSL
// and blake3 on the native binding as before; elsewhere the audited, sync
// @noble/hashes take over, because the checker's file hashers are created
// synchronously and WebCrypto and WebAssembly hashers are not.
import type { Blake3Hasher } from '@napi-rs/blake-hash';
import { blake2b } from '@noble/hashes/blake2.js';
import { blake3 } from '@noble/hashes/blake3.js';
import { sha256 } from '@noble/hashes/sha2.js';
import type * as NodeCrypto from 'node:crypto';
import type * as NodeModule from 'node:module';
import { ModelSigningError } from '../errors.js';
import { toHex } from './hex.js';

/** The Node built-ins, when the runtime has them (Node ≥ 20.16, or one that provides `process.getBuiltinModule`); undefined in browsers. */
const builtins = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process?.getBuiltinModule;
const nodeCrypto = builtins?.('node:crypto') as typeof NodeCrypto | undefined;
const nodeModule = builtins?.('node:module') as typeof NodeModule | undefined;

/** Hash algorithms OMS defines for file and shard digests. */
export type HashAlgorithm = 'sha256' | 'blake2b' | 'blake3';

/** True where `createHasher` runs on Node's OpenSSL (and native BLAKE3), false where it falls back to @noble/hashes. */
export const NATIVE_HASHING = nodeCrypto !== undefined && nodeModule !== undefined;

/**
 * The one hasher interface of the project, whatever computes it (OpenSSL,
 * the native BLAKE3, @noble/hashes, hash-wasm): feed bytes as they arrive
 * with `update`, then read the digest once, as raw bytes or hex. Used after
 * its digest was read, it throws a `ModelSigningError` (`INVALID_ARGUMENT`).
 */
export interface Hasher {
  update(data: Uint8Array): void;
  digest(): Uint8Array;
  digestHex(): string;
}

/** Progress of a long hash, reported as bytes are hashed. */
export interface HashProgress {
  bytesHashed: number;
  /** Bytes to hash in total (files with known digests excluded). */
  totalBytes: number;
  /** Files to hash (files with known digests excluded). */
  files: number;
  /** Resources (files, or shards with the `shards` method) to hash whose digest is done. */
  resourcesHashed: number;
  /** Resources to hash in all: equals `files` unless files are split into several shards. */
  resources: number;
  /** Files not read because their digests were known (incremental re-signing, `trustCache`); absent when none could be. */
  reusedFiles?: number;
  reusedBytes?: number;
}

/** The one table of digest sizes, in bytes, of each file hash algorithm. */
export const DIGEST_BYTES: Readonly<Record<HashAlgorithm, number>> = Object.freeze({ sha256: 32, blake2b: 64, blake3: 32 });

/**
 * A {@link Hasher} over a hash function's own `update` and `digest`: the
 * guard that makes a finished hasher refuse further use, in one place.
 */
export function guardedHasher(algorithm: HashAlgorithm, update: (data: Uint8Array) => void, digest: () => Uint8Array): Hasher {
  let done = false;
  const used = () =>
    new ModelSigningError({ code: 'INVALID_ARGUMENT', message: `This ${algorithm} hasher already returned its digest; create a new one` });
  const finish = () => {
    if (done) throw used();
    done = true;
    return digest();
  };
  return {
    update(data) {
      if (done) throw used();
      update(data);
    },
    digest: finish,
    digestHex: () => toHex(finish()),
  };
}

type Blake3Module = { Blake3Hasher: typeof Blake3Hasher; blake3(input: Uint8Array): Uint8Array };
let blake3Module: Blake3Module | undefined;

// The native BLAKE3 module costs ~10 MB of RSS and tens of milliseconds to
// load, in the main thread and in every hashing thread; most models are
// sha256, so it is loaded the first time blake3 is actually asked for.
function loadBlake3(module: typeof NodeModule): Blake3Module {
  blake3Module ??= module.createRequire(import.meta.url)('@napi-rs/blake-hash') as Blake3Module;
  return blake3Module;
}

/** The portable hashers, for runtimes without node:crypto. */
function createNobleHasher(algorithm: HashAlgorithm): Hasher {
  const hash = algorithm === 'sha256' ? sha256.create() : algorithm === 'blake2b' ? blake2b.create({ dkLen: 64 }) : blake3.create();
  return guardedHasher(
    algorithm,
    (data) => void hash.update(data),
    () => hash.digest(),
  );
}

const OPENSSL_NAMES = { sha256: 'sha256', blake2b: 'blake2b512' } as const;

/**
 * Raw digest of bytes that are all in memory, without an incremental hash
 * object: cheaper for the thousands of small files some models have.
 */
export function digestRaw(algorithm: HashAlgorithm, data: Uint8Array): Uint8Array {
  if (!nodeCrypto || !nodeModule) {
    const hash = createNobleHasher(algorithm);
    hash.update(data);
    return hash.digest();
  }
  return algorithm === 'blake3' ? loadBlake3(nodeModule).blake3(data) : nodeCrypto.hash(OPENSSL_NAMES[algorithm], data, 'buffer');
}

/**
 * Creates a hasher. In Node, sha256 and blake2b (64-byte output, no key) use
 * OpenSSL through node:crypto and blake3 the native `@napi-rs/blake-hash`;
 * elsewhere @noble/hashes. The hashing engine writes raw digests straight
 * into shared memory, so it never formats hex in a worker.
 */
export function createHasher(algorithm: HashAlgorithm): Hasher {
  if (!nodeCrypto || !nodeModule) return createNobleHasher(algorithm);
  if (algorithm === 'blake3') {
    const hash = new (loadBlake3(nodeModule).Blake3Hasher)();
    return guardedHasher(
      algorithm,
      (data) => void hash.update(data),
      () => hash.digestBuffer(),
    );
  }
  const hash = nodeCrypto.createHash(OPENSSL_NAMES[algorithm]);
  return guardedHasher(
    algorithm,
    (data) => void hash.update(data),
    () => hash.digest(),
  );
}

/** Hex digest of a whole buffer. */
export function hashBytes(algorithm: HashAlgorithm, data: Uint8Array): string {
  return toHex(digestRaw(algorithm, data));
}
