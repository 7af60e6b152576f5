// The WebAssembly hasher source that fetchVerifiedModel hands to the
// manifest checker: the same digests as the checker's default hashers for
// every algorithm, whole files and shards across chunk boundaries, and no
// second hasher while one is still in use.
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { hashModel } from '../dist/index.js';
import { ManifestChecker } from '../dist/internal.js';
import { fastestCheckerHashers, sequentialHashers } from '../dist/internal.js';
import { cleanupTempDirs, tempDir, verifiedManifestOf, writeTree } from './helpers.js';

afterEach(cleanupTempDirs);

const ALGORITHMS = ['sha256', 'blake2b', 'blake3'] as const;

async function checkerFor(
  files: Record<string, Buffer>,
  options: { hashAlgorithm: (typeof ALGORITHMS)[number]; method: 'files' | 'shards'; shardSize?: number },
) {
  const dir = await tempDir();
  await writeTree(dir, files);
  const manifest = await hashModel({ modelPath: dir, ...options });
  return new ManifestChecker(await verifiedManifestOf(manifest));
}

/** Feeds `bytes` in odd-sized chunks, so shard ends fall inside chunks and between them. */
function feed(hasher: { update(chunk: Uint8Array): void }, bytes: Uint8Array) {
  for (let pos = 0, size = 1; pos < bytes.length; pos += size, size = (size * 7 + 3) % 4099) hasher.update(bytes.subarray(pos, pos + size));
}

describe('sequentialHashers with the manifest checker', () => {
  for (const hashAlgorithm of ALGORITHMS) {
    it(`gives the signed ${hashAlgorithm} digests for whole files and for shards, and refuses a changed byte`, async () => {
      const a = randomBytes(100_003);
      const b = randomBytes(5);
      for (const layout of [{ method: 'files' as const }, { method: 'shards' as const, shardSize: 4096 }]) {
        const checker = await checkerFor({ 'a.bin': a, 'b.bin': b }, { hashAlgorithm, ...layout });
        const createHash = await sequentialHashers(hashAlgorithm);
        const hasher = checker.createFileHasher('a.bin', { createHash });
        feed(hasher, a);
        expect(hasher.finish().length).toBe(layout.method === 'files' ? 1 : Math.ceil(a.length / 4096));
        const changed = Buffer.from(b);
        changed[2] ^= 1;
        const other = checker.createFileHasher('b.bin', { createHash });
        feed(other, changed);
        expect(() => other.finish()).toThrow(expect.objectContaining({ code: 'DIGEST_MISMATCH' }));
      }
    });
  }

  it('refuses a second hasher while the first has not returned its digest', async () => {
    const createHash = await sequentialHashers('sha256');
    const first = createHash();
    first.update(new Uint8Array([1, 2, 3]));
    expect(() => createHash()).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    first.digest();
    expect(createHash().digestHex()).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  it("leaves Node on the checker's OpenSSL hashers, which are faster than hash-wasm there", async () => {
    for (const algorithm of ALGORITHMS) expect(await fastestCheckerHashers(algorithm)).toBeUndefined();
  });
});
