/** Browser side of hash-worker-pool.test.ts and of the worker part of hash-bench.ts. */
import { createHashWorkerPool, ModelSigningError, type HashAlgorithm, type HashSource } from '../../../src/browser.js';
import { toHex } from '../../../src/internal.js';

/** The harness serves src/browser/hash-worker.ts, bundled, here. */
const startWorker = () => new Worker('/hash-worker.js', { type: 'module' });

async function hashAll(sources: HashSource[], algorithm: HashAlgorithm, workers: number): Promise<string[]> {
  const pool = createHashWorkerPool({ size: workers, createWorker: startWorker });
  try {
    return (await Promise.all(sources.map((source) => pool.hash(algorithm, source)))).map(toHex);
  } finally {
    pool.close();
  }
}

/** Hex digests of the served files `/<name>`, each fetched and streamed inside a worker. */
export function hashUrls(names: string[], algorithm: HashAlgorithm, workers: number): Promise<string[]> {
  return hashAll(
    names.map((name) => new URL(name, location.href).href),
    algorithm,
    workers,
  );
}

/** Hex digests of the served files, first turned into Blobs in the page and streamed inside a worker. */
export async function hashBlobs(names: string[], algorithm: HashAlgorithm, workers: number): Promise<string[]> {
  const blobs = await Promise.all(names.map(async (name) => (await fetch(name)).blob()));
  return hashAll(blobs, algorithm, workers);
}

/** Hex digests of the served files read into ArrayBuffers in the page and handed to the workers; and whether each buffer was detached. */
export async function hashBuffers(
  names: string[],
  algorithm: HashAlgorithm,
  workers: number,
): Promise<{ digests: string[]; detached: boolean[] }> {
  const buffers = await Promise.all(names.map(async (name) => (await fetch(name)).arrayBuffer()));
  const digests = await hashAll(buffers, algorithm, workers);
  return { digests, detached: buffers.map((buffer) => buffer.byteLength === 0) };
}

/** Runs `action` and returns "ok" or the ModelSigningError code it failed with. */
async function codeOf(action: () => Promise<unknown>): Promise<string> {
  try {
    await action();
    return 'ok';
  } catch (err) {
    return err instanceof ModelSigningError ? err.code : `crash: ${String(err)}`;
  }
}

/** The same ArrayBuffer passed twice: the second job fails alone (it was detached by the first), and the pool goes on. */
async function detachedBuffer(): Promise<Record<string, string>> {
  const pool = createHashWorkerPool({ size: 1, createWorker: startWorker });
  try {
    const buffer = new Uint8Array([1, 2, 3]).buffer;
    const first = pool.hash('sha256', buffer);
    const second = pool.hash('sha256', buffer);
    return {
      bufferFirstUse: await codeOf(() => first),
      bufferSecondUse: await codeOf(() => second),
      bufferAfterwards: toHex(await pool.hash('sha256', new Uint8Array([1, 2, 3]).buffer)),
    };
  } finally {
    pool.close();
  }
}

/** Codes for the ways a pool can fail; none may hang. */
export async function failures(): Promise<Record<string, string>> {
  const pool = createHashWorkerPool({ size: 1, createWorker: startWorker });
  const missing = await codeOf(() => pool.hash('sha256', new URL('/no-such-file', location.href).href));
  const queued = [pool.hash('blake3', new Blob([new Uint8Array(1 << 20)])), pool.hash('blake3', new Blob([new Uint8Array(1 << 20)]))];
  pool.close();
  const broken = createHashWorkerPool({ size: 2, createWorker: () => new Worker('/no-such-worker.js', { type: 'module' }) });
  const result = {
    missingUrl: missing,
    closedWhileQueued: (await Promise.all(queued.map((job) => codeOf(() => job)))).join(','),
    afterClose: await codeOf(() => pool.hash('sha256', new Blob([]))),
    zeroWorkers: await codeOf(async () => createHashWorkerPool({ size: 0, createWorker: startWorker })),
    workerDoesNotLoad: await codeOf(() => broken.hash('sha256', new Blob([new Uint8Array(10)]))),
    ...(await detachedBuffer()),
  };
  broken.close();
  return result;
}

/**
 * MB/s hashing `files` random in-memory sources of `mib` MiB each with
 * `workers` workers, as Blobs (read through the browser process) or as
 * ArrayBuffers handed to the workers (copies made before the clock starts);
 * best of `rounds`.
 */
export async function benchWorkers(
  algorithm: HashAlgorithm,
  files: number,
  mib: number,
  workers: number,
  rounds: number,
  kind: 'blob' | 'buffer' = 'blob',
): Promise<number> {
  const contents = Array.from({ length: files }, () => {
    const bytes = new Uint8Array(mib * 1024 * 1024);
    for (let i = 0; i < bytes.length; i += 65_536) crypto.getRandomValues(bytes.subarray(i, i + 65_536));
    return bytes;
  });
  const blobs = contents.map((bytes) => new Blob([bytes]));
  const sources = (): HashSource[] => (kind === 'blob' ? blobs : contents.map((bytes) => bytes.slice().buffer));
  const pool = createHashWorkerPool({ size: workers, createWorker: startWorker });
  try {
    await Promise.all(Array.from({ length: workers }, () => pool.hash(algorithm, new Blob([])))); // load every worker's wasm first
    let best = Infinity;
    for (let r = 0; r < rounds; r++) {
      const round = sources();
      const start = performance.now();
      await Promise.all(round.map((source) => pool.hash(algorithm, source)));
      best = Math.min(best, performance.now() - start);
    }
    return (files * mib * 1024 * 1024) / 1e6 / (best / 1000);
  } finally {
    pool.close();
  }
}
