import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashModel, type HashAlgorithm, type Manifest, type ModelFile } from '../dist/index.js';
import { hashBytes } from '../dist/internal.js';
import { hashFiles, resolveSerialization, walkModel } from '../dist/internal-node.js';
import { jobCost, planThreads } from '../dist/node/hash/schedule.js';
import { largestFirst } from '../dist/node/hash/pool.js';
import { cleanupTempDirs, expectCode, tempDir } from './helpers.js';

const KiB = 1024;
const MiB = 1024 * KiB;
// A small read buffer makes every file above 64 KiB take several reads.
const SMALL_CHUNK = 64 * KiB;
const SHARD_SIZE = 100_000;

/** Incompressible bytes, fast: an AES-CTR key stream. */
function randomData(bytes: number): Buffer {
  return createCipheriv('aes-128-ctr', randomBytes(16), randomBytes(16)).update(Buffer.alloc(bytes));
}

/**
 * A model of every shape the engine treats differently: an empty file, many
 * small nested files, files just under, at and just over the read buffer,
 * and files of several buffers and several shards.
 */
function writeMixedModel(root: string, bigFiles: Record<string, number> = {}): void {
  const files: Record<string, number> = {
    'empty.bin': 0,
    'edge/under-chunk.bin': SMALL_CHUNK - 1,
    'edge/at-chunk.bin': SMALL_CHUNK,
    'edge/over-chunk.bin': SMALL_CHUNK + 1,
    'mid.bin': 200 * KiB + 7,
    'big/weights-1.bin': 3 * MiB + 1,
    'big/weights-2.bin': 2 * MiB + 500 * KiB,
    ...bigFiles,
  };
  for (let i = 0; i < 150; i++) files[`small/d${i % 5}/e${i % 3}/f${i}.txt`] = (i * 37) % 3000;
  for (const [name, size] of Object.entries(files)) {
    const file = path.join(root, name);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, randomData(size));
  }
}

const OPENSSL_NAMES: Record<HashAlgorithm, string | undefined> = { sha256: 'sha256', blake2b: 'blake2b512', blake3: undefined };

/** The expected resources, computed from whole-file reads without the engine. */
function expectedResources(root: string, files: ModelFile[], algorithm: HashAlgorithm, method: 'files' | 'shards') {
  const digest = (bytes: Buffer) => {
    const name = OPENSSL_NAMES[algorithm];
    return name ? createHash(name).update(bytes).digest('hex') : hashBytes(algorithm, bytes);
  };
  const resources = new Map<string, string>();
  for (const f of files) {
    const bytes = fs.readFileSync(path.join(root, f.name));
    if (method === 'files') resources.set(f.name, digest(bytes));
    else
      for (let start = 0; start < bytes.length; start += SHARD_SIZE)
        resources.set(
          `${f.name}:${start}:${Math.min(start + SHARD_SIZE, bytes.length)}`,
          digest(bytes.subarray(start, start + SHARD_SIZE)),
        );
  }
  return resources;
}

function asMap(manifest: Manifest): Map<string, string> {
  return new Map(manifest.resources.map((r) => [r.name, r.digest]));
}

let model: string;
let files: ModelFile[];
beforeAll(async () => {
  model = await tempDir('oms-hash-pool-');
  writeMixedModel(model);
  files = (await walkModel({ modelPath: model })).files;
});
afterAll(cleanupTempDirs);

describe('hashing engine: results never depend on threads or chunk size', () => {
  const cases: { algorithm: HashAlgorithm; method: 'files' | 'shards' }[] = [
    { algorithm: 'sha256', method: 'files' },
    { algorithm: 'sha256', method: 'shards' },
    { algorithm: 'blake2b', method: 'files' },
    { algorithm: 'blake2b', method: 'shards' },
    { algorithm: 'blake3', method: 'files' },
  ];
  for (const { algorithm, method } of cases) {
    it(`${algorithm} ${method}: 1, 2 and 4 threads and two chunk sizes give the same, correct manifest`, async () => {
      const expected = expectedResources(model, files, algorithm, method);
      const options = { modelPath: model, hashAlgorithm: algorithm, method, shardSize: SHARD_SIZE };
      const one = await hashModel({ ...options, workers: 1, chunkSize: SMALL_CHUNK });
      expect(asMap(one)).toEqual(expected);
      for (const variant of [
        { workers: 2, chunkSize: SMALL_CHUNK },
        { workers: 4, chunkSize: SMALL_CHUNK },
        { workers: 4 },
        { workers: 1 },
        {},
      ]) {
        const other = await hashModel({ ...options, ...variant });
        // Same resources in the same order: the manifest, and so the root digest, is identical.
        expect(other, JSON.stringify(variant)).toEqual(one);
      }
    });
  }

  it('plans threads by itself for a model big enough, with the same result as one thread', async () => {
    const big = await tempDir('oms-hash-pool-big-');
    // 3 × 80 MiB: enough for threads to pay, and a count that does not divide over 2 cores.
    const weights = { 'shards/a.safetensors': 80 * MiB, 'shards/b.safetensors': 80 * MiB, 'shards/c.safetensors': 80 * MiB + 3 };
    writeMixedModel(big, weights);
    const walked = (await walkModel({ modelPath: big })).files;
    const costs = walked.map((f) => jobCost(f.size)).sort((a, b) => b - a);
    expect(planThreads({ costs, cores: 2, maxThreads: 6 }), 'the model must be big enough to exercise the threads').toBeGreaterThan(1);
    const planned = await hashModel({ modelPath: big });
    expect(asMap(planned)).toEqual(expectedResources(big, walked, 'sha256', 'files'));
    expect(await hashModel({ modelPath: big, workers: 1 })).toEqual(planned);
    const shards = await hashModel({ modelPath: big, method: 'shards', shardSize: 30 * MiB });
    expect(shards.resources.filter((r) => r.name.startsWith('shards/c.safetensors:')).map((r) => r.name)).toEqual([
      `shards/c.safetensors:0:${30 * MiB}`,
      `shards/c.safetensors:${30 * MiB}:${60 * MiB}`,
      `shards/c.safetensors:${60 * MiB}:${80 * MiB + 3}`,
    ]);
    expect(await hashModel({ modelPath: big, method: 'shards', shardSize: 30 * MiB, workers: 3, chunkSize: SMALL_CHUNK })).toEqual(shards);
  });
});

