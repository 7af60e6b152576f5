import fs from 'node:fs';
import { throwIfAborted } from '../../cancellation.js';
import { ModelSigningError } from '../../errors.js';
import type { HashAlgorithm } from '../../format/manifest.js';
import { createHasher, digestRaw } from '../../format/hash-algorithms.js';

/**
 * Default size of each read. With reads placed well (see {@link ReadBuffers}),
 * 1 MiB measured best: 4 × 1 GiB on 2 cores took 1.37 s against 1.46 s with
 * 256 KiB and 1.55 s with 64 KiB; 2 and 4 MiB gained nothing. Reading ahead
 * also wants it large, since each read ahead costs a hand-off between threads.
 */
export const READ_CHUNK_BYTES = 1024 * 1024;

/** A byte range of one file to hash. */
export interface HashJob {
  path: string;
  start: number;
  /** Exclusive. */
  end: number;
  /** The file's size when it was listed; a different size at open means it changed. */
  fileSize: number;
}

/**
 * The jobs of one hash, as parallel arrays rather than an object per job (a
 * dataset has a million): job `i` hashes `[starts[i], ends[i])` of the file
 * at `paths[i]`, listed with `fileSizes[i]` bytes.
 */
export interface HashJobList {
  algorithm: HashAlgorithm;
  paths: readonly string[];
  starts: ArrayLike<number>;
  ends: ArrayLike<number>;
  fileSizes: ArrayLike<number>;
}

const PAGE_BYTES = 4096;
const WASM_PAGE_BYTES = 65536;
// Where, within a page, a read lands relative to where it comes from: half a page.
const PAGE_SKEW = 2048;

/**
 * The two buffers one hashing thread reuses for every job: one being hashed
 * while the other is filled ahead.
 *
 * Where a read lands matters. The kernel copies out of the page cache with
 * `rep movsb`, which on the x86 CPUs measured here runs 2 to 5 times slower
 * when the destination sits 1 to 31 bytes past the source's offset within a
 * 4 KiB page, and `malloc` puts a large `Buffer` exactly 16 bytes past a page
 * boundary, the worst case for the page-aligned reads hashing makes (Python's
 * bytes objects happen to land 48 bytes past one, which is why its reads were
 * faster). So the buffers are carved from a WebAssembly memory, the one
 * allocation whose page alignment JavaScript can rely on, and every read is
 * placed half a page away from its source's offset: 1 GiB is copied out of
 * the page cache in 0.05 s instead of 0.12 s.
 */
export class ReadBuffers {
  private readonly slots: readonly [Buffer, Buffer];

  /** Allocates buffers for reads of up to `chunkBytes`. */
  constructor(readonly chunkBytes: number = READ_CHUNK_BYTES) {
    const slotBytes = Math.ceil((chunkBytes + PAGE_BYTES) / PAGE_BYTES) * PAGE_BYTES;
    const memory = new WebAssembly.Memory({ initial: Math.ceil((2 * slotBytes) / WASM_PAGE_BYTES) });
    this.slots = [Buffer.from(memory.buffer, 0, slotBytes), Buffer.from(memory.buffer, slotBytes, slotBytes)];
  }

  /** Where to read `length` bytes from file offset `position` into buffer `slot` (0 or 1). */
  destination(slot: number, position: number, length: number): Buffer {
    const offset = (position + PAGE_SKEW) % PAGE_BYTES;
    return this.slots[slot].subarray(offset, offset + length);
  }
}

function changed(job: HashJob, what: string): ModelSigningError {
  return new ModelSigningError({
    code: 'READ_FAILED',
    path: job.path,
    message: `Could not hash '${job.path}': it ${what} while being signed or verified; hash it again once nothing writes to it`,
  });
}

function changedSize(job: HashJob, size: number): ModelSigningError {
  return changed(job, `changed (listed with ${job.fileSize} bytes, now ${size})`);
}

// Non-blocking, so a file swapped for a FIFO after the walk cannot hold the
// open (and the whole verification) until a writer appears; it makes no
// difference to regular files. Windows has no such flag and no FIFOs to open.
const OPEN_FLAGS = fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0);

/**
 * Opens a listed file and checks, on the open descriptor (so nothing can be
 * swapped in between), that it is still a regular file.
 */
function openRegular(job: HashJob): { fd: number; size: number } {
  const fd = fs.openSync(job.path, OPEN_FLAGS);
  let stats: fs.Stats;
  try {
    stats = fs.fstatSync(fd);
  } catch (err) {
    fs.closeSync(fd);
    throw err;
  }
  if (!stats.isFile()) {
    fs.closeSync(fd);
    throw new ModelSigningError({
      code: 'SPECIAL_FILE',
      path: job.path,
      message: `'${job.path}' is no longer a regular file (it was replaced by a directory, device, socket or FIFO after the model was listed)`,
    });
  }
  return { fd, size: stats.size };
}

function openChecked(job: HashJob): number {
  const { fd, size } = openRegular(job);
  if (size !== job.fileSize) {
    fs.closeSync(fd);
    throw changedSize(job, size);
  }
  return fd;
}

/**
 * A whole file that fits in the buffer with a byte to spare: one read asks
 * for one byte more than the listed size, so getting exactly the listed size
 * proves the size is unchanged without a stat, and the digest is one call.
 */
