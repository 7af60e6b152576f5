import type { HashAlgorithm } from '../../format/manifest.js';
import type { JobTable } from './job-table.js';

// Int32 slots of the control block.
const BUSY = 0; // threads hashing a job right now
const COMPLETED = 1; // jobs whose digest has been written
const STOP = 2; // set to 1 to make every thread stop taking jobs
const CONTROL_INTS = 4;
const CONTROL_BYTES = CONTROL_INTS * 4;
// BigInt64 slots after the control block.
const RANGE = 0; // the positions not yet taken, [front, back), packed as front << 32 | back
const BYTES = 1; // bytes hashed so far
const COUNTER_BYTES = 16;
const LOW_32 = 0xffffffffn;

/**
 * Most small files a thread takes at once, and most bytes: taking, counting
 * and reporting once per batch instead of once per file. A batch of 4 KiB
 * files is well under a millisecond of work, so threads still finish together.
 */
export const BATCH_JOBS = 64;
export const BATCH_BYTES = 1024 * 1024;

/** What a hashing thread receives when it starts: shared memory and a few numbers, no copies of the jobs. */
export interface WorkerSetup {
  /** {@link JobTable.buffer}: the jobs in the order threads take them (largest first). */
  table: SharedArrayBuffer;
  jobCount: number;
  /** UTF-8 bytes of the path prefix the table stores once. */
  prefixBytes: number;
  algorithm: HashAlgorithm;
  /** Cores the pool hashes on; a thread reads ahead only while fewer threads than this are busy. */
  cores: number;
  chunkBytes: number;
  /** {@link SharedQueue.buffer}. */
  shared: SharedArrayBuffer;
  /** {@link SharedQueue.digestBytes}. */
  digestBytes: number;
}

/** A hashing thread reports only failures; success is its clean exit. */
export interface WorkerMessage {
  id: number;
  message: string;
  /** A system error's code (`EIO`), or the `ErrorCode` of a typed error. */
  code?: string;
  /** Whether `code` is an `ErrorCode` (the error was a `ModelSigningError`). */
  typed?: boolean;
}

/**
 * The state the calling thread and the hashing threads share: which job is
 * next, how many threads are busy, bytes hashed, and every job's digest.
 * Threads take jobs (a big one, or a batch of small ones) with one
 * compare-and-swap, so a thread never waits for a message between files,
 * and digests need no message either.
 */
export class SharedQueue {
  private readonly control: Int32Array;
  private readonly counters: BigInt64Array;
  private readonly digests: Uint8Array;
  /** How many positions the last successful take returned (this thread's own state). */
  taken = 0;

  private constructor(
    readonly buffer: SharedArrayBuffer,
    /** Bytes of each job's digest slot. */
    readonly digestBytes: number,
  ) {
    this.control = new Int32Array(buffer, 0, CONTROL_INTS);
    this.counters = new BigInt64Array(buffer, CONTROL_BYTES, 2);
    this.digests = new Uint8Array(buffer, CONTROL_BYTES + COUNTER_BYTES);
  }

  /** A fresh queue for `jobCount` jobs whose digests have `digestBytes` bytes. */
  static create(jobCount: number, digestBytes: number): SharedQueue {
    const queue = new SharedQueue(new SharedArrayBuffer(CONTROL_BYTES + COUNTER_BYTES + jobCount * digestBytes), digestBytes);
    queue.counters[RANGE] = BigInt(jobCount);
    return queue;
  }

  /** The same queue, seen from another thread. */
  static attach(buffer: SharedArrayBuffer, digestBytes: number): SharedQueue {
    return new SharedQueue(buffer, digestBytes);
  }

  /**
   * Takes positions from the front (the largest jobs left): one job that
   * needs several reads, or a batch of up to {@link BATCH_JOBS} small ones.
   * Returns the first position taken ({@link taken} says how many), or -1
   * when none is left or the pool stopped.
   */
  takeFront(table: JobTable, chunkBytes: number): number {
    for (;;) {
      if (Atomics.load(this.control, STOP) !== 0) return -1;
      const range = Atomics.load(this.counters, RANGE);
      const front = Number(range >> 32n);
      const back = Number(range & LOW_32);
      if (front >= back) return -1;
      let end = front + 1;
      if (table.isSmall(front, chunkBytes)) {
        let bytes = table.bytes(front);
        while (end < back && end - front < BATCH_JOBS && bytes < BATCH_BYTES && table.isSmall(end, chunkBytes)) bytes += table.bytes(end++);
      }
      if (Atomics.compareExchange(this.counters, RANGE, range, (BigInt(end) << 32n) | BigInt(back)) === range) {
        this.taken = end - front;
        return front;
      }
    }
  }

  /**
   * Takes a batch of small jobs from the back (the smallest left), or
   * returns -1 when the last one left is not small. The calling thread uses
   * this to hash small files while the threads start and work from the
   * other end; the two ends never take the same position.
   */
  takeBack(table: JobTable, chunkBytes: number): number {
    for (;;) {
      if (Atomics.load(this.control, STOP) !== 0) return -1;
      const range = Atomics.load(this.counters, RANGE);
      const front = Number(range >> 32n);
      const back = Number(range & LOW_32);
      if (front >= back || !table.isSmall(back - 1, chunkBytes)) return -1;
      let start = back - 1;
      let bytes = table.bytes(start);
      while (start > front && back - start < BATCH_JOBS && bytes < BATCH_BYTES && table.isSmall(start - 1, chunkBytes))
        bytes += table.bytes(--start);
      if (Atomics.compareExchange(this.counters, RANGE, range, (BigInt(front) << 32n) | BigInt(start)) === range) {
        this.taken = back - start;
        return start;
      }
    }
  }

  /** Marks this thread busy (+1) or idle (-1). */
  setBusy(delta: 1 | -1): void {
    Atomics.add(this.control, BUSY, delta);
  }

  /** Threads hashing a job right now. */
  busyThreads(): number {
    return Atomics.load(this.control, BUSY);
  }

  /** Records hashed bytes for progress. */
  addBytes(bytes: number): void {
    Atomics.add(this.counters, BYTES, BigInt(bytes));
  }

  /** Bytes hashed so far, by all threads. */
  bytesHashed(): number {
    return Number(Atomics.load(this.counters, BYTES));
  }

  /** Stores job `id`'s digest (not yet counted: see {@link completeJobs}). */
  setDigest(id: number, digest: Uint8Array): void {
    this.digests.set(digest, id * this.digestBytes);
  }

  /** Counts `count` jobs, whose digests are stored, as completed. */
  completeJobs(count: number): void {
    Atomics.add(this.control, COMPLETED, count);
  }

  /** Jobs completed so far. */
  completed(): number {
    return Atomics.load(this.control, COMPLETED);
  }

  /** The digests, job by job (`digestBytes` each, in job id order). */
  digestBytesView(): Uint8Array {
    return this.digests;
  }

  /** Makes every thread stop taking jobs. */
  stop(): void {
    Atomics.store(this.control, STOP, 1);
  }
}
