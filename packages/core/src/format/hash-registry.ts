/**
 * The file hash algorithms of OMS manifests, as a runtime-neutral registry:
 * name → digest size and a factory for an incremental hasher. No `node:*`
 * import and no Node globals, so it runs in browsers, workers and Node alike.
 *
 * WebCrypto has no incremental digest, so a streamed file would have to be
 * held whole to hash it there. hash-wasm hashes incrementally in WebAssembly
 * and was the fastest incremental choice for every algorithm in headless
 * Chromium on the project's machines (figures in docs/benchmarks.md,
 * "Browser hashing"). Node's own hashing keeps using node:crypto and the
 * native BLAKE3 binding (format/hash-algorithms.ts); this registry is for code that
 * must also run where those do not exist.
 *
 * For bytes that are already whole in memory, `digestOnce` uses WebCrypto's
 * native one-shot SHA-256 where the platform has it: several times faster
 * than any incremental WebAssembly or JavaScript SHA-256 in Chromium.
 */
import { createBLAKE2b, createBLAKE3, createSHA256, type IHasher } from 'hash-wasm';
import { ModelSigningError } from '../errors.js';
import { DIGEST_BYTES, NATIVE_HASHING, guardedHasher, type Hasher } from './hash-algorithms.js';
import type { HashAlgorithm } from './manifest.js';

/** One algorithm of {@link HASH_ALGORITHMS}. */
export interface HashAlgorithmSpec {
  readonly name: HashAlgorithm;
  /** Size of the digest in bytes (from the one table, `DIGEST_BYTES`). */
  readonly digestBytes: number;
  /** A fresh hasher. Async because the first one instantiates the WebAssembly module. */
  create(): Promise<Hasher>;
  /** Raw digest of bytes already whole in memory (never gather a stream only to call this). */
  digestOnce(data: Uint8Array): Promise<Uint8Array>;
}

function streaming(name: HashAlgorithm, hasher: IHasher): Hasher {
  return guardedHasher(
    name,
    (data) => void hasher.update(data),
    () => hasher.digest('binary'),
  );
}

function overArrayBuffer(data: Uint8Array): data is Uint8Array<ArrayBuffer> {
  return data.buffer instanceof ArrayBuffer;
}

function spec(name: HashAlgorithm, make: () => Promise<IHasher>, webCryptoName?: string): HashAlgorithmSpec {
  const create = async () => streaming(name, await make());
  return Object.freeze({
    name,
    digestBytes: DIGEST_BYTES[name],
    create,
    async digestOnce(data: Uint8Array) {
      const subtle = globalThis.crypto?.subtle;
      // WebCrypto refuses views of a SharedArrayBuffer; those take the WebAssembly path.
      if (webCryptoName && subtle && overArrayBuffer(data)) return new Uint8Array(await subtle.digest(webCryptoName, data));
      const hasher = await create();
      hasher.update(data);
      return hasher.digest();
    },
  });
}

const MAKERS: Readonly<Record<HashAlgorithm, () => Promise<IHasher>>> = {
  sha256: createSHA256,
  blake2b: () => createBLAKE2b(512),
  blake3: () => createBLAKE3(256),
};

/** Every supported file hash algorithm, by OMS name. */
export const HASH_ALGORITHMS: Readonly<Record<HashAlgorithm, HashAlgorithmSpec>> = Object.freeze({
  sha256: spec('sha256', MAKERS.sha256, 'SHA-256'),
  blake2b: spec('blake2b', MAKERS.blake2b),
  blake3: spec('blake3', MAKERS.blake3),
});

/**
 * Looks up an algorithm by its OMS name, e.g. one read from a manifest.
 *
 * @throws {ModelSigningError} `INVALID_ARGUMENT` for a name OMS does not define.
 */
export function hashAlgorithm(name: string): HashAlgorithmSpec {
  if (!Object.hasOwn(HASH_ALGORITHMS, name)) {
    throw new ModelSigningError({
      code: 'INVALID_ARGUMENT',
      message: `Unknown hash algorithm "${name}"; expected one of ${Object.keys(HASH_ALGORITHMS).join(', ')}`,
    });
  }
  return HASH_ALGORITHMS[name as HashAlgorithm];
}

/**
 * Hashes bytes while they arrive (a `fetch` body, a `Blob.stream()`, a Node
 * stream), so a file is never held whole only to hash it.
 *
 * @returns the raw digest.
 */
export async function hashStream(
  algorithm: HashAlgorithm,
  chunks: AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>,
): Promise<Uint8Array> {
  const hasher = await HASH_ALGORITHMS[algorithm].create();
  if ('getReader' in chunks) {
    // Not every browser makes ReadableStream async-iterable; read it by hand.
    const reader = chunks.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        hasher.update(value);
      }
    } finally {
      reader.releaseLock();
    }
  } else {
    for await (const chunk of chunks) hasher.update(chunk);
  }
  return hasher.digest();
}

/**
 * A synchronous source of hashers for one algorithm, all backed by one
 * WebAssembly instance that is reset for each: for code that must create
 * hashers synchronously, one after the other (the manifest checker makes one
 * per shard while bytes stream in). Each hasher must have returned its digest
 * before the next is created.
 *
 * @throws {ModelSigningError} `INVALID_ARGUMENT` when a hasher is created
 *   while the previous one is still in use.
 * @throws the platform's error when WebAssembly cannot be instantiated (e.g.
 *   a Content-Security-Policy without `'wasm-unsafe-eval'`).
 */
export async function sequentialHashers(algorithm: HashAlgorithm): Promise<() => Hasher> {
  const hasher = await MAKERS[algorithm]();
  let busy = false;
  return () => {
    if (busy)
      throw new ModelSigningError({
        code: 'INVALID_ARGUMENT',
        message: `The previous ${algorithm} hasher has not returned its digest yet`,
      });
    busy = true;
    hasher.init();
    return guardedHasher(
      algorithm,
      (data) => void hasher.update(data),
      () => {
        busy = false;
        return hasher.digest('binary');
      },
    );
  };
}

/**
 * The fastest hasher source for the manifest checker in this runtime, or
 * undefined to keep the checker's default: in Node that default is OpenSSL
 * (several times hash-wasm); elsewhere hash-wasm ({@link sequentialHashers}),
 * several times the default @noble/hashes, unless WebAssembly is refused (a
 * CSP without `'wasm-unsafe-eval'`), where @noble/hashes remains.
 */
export async function fastestCheckerHashers(algorithm: HashAlgorithm): Promise<(() => Hasher) | undefined> {
  if (NATIVE_HASHING) return undefined;
  return sequentialHashers(algorithm).catch(() => undefined);
}