function hashSmallFile(job: HashJob, algorithm: HashAlgorithm, buffers: ReadBuffers, onBytes?: (n: number) => void): Uint8Array {
  const buffer = buffers.destination(0, 0, job.fileSize + 1);
  const { fd } = openRegular(job);
  let got: number;
  try {
    got = fs.readSync(fd, buffer, 0, buffer.length, 0);
    if (got !== job.fileSize) throw changedSize(job, fs.fstatSync(fd).size);
  } finally {
    fs.closeSync(fd);
  }
  onBytes?.(got);
  return digestRaw(algorithm, buffer.subarray(0, got));
}

function endedEarly(job: HashJob, position: number): ModelSigningError {
  return changed(job, `ended at byte ${position}`);
}

function readAt(fd: number, buffer: Buffer, position: number): Promise<number> {
  return new Promise((resolve, reject) => {
    fs.read(fd, buffer, 0, buffer.length, position, (err, bytesRead) => (err ? reject(err) : resolve(bytesRead)));
  });
}

/**
 * Hashes `[start, end)` of a file with synchronous reads into one reused
 * buffer and returns the raw digest. Synchronous on purpose: in a hashing
 * thread, blocking costs nothing, and for small files it avoids the libuv
 * pool's round trips.
 *
 * @throws {ModelSigningError} `READ_FAILED` when the file's size changed since it
 *   was listed or it ends early, `SPECIAL_FILE` when it is no longer a regular
 *   file; system errors (`ENOENT`, `EIO`, …) as thrown by `node:fs`.
 */
export function hashRangeSync(job: HashJob, algorithm: HashAlgorithm, buffers: ReadBuffers, onBytes?: (n: number) => void): Uint8Array {
  if (job.start === 0 && job.end === job.fileSize && job.fileSize < buffers.chunkBytes)
    return hashSmallFile(job, algorithm, buffers, onBytes);
  const hasher = createHasher(algorithm);
  const fd = openChecked(job);
  try {
    let position = job.start;
    while (position < job.end) {
      const buffer = buffers.destination(0, position, Math.min(buffers.chunkBytes, job.end - position));
      const got = fs.readSync(fd, buffer, 0, buffer.length, position);
      if (got === 0) throw endedEarly(job, position);
      hasher.update(buffer.subarray(0, got));
      position += got;
      onBytes?.(got);
    }
  } finally {
    fs.closeSync(fd);
  }
  return hasher.digest();
}

/** How {@link hashRangeReadingAhead} reads, reports and stops. */
export interface ReadAheadOptions {
  /** Asked before every chunk: whether to read the next one on the libuv pool while this one is hashed. */
  readAhead: () => boolean;
  onBytes?: ((n: number) => void) | undefined;
  /** Checked before every chunk; an aborted signal stops the hash with an error. */
  signal?: AbortSignal | undefined;
}

/**
 * Hashing on the calling thread gives the event loop a turn this often, so
 * aborts and progress displays are not starved by one big file or by
 * thousands of small ones.
 */
export const YIELD_INTERVAL_MS = 20;

/**
 * Hashes `[start, end)` of a file like {@link hashRangeSync}, but while a
 * chunk is being hashed, the next one can be read into the other buffer by
 * the libuv thread pool. Reading ahead only pays when a core is idle to do
 * the copy out of the page cache (or to wait for the disk); when every core
 * is already hashing it only adds thread hand-offs, so the caller answers
 * `readAhead` from how busy the pool is.
 *
 * @throws when the file's size changed since it was listed or it ends
 *   early, or when `signal` is aborted.
 */
export async function hashRangeReadingAhead(
  job: HashJob,
  algorithm: HashAlgorithm,
  buffers: ReadBuffers,
  options: ReadAheadOptions,
): Promise<Uint8Array> {
  const hasher = createHasher(algorithm);
  const fd = openChecked(job);
  // A read in flight: into which buffer, and its result.
  let pending: { buffer: Buffer; read: Promise<number> } | undefined;
  try {
    let current = 0;
    let position = job.start;
    let lastTurn = performance.now();
    while (position < job.end) {
      throwIfAborted(options.signal, { doing: 'hashing' });
      let buffer: Buffer;
      let got: number;
      if (pending) {
        buffer = pending.buffer;
        const read = pending.read;
        pending = undefined;
        got = await read;
        lastTurn = performance.now();
      } else {
        if (performance.now() - lastTurn > YIELD_INTERVAL_MS) {
          await new Promise<void>((r) => setImmediate(r));
          lastTurn = performance.now();
        }
        buffer = buffers.destination(current, position, Math.min(buffers.chunkBytes, job.end - position));
        got = fs.readSync(fd, buffer, 0, buffer.length, position);
      }
      if (got === 0) throw endedEarly(job, position);
      position += got;
      // The next read goes into the other buffer, so it can run while this one is hashed.
      current ^= 1;
      if (position < job.end && options.readAhead()) {
        const next = buffers.destination(current, position, Math.min(buffers.chunkBytes, job.end - position));
        pending = { buffer: next, read: readAt(fd, next, position) };
      }
      hasher.update(buffer.subarray(0, got));
      options.onBytes?.(got);
    }
  } finally {
    // Never close the descriptor under a read still in flight.
    if (pending) await pending.read.catch(() => 0);
    fs.closeSync(fd);
  }
  return hasher.digest();
}
