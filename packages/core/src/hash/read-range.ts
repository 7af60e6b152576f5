import fs from 'node:fs';
import type { HashAlgorithm } from '../manifest/manifest.js';
import { createHasher } from './algorithms.js';

/** Size of the reused read buffer: large enough to amortize syscalls, small enough to stay in cache. */
export const READ_CHUNK_BYTES = 4 * 1024 * 1024;

/** A byte range of one file to hash. */
export interface HashJob {
  path: string;
  start: number;
  /** Exclusive. */
  end: number;
  algorithm: HashAlgorithm;
}

/**
 * Hashes `[start, end)` of a file with synchronous reads into one reused
 * buffer. Synchronous on purpose: it runs inside a worker thread whose only
 * job is this, so blocking costs nothing and avoids the libuv pool.
 *
 * @throws when the file is shorter than `end` (it changed while being read).
 */
export function hashRangeSync(job: HashJob, buffer: Buffer, onBytes?: (n: number) => void): string {
  const hasher = createHasher(job.algorithm);
  const fd = fs.openSync(job.path, 'r');
  try {
    let position = job.start;
    while (position < job.end) {
      const want = Math.min(buffer.length, job.end - position);
      const got = fs.readSync(fd, buffer, 0, want, position);
      if (got === 0) throw new Error(`File '${job.path}' ended at byte ${position} while hashing; it changed during hashing`);
      hasher.update(buffer.subarray(0, got));
      position += got;
      onBytes?.(got);
    }
  } finally {
    fs.closeSync(fd);
  }
  return hasher.digest();
}
