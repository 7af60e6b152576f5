/**
 * Browser side of hash-bench.ts: MB/s of each hashing library in the page,
 * on bytes fetched from the harness, fed in 1 MiB chunks (WebCrypto, which
 * has no incremental digest, gets the whole buffer at once).
 */
import { blake2b } from '@noble/hashes/blake2.js';
import { blake3 } from '@noble/hashes/blake3.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { type HashAlgorithm } from '../../../src/browser.js';
import { HASH_ALGORITHMS, toHex } from '../../../src/internal.js';

export { benchWorkers } from './worker-page.js';

/** A library measured by the benchmark. */
export type HashLibrary = 'hash-wasm' | 'noble' | 'webcrypto';

const CHUNK = 1024 * 1024;
const cache = new Map<string, Uint8Array>();

async function bytesOf(name: string): Promise<Uint8Array> {
  let bytes = cache.get(name);
  if (!bytes) {
    bytes = new Uint8Array(await (await fetch(name)).arrayBuffer());
    cache.set(name, bytes);
  }
  return bytes;
}

const NOBLE = { sha256: () => sha256.create(), blake2b: () => blake2b.create({ dkLen: 64 }), blake3: () => blake3.create() };

async function hashOnce(library: HashLibrary, algorithm: HashAlgorithm, bytes: Uint8Array): Promise<Uint8Array> {
  if (library === 'webcrypto') {
    if (algorithm !== 'sha256') throw new Error(`WebCrypto has no ${algorithm}`);
    return new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
  }
  const hasher: { update(data: Uint8Array): unknown; digest(): Uint8Array } =
    library === 'noble' ? NOBLE[algorithm]() : await HASH_ALGORITHMS[algorithm].create();
  for (let offset = 0; offset < bytes.length; offset += CHUNK) hasher.update(bytes.subarray(offset, offset + CHUNK));
  return hasher.digest();
}

/** Best MB/s (10^6 bytes per second) over `rounds` runs, and the digest (to check every library agrees). */
export async function bench(
  name: string,
  library: HashLibrary,
  algorithm: HashAlgorithm,
  rounds: number,
): Promise<{ mbps: number; digest: string }> {
  const bytes = await bytesOf(name);
  let best = Infinity;
  let digest = '';
  for (let i = 0; i < rounds; i++) {
    const start = performance.now();
    digest = toHex(await hashOnce(library, algorithm, bytes));
    best = Math.min(best, performance.now() - start);
  }
  return { mbps: bytes.length / 1e6 / (best / 1000), digest };
}
