/** Messages between {@link HashWorkerPool} and its module workers (hash-worker.ts). */
import type { ErrorCode } from '../errors.js';
import type { HashAlgorithm } from '../format/manifest.js';

/**
 * What to hash: a Blob (a File, a cached response's blob), a URL to fetch, or
 * bytes already in memory as an ArrayBuffer, which is transferred to the
 * worker (detached from the caller) rather than copied.
 */
export type HashSource = Blob | string | ArrayBuffer;

/** A job sent to a worker; a worker runs one job at a time, so answers need no id. */
export interface HashRequest {
  algorithm: HashAlgorithm;
  source: HashSource;
}

/** A worker's answer: the raw digest, or the error it hit. */
export type HashResponse = { digest: Uint8Array } | { error: { code: ErrorCode; message: string } };
