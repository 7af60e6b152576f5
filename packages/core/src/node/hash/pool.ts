import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { abortedError } from '../../cancellation.js';
import { ModelSigningError, type ErrorCode } from '../../errors.js';
import { DIGEST_BYTES } from '../../format/hash-algorithms.js';
import { READ_CHUNK_BYTES, YIELD_INTERVAL_MS, ReadBuffers, hashRangeReadingAhead, hashRangeSync, type HashJob } from './read-range.js';
import { jobCost, planThreads } from './schedule.js';
import { JobTable } from './job-table.js';
import { SharedQueue, type WorkerMessage, type WorkerSetup } from './shared-queue.js';

/** Options for {@link hashJobs}. */
export interface HashJobsOptions {
  /**
   * Hashing threads to use; 1 hashes on the calling thread. Default: planned
   * from the cores and the job sizes (no threads for tiny inputs).
   */
  workers?: number;
  /** Size of each read buffer. Default {@link READ_CHUNK_BYTES}. Results never depend on it. */
  chunkBytes?: number;
  signal?: AbortSignal;
  /** Called with the number of newly hashed bytes and the number of jobs finished so far. */
  onBytes?: (bytes: number, jobsDone: number) => void;
}

// How often the calling thread turns the shared byte counter into progress callbacks.
const PROGRESS_INTERVAL_MS = 100;

/**
 * The typed error for a job that failed: errors already typed (a changed or
 * swapped file, an abort) pass through; a system error becomes `READ_FAILED`
 * naming the file and the error, never a verdict on the signature.
 */
function hashError(job: HashJob, failure: { message: string; code?: string | undefined; typed?: boolean }): ModelSigningError {
  if (failure.typed && failure.code) {
    return new ModelSigningError({ code: failure.code as ErrorCode, path: job.path, message: failure.message });
  }
  // Node's messages start with the errno name ("EIO: i/o error, read"); add it when one does not.
  const errno = failure.code && !failure.message.includes(failure.code) ? ` (${failure.code})` : '';
  return new ModelSigningError({
    code: 'READ_FAILED',
    path: job.path,
    message: `Could not read '${job.path}': ${failure.message}${errno}`,
  });
}

/** A hashing thread that failed outside any job (it could not start, or died): typed, and never a verdict on the files. */
function threadFailed(message: string, cause?: unknown): ModelSigningError {
  return new ModelSigningError({ code: 'READ_FAILED', cause, message });
}

/** {@link hashError} for an error caught on this thread. */
function caughtError(job: HashJob, err: unknown): ModelSigningError {
  if (err instanceof ModelSigningError) return err;
  const e = err as NodeJS.ErrnoException;
  return hashError(job, { message: e.message, code: e.code });
}

/** The default number of cores to hash on: every core the process may use. */
export function defaultWorkerCount(): number {
  return Math.max(1, os.availableParallelism());
}

/** Most threads the planner may use: enough to keep each big file of a model in flight, bounded for memory. */
function maxPlannedThreads(cores: number): number {
  return Math.min(3 * cores, cores + 8);
}

function toHex(digests: Uint8Array[]): string[] {
  return digests.map((d) => Buffer.from(d.buffer, d.byteOffset, d.byteLength).toString('hex'));
}

/**
 * Hashes every job and returns the hex digests in job order.
 *
 * Jobs are taken largest first from a queue in shared memory, so a thread
 * never waits for the calling thread between files, and each thread reads
 * its files itself: no file bytes cross threads. Tiny inputs are hashed on
 * the calling thread. The result never depends on the number of threads,
 * the chunk size or the scheduling.
 */
export async function hashJobs(jobs: readonly HashJob[], options: HashJobsOptions = {}): Promise<string[]> {
  if (options.signal?.aborted) throw abortedError(options.signal, { doing: 'hashing' });
  const chunkBytes = options.chunkBytes ?? READ_CHUNK_BYTES;
  const cores = defaultWorkerCount();
  const order = jobs.map((_, i) => i).sort((a, b) => jobs[b].end - jobs[b].start - (jobs[a].end - jobs[a].start) || a - b);
  const threads =
    options.workers !== undefined
      ? Math.min(options.workers, jobs.length)
      : planThreads({ costs: order.map((i) => jobCost(jobs[i].end - jobs[i].start)), cores, maxThreads: maxPlannedThreads(cores) });

  if (threads <= 1) return toHex(await hashOnThisThread(jobs, order, chunkBytes, cores > 1, options));
  return toHex(await hashOnWorkers(jobs, order, threads, Math.min(cores, threads), chunkBytes, options));
}

