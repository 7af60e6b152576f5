import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { ModelSigningError } from '../errors.js';
import { READ_CHUNK_BYTES, hashRangeSync, type HashJob } from './read-range.js';
import type { WorkerRequest, WorkerResponse } from './worker.js';

/** Options for {@link hashJobs}. */
export interface HashJobsOptions {
  /** Worker threads to use. Default: the machine's available parallelism. */
  workers?: number;
  signal?: AbortSignal;
  /** Called with the number of newly hashed bytes. */
  onBytes?: (bytes: number) => void;
}

// Below this much data, starting threads costs more than it saves.
const MIN_BYTES_FOR_WORKERS = 16 * 1024 * 1024;

function aborted(): ModelSigningError {
  return new ModelSigningError({ code: 'ABORTED', message: 'Hashing was aborted' });
}

function readFailed(job: HashJob, message: string, code?: string): ModelSigningError {
  return new ModelSigningError({
    code: code === 'ENOENT' ? 'NOT_FOUND' : 'DIGEST_MISMATCH',
    path: job.path,
    message: `Could not hash '${job.path}': ${message}`,
  });
}

/** The default number of hashing threads: every core the process may use. */
export function defaultWorkerCount(): number {
  return Math.max(1, os.availableParallelism());
}

/**
 * Hashes every job and returns the digests in job order. Jobs are spread
 * over a pool of worker threads, largest first so one big file does not
 * finish last; tiny inputs are hashed on the calling thread. The result
 * never depends on the number of workers or on scheduling.
 */
export async function hashJobs(jobs: readonly HashJob[], options: HashJobsOptions = {}): Promise<string[]> {
  if (options.signal?.aborted) throw aborted();
  const totalBytes = jobs.reduce((sum, j) => sum + (j.end - j.start), 0);
  const workerCount = Math.min(options.workers ?? defaultWorkerCount(), jobs.length);
  if (workerCount <= 1 || totalBytes < MIN_BYTES_FOR_WORKERS) return hashOnThisThread(jobs, options);

  const order = jobs.map((_, i) => i).sort((a, b) => jobs[b]!.end - jobs[b]!.start - (jobs[a]!.end - jobs[a]!.start));
  const digests = new Array<string>(jobs.length);
  const workers: Worker[] = [];
  return new Promise<string[]>((resolve, reject) => {
    let next = 0;
    let done = 0;
    let settled = false;
    const finish = (err?: Error) => {
      if (settled) return;
      settled = true;
      options.signal?.removeEventListener('abort', onAbort);
      for (const w of workers) void w.terminate();
      if (err) reject(err);
      else resolve(digests);
    };
    const onAbort = () => finish(aborted());
    options.signal?.addEventListener('abort', onAbort, { once: true });

    const feed = (worker: Worker) => {
      if (next >= order.length) return;
      const id = order[next++]!;
      worker.postMessage({ id, job: jobs[id]! } satisfies WorkerRequest);
    };
    for (let i = 0; i < workerCount; i++) {
      const worker = new Worker(new URL('./worker.js', import.meta.url));
      workers.push(worker);
      worker.on('message', (msg: WorkerResponse) => {
        if (msg.type === 'progress') {
          options.onBytes?.(msg.bytes);
        } else if (msg.type === 'error') {
          finish(readFailed(jobs[msg.id]!, msg.message, msg.code));
        } else {
          digests[msg.id] = msg.digest;
          if (++done === jobs.length) finish();
          else feed(worker);
        }
      });
      worker.on('error', (err) => finish(err));
      feed(worker);
    }
  });
}

async function hashOnThisThread(jobs: readonly HashJob[], options: HashJobsOptions): Promise<string[]> {
  const buffer = Buffer.allocUnsafe(Math.min(READ_CHUNK_BYTES, Math.max(1, ...jobs.map((j) => j.end - j.start))));
  const digests: string[] = [];
  for (const job of jobs) {
    if (options.signal?.aborted) throw aborted();
    try {
      digests.push(hashRangeSync(job, buffer, options.onBytes));
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      throw readFailed(job, e.message, e.code);
    }
    // Yield between files so abort signals and progress rendering get a turn.
    await new Promise<void>((r) => setImmediate(r));
  }
  return digests;
}
