// The bounded pool the hub download and the OCI pull fetch files with: never
// more than `limit` at a time, every item once, and the first failure stops
// what has not started, waits for what has, and is the error thrown.
import { describe, expect, it } from 'vitest';
import { concurrencyOf, runPool } from '../dist/internal.js';
import { expectCode } from '../../../test-fixtures/fixtures.mjs';

const tick = () => new Promise((resolve) => setTimeout(resolve, 1));

describe('runPool', () => {
  it('runs every item once, never more than the limit at a time', async () => {
    let running = 0;
    let most = 0;
    const seen: number[] = [];
    await runPool(
      Array.from({ length: 20 }, (_, i) => i),
      3,
      async (item) => {
        running++;
        most = Math.max(most, running);
        await tick();
        seen.push(item);
        running--;
      },
      () => expect.unreachable('no item failed'),
    );
    expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(most).toBe(3);
  });

  it('on the first failure, cancels once, starts nothing more, waits for the running items and throws that failure', async () => {
    const started: number[] = [];
    const settled: number[] = [];
    let cancels = 0;
    const first = new Error('item 2 failed');
    const run = runPool(
      Array.from({ length: 10 }, (_, i) => i),
      3,
      async (item) => {
        started.push(item);
        await tick();
        if (item === 2) throw first;
        await tick();
        if (item === 1) throw new Error('a later failure, a consequence of the cancel');
        settled.push(item);
      },
      () => cancels++,
    );
    await expect(run).rejects.toBe(first);
    expect(cancels).toBe(1);
    expect(started).toEqual([0, 1, 2]);
    expect(settled).toEqual([0]);
  });

  it('does nothing for no items', async () => {
    await runPool(
      [],
      4,
      () => expect.unreachable('no item'),
      () => expect.unreachable('no failure'),
    );
  });
});

describe('concurrencyOf', () => {
  it('takes a positive integer, 4 by default, and refuses anything else before work starts', async () => {
    expect(concurrencyOf(undefined)).toBe(4);
    expect(concurrencyOf(1)).toBe(1);
    for (const bad of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      await expectCode(async () => concurrencyOf(bad), 'INVALID_ARGUMENT');
    }
  });
});