describe('hashing engine: progress, aborts and errors', () => {
  const serialization = resolveSerialization({}, []);
  const totalBytes = () => files.reduce((sum, f) => sum + f.size, 0);

  for (const workers of [1, 3]) {
    it(`reports progress up to every byte (${workers} thread(s))`, async () => {
      const seen: number[] = [];
      await hashFiles(files, serialization, { workers, chunkSize: SMALL_CHUNK, onProgress: (p) => seen.push(p.bytesHashed) });
      expect(seen.length).toBeGreaterThan(0);
      expect(seen.at(-1)).toBe(totalBytes());
      expect([...seen].sort((a, b) => a - b)).toEqual(seen);
    });

    it(`refuses a file whose size changed after it was listed (${workers} thread(s))`, async () => {
      for (const name of ['mid.bin', 'small/d0/e0/f0.txt', 'big/weights-1.bin']) {
        const listed = files.map((f) => (f.name === name ? { ...f, size: f.size + 5 } : f));
        const err = await expectCode(hashFiles(listed, serialization, { workers, chunkSize: SMALL_CHUNK }), 'READ_FAILED');
        expect(err.message).toMatch(/changed/);
        expect(err.message).toContain(name);
      }
    });

    it(`reports a missing file as READ_FAILED naming ENOENT (${workers} thread(s))`, async () => {
      const gone: ModelFile = { name: 'gone.bin', absolutePath: path.join(model, 'gone.bin'), size: 10 };
      const err = await expectCode(hashFiles([...files, gone], serialization, { workers }), 'READ_FAILED');
      expect(err.message).toContain('ENOENT');
      expect(err.message).toContain('gone.bin');
    });
  }

  for (const workers of [1, 2]) {
    it(`stops with ABORTED when the signal fires, before or during hashing (${workers} thread(s))`, async () => {
      await expectCode(hashFiles(files, serialization, { workers, abortSignal: AbortSignal.abort() }), 'ABORTED');
      const controller = new AbortController();
      const hashing = hashFiles(files, serialization, { workers, chunkSize: SMALL_CHUNK, abortSignal: controller.signal });
      controller.abort();
      await expectCode(hashing, 'ABORTED');
    });
  }

  it('stops within one big file when aborted from a progress callback on the calling thread', async () => {
    const big = files.filter((f) => f.name === 'big/weights-1.bin');
    const controller = new AbortController();
    let calls = 0;
    const hashing = hashFiles(big, serialization, {
      workers: 1,
      chunkSize: SMALL_CHUNK,
      abortSignal: controller.signal,
      onProgress: () => {
        calls++;
        controller.abort();
      },
    });
    await expectCode(hashing, 'ABORTED');
    // 3 MiB in 64 KiB chunks is 49 chunks; the abort is seen after the first.
    expect(calls).toBeLessThan(5);
  });

  it('rejects invalid thread counts and chunk sizes', async () => {
    await expectCode(hashFiles(files, serialization, { workers: 0 }), 'INVALID_ARGUMENT');
    await expectCode(hashFiles(files, serialization, { chunkSize: 1.5 }), 'INVALID_ARGUMENT');
  });
});

describe('hashing engine: many files', () => {
  it('takes jobs largest first, ties in list order, like a comparator sort (and past the packed sizes)', () => {
    const sizes = Array.from({ length: 5000 }, (_, i) => (i * 7919) % 97);
    const check = (list: number[]) => {
      const starts = list.map(() => 0);
      const expected = list.map((_, i) => i).sort((a, b) => list[b] - list[a] || a - b);
      expect([...largestFirst({ starts, ends: list })]).toEqual(expected);
    };
    check(sizes);
    check([]);
    check([5]);
    // A file too big to pack with the ids sorts the comparator's way.
    check([...sizes, 2 ** 52, 3]);
  });

  it('hashes files from folders with no common prefix but the root, small ones in batches, on threads', async () => {
    const a = await tempDir('oms-prefix-a-');
    const b = await tempDir('oms-prefix-b-');
    const listed: ModelFile[] = [];
    for (let i = 0; i < 300; i++) {
      const dir = i % 2 ? a : b;
      const file = path.join(dir, `f${i}.bin`);
      fs.writeFileSync(file, randomData(i * 11));
      listed.push({ name: `f${i}.bin`, absolutePath: file, size: i * 11 });
    }
    const resources = await hashFiles(listed, resolveSerialization({}, []), { workers: 2 });
    for (const r of resources) {
      const file = listed.find((f) => f.name === r.name)!;
      expect(r.digest).toBe(createHash('sha256').update(fs.readFileSync(file.absolutePath)).digest('hex'));
    }
  });
});
