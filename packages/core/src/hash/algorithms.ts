import { createHash, hash as hashOnce } from 'node:crypto';
import { createRequire } from 'node:module';
import type { Blake3Hasher } from '@napi-rs/blake-hash';
import type { HashAlgorithm } from '../manifest/manifest.js';

/** An incremental hash: feed bytes with `update`, read the hex digest once with `digest`. */
export interface IncrementalHash {
  update(data: Uint8Array): void;
  digest(): string;
}

/** Digest size in bytes of each file hash algorithm. */
export const DIGEST_BYTES: Readonly<Record<HashAlgorithm, number>> = { sha256: 32, blake2b: 64, blake3: 32 };

/** An incremental hash that can also return its digest as raw bytes. */
export interface RawIncrementalHash {
  update(data: Uint8Array): void;
  digestRaw(): Uint8Array;
}

type Blake3Module = { Blake3Hasher: typeof Blake3Hasher; blake3(input: Uint8Array): Buffer };
let blake3Module: Blake3Module | undefined;

// The native BLAKE3 module costs ~10 MB of RSS and tens of milliseconds to
// load, in the main thread and in every hashing thread; most models are
// sha256, so it is loaded the first time blake3 is actually asked for.
function loadBlake3(): Blake3Module {
  blake3Module ??= createRequire(import.meta.url)('@napi-rs/blake-hash') as Blake3Module;
  return blake3Module;
}

const OPENSSL_NAMES = { sha256: 'sha256', blake2b: 'blake2b512' } as const;

/**
 * Raw digest of bytes that are all in memory, without an incremental hash
 * object: cheaper for the thousands of small files some models have.
 */
export function digestRaw(algorithm: HashAlgorithm, data: Uint8Array): Uint8Array {
  return algorithm === 'blake3' ? loadBlake3().blake3(data) : hashOnce(OPENSSL_NAMES[algorithm], data, 'buffer');
}

/**
 * Creates a hasher that returns raw digest bytes. The hashing engine writes
 * these straight into shared memory, so it never formats hex in a worker.
 */
export function createRawHasher(algorithm: HashAlgorithm): RawIncrementalHash {
  switch (algorithm) {
    case 'sha256':
    case 'blake2b': {
      const hash = createHash(OPENSSL_NAMES[algorithm]);
      return { update: (data) => void hash.update(data), digestRaw: () => hash.digest() };
    }
    case 'blake3': {
      const hash = new (loadBlake3().Blake3Hasher)();
      return { update: (data) => void hash.update(data), digestRaw: () => hash.digestBuffer() };
    }
  }
}

/**
 * Creates an incremental hasher. sha256 and blake2b (64-byte output, no key)
 * use OpenSSL through node:crypto; blake3 uses the native `@napi-rs/blake-hash`.
 */
export function createHasher(algorithm: HashAlgorithm): IncrementalHash {
  const raw = createRawHasher(algorithm);
  return { update: (data) => raw.update(data), digest: () => Buffer.from(raw.digestRaw()).toString('hex') };
}

/** Hex digest of a whole buffer. */
export function hashBytes(algorithm: HashAlgorithm, data: Uint8Array): string {
  return Buffer.from(digestRaw(algorithm, data)).toString('hex');
}
