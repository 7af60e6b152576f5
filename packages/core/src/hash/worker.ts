import { parentPort } from 'node:worker_threads';
import { READ_CHUNK_BYTES, hashRangeSync, type HashJob } from './read-range.js';

/** Message from the pool: hash one range. */
export interface WorkerRequest {
  id: number;
  job: HashJob;
}

/** Messages back to the pool. */
export type WorkerResponse =
  | { type: 'progress'; bytes: number }
  | { type: 'done'; id: number; digest: string }
  | { type: 'error'; id: number; message: string; code?: string };

// Progress is batched so a 1 GiB shard costs a few dozen messages, not thousands.
const PROGRESS_EVERY = 32 * 1024 * 1024;
const buffer = Buffer.allocUnsafe(READ_CHUNK_BYTES);

parentPort?.on('message', ({ id, job }: WorkerRequest) => {
  let pending = 0;
  try {
    const digest = hashRangeSync(job, buffer, (n) => {
      pending += n;
      if (pending >= PROGRESS_EVERY) {
        parentPort!.postMessage({ type: 'progress', bytes: pending } satisfies WorkerResponse);
        pending = 0;
      }
    });
    if (pending > 0) parentPort!.postMessage({ type: 'progress', bytes: pending } satisfies WorkerResponse);
    parentPort!.postMessage({ type: 'done', id, digest } satisfies WorkerResponse);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    parentPort!.postMessage({ type: 'error', id, message: e.message, code: e.code } satisfies WorkerResponse);
  }
});