async function hashOnThisThread(
  jobs: readonly HashJob[],
  order: readonly number[],
  chunkBytes: number,
  spareCores: boolean,
  options: HashJobsOptions,
): Promise<Uint8Array[]> {
  const buffers = new ReadBuffers(chunkBytes);
  const digests = new Array<Uint8Array>(jobs.length);
  // Without threads, the other cores are idle: reading ahead lets one of them copy while this one hashes.
  const readAhead = () => spareCores;
  let lastYield = performance.now();
  let done = 0;
  const report = options.onBytes;
  const onBytes = report && ((n: number) => report(n, done));
  for (const id of order) {
    if (options.signal?.aborted) throw abortedError(options.signal, { doing: 'hashing' });
    const job = jobs[id];
    try {
      digests[id] =
        job.end - job.start > chunkBytes
          ? await hashRangeReadingAhead(job, buffers, { readAhead, onBytes, signal: options.signal })
          : hashRangeSync(job, buffers, onBytes);
    } catch (err) {
      if (options.signal?.aborted) throw abortedError(options.signal, { doing: 'hashing' });
      throw caughtError(job, err);
    }
    report?.(0, ++done);
    // Give abort signals and progress rendering a turn, without paying a macrotask per small file.
    if (performance.now() - lastYield > YIELD_INTERVAL_MS) {
      await new Promise<void>((r) => setImmediate(r));
      lastYield = performance.now();
    }
  }
  return digests;
}

function hashOnWorkers(
  jobs: readonly HashJob[],
  order: readonly number[],
  threads: number,
  cores: number,
  chunkBytes: number,
  options: HashJobsOptions,
): Promise<Uint8Array[]> {
  const queue = SharedQueue.create(jobs.length);
  const table = JobTable.create(jobs, order);
  const setup: WorkerSetup = { table: table.buffer, jobCount: jobs.length, cores, chunkBytes, shared: queue.buffer };
  const workers: Worker[] = [];
  return new Promise<Uint8Array[]>((resolve, reject) => {
    let exited = 0;
    let helping = true;
    let settled = false;
    let reported = 0;
    let reportedDone = 0;
    const report = () => {
      const hashed = queue.bytesHashed();
      const done = queue.completed();
      if (hashed > reported || done > reportedDone) options.onBytes?.(hashed - reported, done);
      reported = hashed;
      reportedDone = done;
    };
    const timer = options.onBytes ? setInterval(report, PROGRESS_INTERVAL_MS) : undefined;
    const finish = (err?: Error) => {
      if (settled) return;
      settled = true;
      clearInterval(timer);
      options.signal?.removeEventListener('abort', onAbort);
      if (err) {
        queue.stop();
        for (const w of workers) void w.terminate();
        reject(err);
        return;
      }
      if (queue.completed() !== jobs.length) {
        // A thread that exited without finishing its jobs and without an error: never a verdict on the files.
        reject(threadFailed(`Hashing threads finished ${queue.completed()} of ${jobs.length} jobs`));
        return;
      }
      report();
      resolve(jobs.map((job, id) => queue.digest(id, DIGEST_BYTES[job.algorithm])));
    };
    const finishIfDone = () => {
      if (exited === threads && !helping) finish();
    };
    const onAbort = () => finish(abortedError(options.signal, { doing: 'hashing' }));
    options.signal?.addEventListener('abort', onAbort, { once: true });

    for (let i = 0; i < threads; i++) {
      const worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: setup });
      workers.push(worker);
      worker.on('message', (msg: WorkerMessage) => finish(hashError(jobs[msg.id], msg)));
      worker.on('error', (err) => finish(threadFailed(`A hashing thread failed: ${err.message}`, err)));
      worker.on('exit', (code) => {
        if (code !== 0) finish(threadFailed(`A hashing thread stopped with exit code ${code}`));
        exited++;
        finishIfDone();
      });
    }
    void hashSmallJobsHere(jobs, table, queue, chunkBytes, () => settled).then(
      () => {
        helping = false;
        finishIfDone();
      },
      (err: Error) => finish(err),
    );
  });
}

/**
 * While the threads start (tens of milliseconds each) and then work on the
 * largest jobs, the calling thread hashes the smallest ones from the other
 * end of the queue: a model of thousands of small files is half done before
 * the threads are up. It takes only jobs of one read, and gives the event
 * loop a turn every few milliseconds for progress, aborts and the threads'
 * messages.
 */
async function hashSmallJobsHere(
  jobs: readonly HashJob[],
  table: JobTable,
  queue: SharedQueue,
  chunkBytes: number,
  stopped: () => boolean,
): Promise<void> {
  const isSmall = (position: number) => table.bytes(position) < chunkBytes;
  const buffers = new ReadBuffers(chunkBytes);
  const onBytes = (n: number) => queue.addBytes(n);
  let lastYield = performance.now();
  for (let position = queue.takeBack(isSmall); position >= 0 && !stopped(); position = queue.takeBack(isSmall)) {
    const id = table.id(position);
    const job = jobs[id];
    queue.setBusy(1);
    try {
      queue.complete(id, hashRangeSync(job, buffers, onBytes));
    } catch (err) {
      throw caughtError(job, err);
    } finally {
      queue.setBusy(-1);
    }
    if (performance.now() - lastYield > YIELD_INTERVAL_MS) {
      await new Promise<void>((r) => setImmediate(r));
      lastYield = performance.now();
    }
  }
}
