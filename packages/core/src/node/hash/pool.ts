import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { abortedError } from '../../cancellation.js';
import { ModelSigningError, type ErrorCode } from '../../errors.js';
import { DIGEST_BYTES } from '../../format/hash-algorithms.js';
import { READ_CHUNK_BYTES, YIELD_INTERVAL_MS, ReadBuffers, hashRangeReadingAhead, hashRangeSync, type HashJobList } from './read-range.js';
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
function hashError(path: string, failure: { message: string; code?: string | undefined; typed?: boolean }): ModelSigningError {
  if (failure.typed && failure.code) {
    return new ModelSigningError({ code: failure.code as ErrorCode, path, message: failure.message });
  }
  // Node's messages start with the errno name ("EIO: i/o error, read"); add it when one does not.
  const errno = failure.code && !failure.message.includes(failure.code) ? ` (${failure.code})` : '';
  return new ModelSigningError({
    code: 'READ_FAILED',
    path,
    message: `Could not read '${path}': ${failure.message}${errno}`,
  });
}

/** A hashing thread that failed outside any job (it could not start, or died): typed, and never a verdict on the files. */
function threadFailed(message: string, cause?: unknown): ModelSigningError {
  return new ModelSigningError({ code: 'READ_FAILED', cause, message });
}

/** {@link hashError} for an error caught on this thread. */
function caughtError(path: string, err: unknown): ModelSigningError {
  if (err instanceof ModelSigningError) return err;
  const e = err as NodeJS.ErrnoException;
  return hashError(path, { message: e.message, code: e.code });
}

/** The default number of cores to hash on: every core the process may use. */
export function defaultWorkerCount(): number {
  return Math.max(1, os.availableParallelism());
}

/** Most threads the planner may use: enough to keep each big file of a model in flight, bounded for memory. */
function maxPlannedThreads(cores: number): number {
  return Math.min(3 * cores, cores + 8);
}

/** The digests (`digestBytes` each, job after job) as lowercase hex, one string per job. */
function toHex(digests: Uint8Array, digestBytes: number, count: number): string[] {
  const bytes = Buffer.from(digests.buffer, digests.byteOffset, count * digestBytes);
  const hex = new Array<string>(count);
  for (let i = 0; i < count; i++) hex[i] = bytes.toString('hex', i * digestBytes, (i + 1) * digestBytes);
  return hex;
}

/**
 * Job ids, largest job first (ties in list order): the order threads take
 * them in. Sizes and ids are packed into one number per job and sorted
 * natively, which for a million jobs is ten times faster than a comparator.
 */
export function largestFirst(list: Pick<HashJobList, 'starts' | 'ends'>): Int32Array {
  const n = list.starts.length;
  const order = new Int32Array(n);
  const idBits = Math.max(1, Math.ceil(Math.log2(n + 1)));
  const idRange = 2 ** idBits;
  const maxBytes = 2 ** (53 - idBits);
  const keys = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const bytes = list.ends[i] - list.starts[i];
    if (bytes >= maxBytes) {
      // Too big to pack: sort with a comparator instead.
      const ids = Array.from({ length: n }, (_, id) => id);
      ids.sort((a, b) => list.ends[b] - list.starts[b] - (list.ends[a] - list.starts[a]) || a - b);
      order.set(ids);
      return order;
    }
    keys[i] = bytes * idRange + (idRange - 1 - i);
  }
  keys.sort();
  for (let i = 0; i < n; i++) order[i] = idRange - 1 - (keys[n - 1 - i] % idRange);
  return order;
}

/**
 * Hashes every job and returns the hex digests in job order.
 *
 * Jobs are taken largest first from a queue in shared memory (a big file
 * alone, small files in batches), so a thread never waits for the calling
 * thread between files, and each thread reads its files itself: no file
 * bytes cross threads. Tiny inputs are hashed on the calling thread. The
 * result never depends on the number of threads, the chunk size or the
 * scheduling.
 */
export async function hashJobs(list: HashJobList, options: HashJobsOptions = {}): Promise<string[]> {
  if (options.signal?.aborted) throw abortedError(options.signal, { doing: 'hashing' });
  const count = list.paths.length;
  const chunkBytes = options.chunkBytes ?? READ_CHUNK_BYTES;
  const cores = defaultWorkerCount();
  const order = largestFirst(list);
  const threads =
    options.workers !== undefined
      ? Math.min(options.workers, count)
      : planThreads({
          costs: Array.from(order, (id) => jobCost(list.ends[id] - list.starts[id])),
          cores,
          maxThreads: maxPlannedThreads(cores),
        });
  const digestBytes = DIGEST_BYTES[list.algorithm];
  const digests =
    threads <= 1
      ? await hashOnThisThread(list, order, digestBytes, chunkBytes, cores > 1, options)
      : await hashOnWorkers(list, order, digestBytes, threads, Math.min(cores, threads), chunkBytes, options);
  return toHex(digests, digestBytes, count);
}

