/**
 * Hashes several files at once in module Web Workers, one file per worker at
 * a time, each streamed through the hash registry. One file is hashed on one
 * core; parallelism comes from hashing different files side by side.
 */
import { ModelSigningError } from '../errors.js';
import type { HashAlgorithm } from '../format/manifest.js';
import type { HashRequest, HashResponse, HashSource } from './hash-worker-protocol.js';

export type { HashSource } from './hash-worker-protocol.js';

/** Options of {@link createHashWorkerPool}. */
export interface HashWorkerPoolParams {
  /** Number of workers: at most this many files are hashed at once. */
  size: number;
  /**
   * Starts one module worker that runs `@model-signing/core/browser/hash-worker`.
   * The caller makes it because only the caller's bundler knows the worker's
   * URL: e.g. a file `my-hash-worker.js` holding
   * `import '@model-signing/core/browser/hash-worker';`, started with
   * `() => new Worker(new URL('./my-hash-worker.js', import.meta.url), { type: 'module' })`.
   */
  createWorker: () => Worker;
}

/** A pool of hashing workers; `close()` it when done. */
export interface HashWorkerPool {
  /**
   * Raw digest of one source; runs as soon as a worker is free. An
   * ArrayBuffer is handed over: it is detached when its job starts, so pass
   * a copy (`bytes.slice().buffer`) to keep using the bytes.
   */
  hash(algorithm: HashAlgorithm, source: HashSource): Promise<Uint8Array>;
  /** Terminates the workers; pending and running jobs reject with `ABORTED`. */
  close(): void;
}

interface Job {
  request: HashRequest;
  resolve(digest: Uint8Array): void;
  reject(error: ModelSigningError): void;
}

/**
 * Starts `size` workers.
 *
 * @throws {ModelSigningError} `INVALID_ARGUMENT` if `size` is not a positive integer.
 */
export function createHashWorkerPool(params: HashWorkerPoolParams): HashWorkerPool {
  if (!Number.isInteger(params.size) || params.size < 1) {
    throw new ModelSigningError({
      code: 'INVALID_ARGUMENT',
      message: `The hash worker pool size must be a positive integer, got ${params.size}`,
    });
  }
  const queue: Job[] = [];
  const running = new Map<Worker, Job>();
  const idle: Worker[] = [];
  const live = new Set<Worker>();
  let closed = false;

  const dispatch = () => {
    while (idle.length > 0 && queue.length > 0) {
      const worker = idle[idle.length - 1];
      const job = queue.shift()!;
      const { source } = job.request;
      try {
        // Bytes in memory move to the worker without a copy; a Blob or URL is read by the worker itself.
        worker.postMessage(job.request, source instanceof ArrayBuffer ? [source] : []);
      } catch (cause) {
        // A source that cannot be sent (an ArrayBuffer already detached, e.g. passed twice) fails its own job; the worker stays free.
        job.reject(
          new ModelSigningError({
            code: 'INVALID_ARGUMENT',
            cause,
            message: `The hash source cannot be sent to a worker: ${(cause as Error).message}`,
          }),
        );
        continue;
      }
      idle.pop();
      running.set(worker, job);
    }
  };
  const finish = (worker: Worker) => {
    const job = running.get(worker);
    running.delete(worker);
    idle.push(worker);
    dispatch();
    return job;
  };

  const workers = Array.from({ length: params.size }, () => {
    const worker = params.createWorker();
    worker.onmessage = ({ data }: MessageEvent<HashResponse>) => {
      const job = finish(worker);
      if (!job) return;
      if ('digest' in data) job.resolve(data.digest);
      else job.reject(new ModelSigningError({ code: data.error.code, message: data.error.message }));
    };
    // A worker that fails to load or throws outside a job cannot be trusted
    // with more work: fail its job and take it out of the pool.
    worker.onerror = (event: ErrorEvent) => {
      event.preventDefault();
      if (!live.delete(worker)) return;
      const job = running.get(worker);
      running.delete(worker);
      if (idle.includes(worker)) idle.splice(idle.indexOf(worker), 1);
      worker.terminate();
      const failed = () =>
        new ModelSigningError({ code: 'ABORTED', message: `A hashing worker failed: ${event.message || 'it could not start'}` });
      job?.reject(failed());
      // With no worker left, queued jobs would wait forever.
      if (live.size === 0) for (const queued of queue.splice(0)) queued.reject(failed());
    };
    idle.push(worker);
    live.add(worker);
    return worker;
  });

  return {
    hash(algorithm, source) {
      if (closed || live.size === 0) {
        return Promise.reject(
          new ModelSigningError({ code: 'ABORTED', message: closed ? 'The hash worker pool is closed' : 'Every hashing worker failed' }),
        );
      }
      return new Promise((resolve, reject) => {
        queue.push({ request: { algorithm, source }, resolve, reject });
        dispatch();
      });
    },
    close() {
      closed = true;
      for (const worker of workers) worker.terminate();
      const aborted = () =>
        new ModelSigningError({ code: 'ABORTED', message: 'The hash worker pool was closed before the file was hashed' });
      for (const job of [...running.values(), ...queue.splice(0)]) job.reject(aborted());
      running.clear();
    },
  };
}
