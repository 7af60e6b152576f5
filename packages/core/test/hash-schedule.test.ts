import { describe, expect, it } from 'vitest';
import { jobCost, planThreads, simulateFinishTime } from '../dist/node/hash/schedule.js';

const GB = 1e9;
const GiB = 2 ** 30;
const costsOf = (sizes: number[]) => sizes.map(jobCost).sort((a, b) => b - a);

describe('thread planning', () => {
  it('simulates fair sharing: three equal jobs on two cores finish together', () => {
    const costs = [GB, GB, GB];
    // Two threads: two jobs, then the third alone on one core.
    expect(simulateFinishTime(costs, 2, 2)).toBeCloseTo(2 * GB, -3);
    // Three threads share the two cores: all done at 1.5.
    expect(simulateFinishTime(costs, 3, 2)).toBeCloseTo(1.5 * GB, -3);
    // More threads than jobs change nothing.
    expect(simulateFinishTime(costs, 8, 2)).toBeCloseTo(1.5 * GB, -3);
  });

  it('keeps one thread per core when the files divide evenly (4 × 1 GiB on 2 cores)', () => {
    expect(planThreads({ costs: costsOf([GiB, GiB, GiB, GiB]), cores: 2, maxThreads: 6 })).toBe(2);
  });

  it('runs one thread per big file when they do not divide evenly (hub-like: 3 × 1.5 GB + configs)', () => {
    expect(planThreads({ costs: costsOf([1.5 * GB, 1.5 * GB, 1.5 * GB, 2_100_000, 50_000, 700]), cores: 2, maxThreads: 6 })).toBe(3);
  });

  it('weighs fair sharing against thread start-up for the shards of one big file', () => {
    // 4 GiB = 4 × 1 GB + a 295 MB tail: sharing saves 6%, but 3 more threads cost about as much.
    expect(planThreads({ costs: costsOf([GB, GB, GB, GB, 4 * GiB - 4 * GB]), cores: 2, maxThreads: 6 })).toBe(2);
    // 3 × 1 GB: the third shard alone would leave a core idle for a third of the time.
    expect(planThreads({ costs: costsOf([GB, GB, GB]), cores: 2, maxThreads: 6 })).toBe(3);
  });

  it('keeps tiny models and one-core machines on the calling thread', () => {
    expect(planThreads({ costs: costsOf([64 * 1024, 20, 30 * 2 ** 20]), cores: 2, maxThreads: 6 })).toBe(1);
    expect(planThreads({ costs: costsOf(Array(300).fill(4096)), cores: 8, maxThreads: 16 })).toBe(1);
    expect(planThreads({ costs: costsOf([GiB, GiB, GiB]), cores: 1, maxThreads: 3 })).toBe(1);
  });

  it('stays within the thread limit and the job count', () => {
    // 6 × 1 GB on 4 cores: six threads share the cores and finish at 1.5 instead of 2.
    expect(planThreads({ costs: costsOf(Array(6).fill(GB)), cores: 4, maxThreads: 16 })).toBe(6);
    for (const maxThreads of [2, 3, 5]) {
      expect(planThreads({ costs: costsOf(Array(6).fill(GB)), cores: 4, maxThreads })).toBeLessThanOrEqual(maxThreads);
    }
    expect(planThreads({ costs: costsOf([GB]), cores: 8, maxThreads: 16 })).toBe(1);
  });

  it('uses one thread per core for many small files', () => {
    expect(planThreads({ costs: costsOf(Array(20_000).fill(4096)), cores: 2, maxThreads: 6 })).toBe(2);
  });
});
