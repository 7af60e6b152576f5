import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hashModel, type HashProgress } from '../dist/index.js';
import { cleanupTempDirs, tempDir } from './helpers.js';

afterAll(cleanupTempDirs);

// Progress counts finished resources as well as bytes, so a progress bar can
// say "3/10 files" (or shards); checked on this thread and on worker threads.
describe('hashing progress: resources done', () => {
  for (const workers of [1, 3]) {
    for (const method of ['files', 'shards'] as const) {
      it(`counts every ${method === 'files' ? 'file' : 'shard'} once, ending at the total (${workers} thread(s))`, async () => {
        const dir = await tempDir();
        for (let i = 0; i < 12; i++) await fs.writeFile(path.join(dir, `f${i}.bin`), Buffer.alloc(50_000 + i * 40_000, i));
        const seen: HashProgress[] = [];
        const manifest = await hashModel({
          modelPath: dir,
          method,
          shardSize: 100_000,
          workers,
          chunkSize: 64 * 1024,
          onProgress: (p) => seen.push(p),
        });
        const last = seen.at(-1)!;
        expect(last.files).toBe(12);
        expect(last.resources).toBe(manifest.resources.length);
        expect(last.resources).toBe(method === 'files' ? 12 : manifest.resources.length);
        if (method === 'shards') expect(last.resources).toBeGreaterThan(12);
        expect(last.resourcesHashed).toBe(last.resources);
        expect(last.bytesHashed).toBe(last.totalBytes);
        const counts = seen.map((p) => p.resourcesHashed);
        expect([...counts].sort((a, b) => a - b)).toEqual(counts);
        if (workers === 1) {
          // On the calling thread, every finished resource is reported as it
          // finishes: the count steps through each of 1..total.
          expect([...new Set(counts)].filter((c) => c > 0)).toEqual(Array.from({ length: last.resources }, (_, i) => i + 1));
        } else {
          // Threads' progress is sampled on a timer, plus a final report: how
          // many steps show depends on how long hashing took (on a loaded
          // machine all of it can finish before the first sample), so only
          // the order, the bounds and the end are guaranteed.
          const bytes = seen.map((p) => p.bytesHashed);
          expect([...bytes].sort((a, b) => a - b)).toEqual(bytes);
          for (const p of seen) expect(p.resourcesHashed).toBeLessThanOrEqual(p.resources);
        }
      });
    }
  }
});
