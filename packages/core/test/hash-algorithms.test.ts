import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hashModel, type HashAlgorithm } from '../dist/index.js';
import { createHasher, hashBytes } from '../dist/internal.js';
import { cleanupTempDirs, tempDir, writeTree } from './helpers.js';

afterAll(cleanupTempDirs);

// Known values from the reference's tests (tests/_hashing/memory_test.py) and
// recomputed from its signed fixtures (see /work/shared/oms/format.md §1.5).
const TEST_STRING: Record<HashAlgorithm, string> = {
  sha256: 'a3e49d843df13c2e2a7786f6ecd7e0d184f45d718d1ac1a8a63e570466e489dd',
  blake2b:
    '3f1b20a13e94ef2a12c50f40de256e0eb444f274b8e2e04e5fb3f572242c858af600a06a0c350eef1645307a9bf2fa1fcb65445a0b3b2b44d0602ab95f4fb802',
  blake3: 'f3adfd721502f7d9510368688a392ab4f29dbff47092c0aea25f638d4985a8b1',
};
const SIMPLE_MODEL: Partial<Record<HashAlgorithm, string>> = {
  sha256: '3aab065c7181a173b5dd9e9d32a9f79923440b413be1e1ffcdba26a7365f719b',
  blake2b:
    '20e68afc59075f50f66f399d2cc590f2a93f58349dd6626c0f93bfa19d142b1741029b102cbc7ec0b36ad8dc771d66e904ca9a874c76fcc242fee0bea557463f',
};
const ALGORITHMS: HashAlgorithm[] = ['sha256', 'blake2b', 'blake3'];

describe('hash algorithms', () => {
  for (const algorithm of ALGORITHMS) {
    it(`hashBytes(${algorithm}) of "Test string" matches the reference`, () => {
      expect(hashBytes(algorithm, Buffer.from('Test string'))).toBe(TEST_STRING[algorithm]);
    });

    it(`createHasher(${algorithm}) gives the same digest fed byte by byte`, () => {
      const hasher = createHasher(algorithm);
      for (const byte of Buffer.from('Test string')) hasher.update(Uint8Array.of(byte));
      expect(hasher.digestHex()).toBe(TEST_STRING[algorithm]);
    });

    it(`a finished ${algorithm} hasher refuses more bytes and a second digest with a ModelSigningError`, () => {
      const hasher = createHasher(algorithm);
      hasher.update(Buffer.from('Test string'));
      expect(Buffer.from(hasher.digest()).toString('hex')).toBe(TEST_STRING[algorithm]);
      expect(() => hasher.update(Uint8Array.of(1))).toThrow(
        expect.objectContaining({ name: 'ModelSigningError', code: 'INVALID_ARGUMENT' }),
      );
      expect(() => hasher.digestHex()).toThrow(expect.objectContaining({ name: 'ModelSigningError', code: 'INVALID_ARGUMENT' }));
    });
  }

  for (const [algorithm, digest] of Object.entries(SIMPLE_MODEL)) {
    it(`hashes a single-file model with ${algorithm} like the reference's fixture`, async () => {
      const dir = await tempDir('oms-hash-known-');
      await writeTree(dir, { model: 'This is a simple model' });
      const manifest = await hashModel({ modelPath: path.join(dir, 'model'), hashAlgorithm: algorithm as HashAlgorithm });
      expect(manifest.resources).toEqual([{ name: '.', algorithm, digest }]);
    });
  }

  it('hashes an empty input to the well-known empty digests', () => {
    expect(hashBytes('sha256', new Uint8Array())).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(hashBytes('blake3', new Uint8Array())).toBe('af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262');
  });
});
