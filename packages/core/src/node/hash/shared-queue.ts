/** Room for the largest digest (blake2b, 64 bytes) per job. */
export const MAX_DIGEST_BYTES = 64;

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

/** What a hashing thread receives when it starts: shared memory and a few numbers, no copies of the jobs. */
export interface WorkerSetup {
  /** {@link JobTable.buffer}: the jobs in the order threads take them (largest first). */
  table: SharedArrayBuffer;
  jobCount: number;
  /** Cores the pool hashes on; a thread reads ahead only while fewer threads than this are busy. */
  cores: number;
  chunkBytes: number;
  /** {@link SharedQueue.buffer}. */
  shared: SharedArrayBuffer;
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
 * Threads take jobs with one compare-and-swap each, so a thread never waits
 * for a message between files, and digests need no message either.
 */
export class SharedQueue {
  private readonly control: Int32Array;
  private readonly counters: BigInt64Array;
  private readonly digests: Uint8Array;

  private constructor(readonly buffer: SharedArrayBuffer) {
    this.control = new Int32Array(buffer, 0, CONTROL_INTS);
    this.counters = new BigInt64Array(buffer, CONTROL_BYTES, 2);
    this.digests = new Uint8Array(buffer, CONTROL_BYTES + COUNTER_BYTES);
  }

  /** A fresh queue for `jobCount` jobs. */
  static create(jobCount: number): SharedQueue {
    const queue = new SharedQueue(new SharedArrayBuffer(CONTROL_BYTES + COUNTER_BYTES + jobCount * MAX_DIGEST_BYTES));
    queue.counters[RANGE] = BigInt(jobCount);
    return queue;
  }

  /** The same queue, seen from another thread. */
  static attach(buffer: SharedArrayBuffer): SharedQueue {
    return new SharedQueue(buffer);
  }

  /**
   * Takes the first position not yet taken (the largest job left), or
   * returns -1 when none is left or the pool stopped.
   */
  takeFront(): number {
    return this.take((front) => front);
  }

  /**
   * Takes the last position not yet taken (the smallest job left) if
   * `accept` agrees, or returns -1. The calling thread uses this to hash
   * small files while the threads start and work from the other end.
   */
  takeBack(accept: (position: number) => boolean): number {
    return this.take((_, back) => (accept(back - 1) ? back - 1 : -1));
  }

  // One compare-and-swap on both ends at once, so the two ends never take the same position.
  private take(choose: (front: number, back: number) => number): number {
    for (;;) {
      if (Atomics.load(this.control, STOP) !== 0) return -1;
      const range = Atomics.load(this.counters, RANGE);
      let front = Number(range >> 32n);
      let back = Number(range & LOW_32);
      if (front >= back) return -1;
      const position = choose(front, back);
      if (position < 0) return -1;
      if (position === front) front++;
      else back--;
      if (Atomics.compareExchange(this.counters, RANGE, range, (BigInt(front) << 32n) | BigInt(back)) === range) return position;
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

  /** Stores job `id`'s digest and counts the job as completed. */
  complete(id: number, digest: Uint8Array): void {
    this.digests.set(digest, id * MAX_DIGEST_BYTES);
    Atomics.add(this.control, COMPLETED, 1);
  }

  /** Jobs completed so far. */
  completed(): number {
    return Atomics.load(this.control, COMPLETED);
  }

  /** Job `id`'s digest (a view into shared memory). */
  digest(id: number, length: number): Uint8Array {
    return this.digests.subarray(id * MAX_DIGEST_BYTES, id * MAX_DIGEST_BYTES + length);
  }

  /** Makes every thread stop taking jobs. */
  stop(): void {
    Atomics.store(this.control, STOP, 1);
  }
}
