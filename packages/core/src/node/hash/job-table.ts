import { HASH_ALGORITHMS } from '../../format/manifest.js';
import type { HashJob } from './read-range.js';

// Layout, in this order (each part 8-byte aligned):
//   Float64 × 3n   start, end, file size of each job, in take order
//   Int32   × n    the job's id (its index in the caller's list)
//   Int32   × n+1  byte offsets of each path in the path bytes
//   Uint8   × n    the job's algorithm (index into HASH_ALGORITHMS)
//   UTF-8 path bytes
const align8 = (n: number) => Math.ceil(n / 8) * 8;

/**
 * The jobs, in the order threads take them, in one SharedArrayBuffer: each
 * hashing thread reads the same memory instead of receiving its own copy of
 * thousands of job objects (tens of MB for a model of 20,000 files on a
 * few threads).
 */
export class JobTable {
  private readonly ranges: Float64Array;
  private readonly ids: Int32Array;
  private readonly pathOffsets: Int32Array;
  private readonly algorithms: Uint8Array;
  private readonly pathBytes: Buffer;

  private constructor(
    readonly buffer: SharedArrayBuffer,
    readonly length: number,
  ) {
    let offset = 0;
    this.ranges = new Float64Array(buffer, offset, 3 * length);
    offset += 24 * length;
    this.ids = new Int32Array(buffer, offset, length);
    offset = align8(offset + 4 * length);
    this.pathOffsets = new Int32Array(buffer, offset, length + 1);
    offset = align8(offset + 4 * (length + 1));
    this.algorithms = new Uint8Array(buffer, offset, length);
    offset = align8(offset + length);
    this.pathBytes = Buffer.from(buffer, offset);
  }

  /** A table of `jobs` in the given take order (job ids). */
  static create(jobs: readonly HashJob[], order: readonly number[]): JobTable {
    const paths = order.map((id) => Buffer.from(jobs[id].path, 'utf8'));
    const pathBytes = paths.reduce((sum, p) => sum + p.length, 0);
    const n = order.length;
    const size = 24 * n + align8(4 * n) + align8(4 * (n + 1)) + align8(n) + pathBytes;
    const table = new JobTable(new SharedArrayBuffer(size), n);
    let at = 0;
    order.forEach((id, position) => {
      const job = jobs[id];
      table.ranges.set([job.start, job.end, job.fileSize], 3 * position);
      table.ids[position] = id;
      table.algorithms[position] = HASH_ALGORITHMS.indexOf(job.algorithm);
      table.pathOffsets[position] = at;
      paths[position].copy(table.pathBytes, at);
      at += paths[position].length;
    });
    table.pathOffsets[n] = at;
    return table;
  }

  /** The same table, seen from another thread. */
  static attach(buffer: SharedArrayBuffer, length: number): JobTable {
    return new JobTable(buffer, length);
  }

  /** The id (index in the caller's list) of the job at `position` in take order. */
  id(position: number): number {
    return this.ids[position];
  }

  /** Bytes to hash of the job at `position`. */
  bytes(position: number): number {
    return this.ranges[3 * position + 1] - this.ranges[3 * position];
  }

  /** The job at `position` in take order. */
  job(position: number): HashJob {
    return {
      path: this.pathBytes.toString('utf8', this.pathOffsets[position], this.pathOffsets[position + 1]),
      start: this.ranges[3 * position],
      end: this.ranges[3 * position + 1],
      fileSize: this.ranges[3 * position + 2],
      algorithm: HASH_ALGORITHMS[this.algorithms[position]],
    };
  }
}
