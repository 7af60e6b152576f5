/** Browser side of hash-registry.test.ts: hashes bytes served by the harness with the registry. */
import { type HashAlgorithm } from '../../../src/browser.js';
import { HASH_ALGORITHMS, fastestCheckerHashers, hashStream, toHex } from '../../../src/internal.js';

/** Fetches `/<name>` and hashes it in pieces of the given sizes (cycled), returning hex. */
export async function hashInChunks(name: string, algorithm: HashAlgorithm, chunkSizes: number[]): Promise<string> {
  const bytes = new Uint8Array(await (await fetch(name)).arrayBuffer());
  const hasher = await HASH_ALGORITHMS[algorithm].create();
  let offset = 0;
  for (let i = 0; offset < bytes.length; i++) {
    const size = chunkSizes[i % chunkSizes.length];
    hasher.update(bytes.subarray(offset, offset + size));
    offset += size;
  }
  return hasher.digestHex();
}

/** Hashes the response body of `/<name>` while it arrives. */
export async function hashFetched(name: string, algorithm: HashAlgorithm): Promise<string> {
  const response = await fetch(name);
  const digest = await hashStream(algorithm, response.body!);
  return toHex(digest);
}

/** Hashes `/<name>` whole with `digestOnce` (WebCrypto for sha256), returning hex. */
export async function digestOnce(name: string, algorithm: HashAlgorithm): Promise<string> {
  const bytes = new Uint8Array(await (await fetch(name)).arrayBuffer());
  return toHex(await HASH_ALGORITHMS[algorithm].digestOnce(bytes));
}

/** The registry's declared digest sizes next to the sizes the hashers return. */
export async function digestSizes(): Promise<Record<string, [number, number]>> {
  const out: Record<string, [number, number]> = {};
  for (const spec of Object.values(HASH_ALGORITHMS)) out[spec.name] = [spec.digestBytes, (await spec.create()).digest().length];
  return out;
}

/**
 * Hashes `/<name>` in pieces with the checker's hasher source for this
 * runtime, twice through the same source (it reuses one instance); null when
 * the runtime keeps the checker's default hashers.
 */
export async function hashWithCheckerSource(name: string, algorithm: HashAlgorithm, chunkSizes: number[]): Promise<string[] | null> {
  const createHash = await fastestCheckerHashers(algorithm);
  if (!createHash) return null;
  const bytes = new Uint8Array(await (await fetch(name)).arrayBuffer());
  const digests: string[] = [];
  for (let round = 0; round < 2; round++) {
    const hasher = createHash();
    let offset = 0;
    for (let i = 0; offset < bytes.length; i++) {
      const size = chunkSizes[i % chunkSizes.length];
      hasher.update(bytes.subarray(offset, offset + size));
      offset += size;
    }
    digests.push(hasher.digestHex());
  }
  return digests;
}
