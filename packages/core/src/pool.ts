// Runtime-neutral. The one bounded pool the downloading loaders (the hub
// cache, an OCI pull) fetch files with: a few at a time, and the first
// failure stops the rest.
import { ModelSigningError } from './errors.js';

/** Files fetched at the same time when the caller does not say. */
export const DEFAULT_CONCURRENCY = 4;

/**
 * The `concurrency` option, checked before any work starts.
 *
 * @throws {ModelSigningError} `INVALID_ARGUMENT` for anything but a positive integer.
 */
export function concurrencyOf(concurrency: number = DEFAULT_CONCURRENCY): number {
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new ModelSigningError({ code: 'INVALID_ARGUMENT', message: `concurrency must be a positive integer, got ${concurrency}` });
  }
  return concurrency;
}

/**
 * Runs `work` over `items`, `limit` at a time. The first failure calls
 * `onFailure` (which cancels the others), waits for every running item to
 * settle, and is rethrown; later failures are consequences of the cancel.
 */
export async function runPool<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
  onFailure: () => void,
): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (failure === undefined && next < items.length) {
      const item = items[next++];
      try {
        await work(item);
      } catch (error) {
        if (failure === undefined) {
          failure = { error };
          onFailure();
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure !== undefined) throw failure.error;
}
