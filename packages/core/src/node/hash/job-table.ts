import type { HashJob, HashJobList } from './read-range.js';

// Layout, in this order (each part 8-byte aligned):
//   Float64 × 3n   start, end, file size of each job, in take order
//   Float64 × n+1  byte offsets of each path suffix in the path bytes
//   Int32   × n    the job's id (its index in the caller's list)
//   UTF-8 bytes of the common path prefix, then of every path's suffix
const align8 = (n: number) => Math.ceil(n / 8) * 8;

/**
 * The longest prefix of every path that ends at a separator: the paths of a
 * model share its root, which is stored once instead of a million times.
 */
function commonDirectoryPrefix(paths: readonly string[]): string {
  if (paths.length === 0) return '';
  const first = paths[0];
  let prefix = first.slice(0, Math.max(first.lastIndexOf('/'), first.lastIndexOf('\\')) + 1);
  for (const p of paths) {
    while (prefix !== '' && !p.startsWith(prefix)) {
      const cut = prefix.slice(0, -1);
      prefix = cut.slice(0, Math.max(cut.lastIndexOf('/'), cut.lastIndexOf('\\')) + 1);
    }
    if (prefix === '') break;
  }
  return prefix;
}

/**
 * The jobs, in the order threads take them, in one SharedArrayBuffer: each
 * hashing thread reads the same memory instead of receiving its own copy of
 * a million job objects. Paths are stored once, as UTF-8, after the prefix
 * they all share.
 */
export class JobTable {
  private readonly ranges: Float64Array;
  private readonly pathOffsets: Float64Array;
  private readonly ids: Int32Array;
  private readonly pathBytes: Buffer;
  private readonly prefix: string;

  private constructor(
    readonly buffer: SharedArrayBuffer,
    readonly length: number,
    readonly prefixBytes: number,
  ) {
    let offset = 0;
    this.ranges = new Float64Array(buffer, offset, 3 * length);
    offset += 24 * length;
    this.pathOffsets = new Float64Array(buffer, offset, length + 1);
    offset += 8 * (length + 1);
    this.ids = new Int32Array(buffer, offset, length);
    offset = align8(offset + 4 * length);
    this.pathBytes = Buffer.from(buffer, offset);
    this.prefix = this.pathBytes.toString('utf8', 0, prefixBytes);
  }

  /** A table of the jobs of `list` in the given take order (job ids). */
  static create(list: HashJobList, order: ArrayLike<number>): JobTable {
    const n = order.length;
    const prefix = commonDirectoryPrefix(list.paths);
    const prefixBytes = Buffer.byteLength(prefix);
    let pathBytes = prefixBytes;
    for (const p of list.paths) pathBytes += Buffer.byteLength(p) - prefixBytes;
    const size = 24 * n + 8 * (n + 1) + align8(4 * n) + pathBytes;
    const table = new JobTable(new SharedArrayBuffer(size), n, prefixBytes);
    table.pathBytes.write(prefix, 0);
    let at = prefixBytes;
    for (let position = 0; position < n; position++) {
      const id = order[position];
      table.ranges[3 * position] = list.starts[id]!;
      table.ranges[3 * position + 1] = list.ends[id]!;
      table.ranges[3 * position + 2] = list.fileSizes[id]!;
      table.ids[position] = id;
      table.pathOffsets[position] = at;
      at += table.pathBytes.write(list.paths[id].slice(prefix.length), at);
    }
    table.pathOffsets[n] = at;
    return table;
  }

  /** The same table, seen from another thread. */
  static attach(buffer: SharedArrayBuffer, length: number, prefixBytes: number): JobTable {
    return new JobTable(buffer, length, prefixBytes);
  }

  /** The id (index in the caller's list) of the job at `position` in take order. */
  id(position: number): number {
    return this.ids[position];
  }

  /** Bytes to hash of the job at `position`. */
  bytes(position: number): number {
    return this.ranges[3 * position + 1] - this.ranges[3 * position];
  }

  /** Whether the job at `position` is a whole file that fits in one read of `chunkBytes` (with a byte to spare). */
  isSmall(position: number, chunkBytes: number): boolean {
    const fileSize = this.ranges[3 * position + 2];
    return this.ranges[3 * position] === 0 && this.ranges[3 * position + 1] === fileSize && fileSize < chunkBytes;
  }

  /** The job at `position` in take order. */
  job(position: number): HashJob {
    return {
      path: this.prefix + this.pathBytes.toString('utf8', this.pathOffsets[position], this.pathOffsets[position + 1]),
      start: this.ranges[3 * position],
      end: this.ranges[3 * position + 1],
      fileSize: this.ranges[3 * position + 2],
    };
  }
}
