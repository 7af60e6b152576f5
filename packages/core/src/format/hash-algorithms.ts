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
import { toHex } from './hex.js';
import type { HashAlgorithm } from './manifest.js';

/** The Node built-ins, when the runtime has them (Node ≥ 20.16, or one that provides `process.getBuiltinModule`); undefined in browsers. */
const builtins = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process?.getBuiltinModule;
const nodeCrypto = builtins?.('node:crypto') as typeof NodeCrypto | undefined;
const nodeModule = builtins?.('node:module') as typeof NodeModule | undefined;

/** True where `createHasher` runs on Node's OpenSSL (and native BLAKE3), false where it falls back to @noble/hashes. */
export const NATIVE_HASHING = nodeCrypto !== undefined && nodeModule !== undefined;

/** An incremental hash: feed bytes with `update`, read the hex digest once with `digest`. */
export interface IncrementalHash {
  update(data: Uint8Array): void;
  digest(): string;
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

/** Digest size in bytes of each file hash algorithm. */
export const DIGEST_BYTES: Readonly<Record<HashAlgorithm, number>> = { sha256: 32, blake2b: 64, blake3: 32 };

/** An incremental hash that can also return its digest as raw bytes. */
export interface RawIncrementalHash {
  update(data: Uint8Array): void;
  digestRaw(): Uint8Array;
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
function createNobleHasher(algorithm: HashAlgorithm): RawIncrementalHash {
  const hash = algorithm === 'sha256' ? sha256.create() : algorithm === 'blake2b' ? blake2b.create({ dkLen: 64 }) : blake3.create();
  return { update: (data) => void hash.update(data), digestRaw: () => hash.digest() };
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
    return hash.digestRaw();
  }
  return algorithm === 'blake3' ? loadBlake3(nodeModule).blake3(data) : nodeCrypto.hash(OPENSSL_NAMES[algorithm], data, 'buffer');
}

/**
 * Creates a hasher that returns raw digest bytes. The hashing engine writes
 * these straight into shared memory, so it never formats hex in a worker.
 */
export function createRawHasher(algorithm: HashAlgorithm): RawIncrementalHash {
  if (!nodeCrypto || !nodeModule) return createNobleHasher(algorithm);
  switch (algorithm) {
    case 'sha256':
    case 'blake2b': {
      const hash = nodeCrypto.createHash(OPENSSL_NAMES[algorithm]);
      return { update: (data) => void hash.update(data), digestRaw: () => hash.digest() };
    }
    case 'blake3': {
      const hash = new (loadBlake3(nodeModule).Blake3Hasher)();
      return { update: (data) => void hash.update(data), digestRaw: () => hash.digestBuffer() };
    }
  }
}

/**
 * Creates an incremental hasher. In Node, sha256 and blake2b (64-byte output,
 * no key) use OpenSSL through node:crypto and blake3 the native
 * `@napi-rs/blake-hash`; elsewhere @noble/hashes.
 */
export function createHasher(algorithm: HashAlgorithm): IncrementalHash {
  const raw = createRawHasher(algorithm);
  return { update: (data) => raw.update(data), digest: () => toHex(raw.digestRaw()) };
}

/** Hex digest of a whole buffer. */
export function hashBytes(algorithm: HashAlgorithm, data: Uint8Array): string {
  return toHex(digestRaw(algorithm, data));
}
