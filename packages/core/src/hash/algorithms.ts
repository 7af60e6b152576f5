import { createHash } from 'node:crypto';
import { Blake3Hasher } from '@napi-rs/blake-hash';
import type { HashAlgorithm } from '../manifest/manifest.js';

/** An incremental hash: feed bytes with `update`, read the hex digest once with `digest`. */
export interface IncrementalHash {
  update(data: Uint8Array): void;
  digest(): string;
}

/**
 * Creates an incremental hasher. sha256 and blake2b (64-byte output, no key)
 * use OpenSSL through node:crypto; blake3 uses the native `@napi-rs/blake-hash`.
 */
export function createHasher(algorithm: HashAlgorithm): IncrementalHash {
  switch (algorithm) {
    case 'sha256':
    case 'blake2b': {
      const hash = createHash(algorithm === 'sha256' ? 'sha256' : 'blake2b512');
      return { update: (data) => void hash.update(data), digest: () => hash.digest('hex') };
    }
    case 'blake3': {
      const hash = new Blake3Hasher();
      return {
        update: (data) => void hash.update(Buffer.from(data.buffer, data.byteOffset, data.byteLength)),
        digest: () => hash.digest('hex'),
      };
    }
  }
}

/** Hex digest of a whole buffer. */
export function hashBytes(algorithm: HashAlgorithm, data: Uint8Array): string {
  const hasher = createHasher(algorithm);
  hasher.update(data);
  return hasher.digest();
}