async function hashOnThisThread(
  list: HashJobList,
  order: Int32Array,
  digestBytes: number,
  chunkBytes: number,
  spareCores: boolean,
  options: HashJobsOptions,
): Promise<Uint8Array> {
  const buffers = new ReadBuffers(chunkBytes);
  const digests = new Uint8Array(order.length * digestBytes);
  // Without threads, the other cores are idle: reading ahead lets one of them copy while this one hashes.
  const readAhead = () => spareCores;
  let lastYield = performance.now();
  let done = 0;
  const report = options.onBytes;
  const onBytes = report && ((n: number) => report(n, done));
  for (const id of order) {
    if (options.signal?.aborted) throw abortedError(options.signal, { doing: 'hashing' });
    const job = { path: list.paths[id], start: list.starts[id], end: list.ends[id], fileSize: list.fileSizes[id] };
    try {
      digests.set(
        job.end - job.start > chunkBytes
          ? await hashRangeReadingAhead(job, list.algorithm, buffers, { readAhead, onBytes, signal: options.signal })
          : hashRangeSync(job, list.algorithm, buffers, onBytes),
        id * digestBytes,
      );
    } catch (err) {
      if (options.signal?.aborted) throw abortedError(options.signal, { doing: 'hashing' });
      throw caughtError(job.path, err);
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
  list: HashJobList,
  order: Int32Array,
  digestBytes: number,
  threads: number,
  cores: number,
  chunkBytes: number,
  options: HashJobsOptions,
): Promise<Uint8Array> {
  const count = order.length;
  const queue = SharedQueue.create(count, digestBytes);
  const table = JobTable.create(list, order);
  const setup: WorkerSetup = {
    table: table.buffer,
    jobCount: count,
    prefixBytes: table.prefixBytes,
    algorithm: list.algorithm,
    cores,
    chunkBytes,
    shared: queue.buffer,
    digestBytes,
  };
  const workers: Worker[] = [];
  return new Promise<Uint8Array>((resolve, reject) => {
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
      if (queue.completed() !== count) {
        // A thread that exited without finishing its jobs and without an error: never a verdict on the files.
        reject(threadFailed(`Hashing threads finished ${queue.completed()} of ${count} jobs`));
        return;
      }
      report();
      resolve(queue.digestBytesView());
    };
    const finishIfDone = () => {
      if (exited === threads && !helping) finish();
    };
    const onAbort = () => finish(abortedError(options.signal, { doing: 'hashing' }));
    options.signal?.addEventListener('abort', onAbort, { once: true });

    for (let i = 0; i < threads; i++) {
      const worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: setup });
      workers.push(worker);
      worker.on('message', (msg: WorkerMessage) => finish(hashError(list.paths[msg.id], msg)));
      worker.on('error', (err) => finish(threadFailed(`A hashing thread failed: ${err.message}`, err)));
      worker.on('exit', (code) => {
        if (code !== 0) finish(threadFailed(`A hashing thread stopped with exit code ${code}`));
        exited++;
        finishIfDone();
      });
    }
    void hashSmallJobsHere(list, table, queue, chunkBytes, () => settled).then(
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
 * largest jobs, the calling thread hashes the smallest ones, in batches,
 * from the other end of the queue: a model of thousands of small files is
 * half done before the threads are up. It takes only whole files of one
 * read, and gives the event loop a turn every few milliseconds for
 * progress, aborts and the threads' messages.
 */
async function hashSmallJobsHere(
  list: HashJobList,
  table: JobTable,
  queue: SharedQueue,
  chunkBytes: number,
  stopped: () => boolean,
): Promise<void> {
  const buffers = new ReadBuffers(chunkBytes);
  const { algorithm } = list;
  let lastYield = performance.now();
  for (let first = queue.takeBack(table, chunkBytes); first >= 0 && !stopped(); first = queue.takeBack(table, chunkBytes)) {
    const end = first + queue.taken;
    queue.setBusy(1);
    let id = -1;
    try {
      let bytes = 0;
      for (let position = first; position < end; position++) {
        id = table.id(position);
        const fileSize = list.fileSizes[id];
        queue.setDigest(id, hashRangeSync({ path: list.paths[id], start: 0, end: fileSize, fileSize }, algorithm, buffers));
        bytes += fileSize;
      }
      queue.addBytes(bytes);
      queue.completeJobs(end - first);
    } catch (err) {
      throw caughtError(list.paths[id], err);
    } finally {
      queue.setBusy(-1);
    }
    if (performance.now() - lastYield > YIELD_INTERVAL_MS) {
      await new Promise<void>((r) => setImmediate(r));
      lastYield = performance.now();
    }
  }
}
