import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, statSync, statfsSync, type BigIntStats } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ModelSigningError } from '../../errors.js';
import { compareResourceNames, parseShardName, type ManifestResource, type Serialization } from '../../format/manifest.js';
import type { ModelFile } from '../walk.js';
import {
  CorruptRecordError,
  ROW_FIXED_BYTES,
  decodeRecord,
  digestsOf,
  writeRecord,
  type RecordHeader,
  type RecordColumns,
  type RecordTable,
} from './record-format.js';

/**
 * File systems store timestamps with a granularity from 1 ns (ext4, APFS) to
 * 2 s (FAT), so a file rewritten in the same tick as the stat would keep
 * identical timestamps (the "racy git" rule). Part of {@link recordSettleMs}.
 */
export const RACY_MARGIN_MS = 2000;

/**
 * Where {@link recordSettleMs} cannot read a writeback bound from the kernel
 * (systems other than Linux): an assumption, not a guarantee. macOS and the
 * BSDs write dirty pages back within about 30 s by default; ten minutes
 * leaves room for a loaded machine. See docs/incremental.md.
 */
export const OTHER_SYSTEMS_SETTLE_MS = 10 * 60_000;

/** Reads a setting of `/proc/sys/vm` on Linux (a test passes its own). */
export type ReadVmSetting = (name: 'dirty_expire_centisecs' | 'dirty_writeback_centisecs') => string;

const readProcVmSetting: ReadVmSetting = (name) => readFileSync(`/proc/sys/vm/${name}`, 'utf8');

/** A centisecond setting as Linux prints it: a non-negative decimal integer. */
function centisecs(text: string): number | undefined {
  const match = /^\s*(\d{1,9})\s*$/.exec(text);
  return match ? Number(match[1]) : undefined;
}

/**
 * How old a file's mtime and ctime must be when a record is written for its
 * entry to prove the file unchanged later, in ms; `null` when this
 * system gives no such bound, and the record then proves nothing.
 *
 * Why: on Linux, a write through a shared memory map moves the file's times
 * only when it dirties a clean page (the write fault); further writes to a
 * page that is still dirty change the bytes and no time. The page becomes
 * clean, write-protected again, when the kernel writes it back: the flusher
 * wakes every `dirty_writeback_centisecs` and writes inodes dirty for longer
 * than `dirty_expire_centisecs`. A file whose times are older than
 * `2 × (expire + writeback)` had every page clean when its stat was taken
 * (the doubling covers an inode re-dirtied while it was being written, which
 * waits a second round, and writeback that lags), so any later write moves
 * its ctime. Plus {@link RACY_MARGIN_MS} for the timestamp granularity.
 * Periodic writeback disabled (`dirty_writeback_centisecs` 0) or a setting
 * that cannot be read: no bound. Other systems: {@link OTHER_SYSTEMS_SETTLE_MS}.
 */
export function recordSettleMs(options: { platform?: NodeJS.Platform; readSetting?: ReadVmSetting } = {}): number | null {
  const platform = options.platform ?? process.platform;
  if (platform !== 'linux') return OTHER_SYSTEMS_SETTLE_MS + RACY_MARGIN_MS;
  const read = options.readSetting ?? readProcVmSetting;
  let expire: number | undefined;
  let writeback: number | undefined;
  try {
    expire = centisecs(read('dirty_expire_centisecs'));
    writeback = centisecs(read('dirty_writeback_centisecs'));
  } catch {
    return null;
  }
  if (expire === undefined || writeback === undefined || writeback === 0) return null;
  return 2 * (expire + writeback) * 10 + RACY_MARGIN_MS;
}

/**
 * File systems that never write pages back (`statfs` type): a page written
 * through a memory map stays dirty and writable for as long as the map
 * exists, so no time moves for any later write through it. tmpfs, ramfs,
 * hugetlbfs.
 */
const NO_WRITEBACK_FILE_SYSTEMS = new Set([0x01021994, 0x858458f6, 0x958458f6]);

/** The settings a digest depends on; a record made under other settings is never used. */
interface RecordKey {
  root: string;
  /** Decimal: 64-bit integers exceed JSON's exact numbers. */
  rootDev: string;
  rootIno: string;
  method: Serialization['method'];
  hashType: Serialization['hashType'];
  shardSize: number | null;
}

/** How many model records the cache keeps; the least recently written are removed first. */
const MAX_RECORDS = 64;
/** A record's size bound beyond its rows' (the magic, the header, the footer). */
const RECORD_BASE_BYTES = 128 * 1024;
/** The longest digest a record may hold (BLAKE2b-512). */
const MAX_DIGEST_BYTES = 64;

/**
 * The largest record read for a model of these files: what a record of
 * twice as many such files could take (files removed since the record was
 * written still have rows in it), so the bound follows the model as the
 * signature's does (session/limits.ts) and a corrupt or hostile record
 * cannot exhaust memory. A larger record is no record.
 */
export function recordLimitFor(files: readonly ModelFile[], serialization: Serialization): number {
  const shardSize = serialization.method === 'shards' ? serialization.shardSize : undefined;
  let bytes = 0;
  for (const f of files) {
    const digests = shardSize ? Math.max(1, Math.ceil(f.size / shardSize)) : 1;
    bytes += ROW_FIXED_BYTES + 3 * f.name.length + MAX_DIGEST_BYTES * digests;
  }
  return RECORD_BASE_BYTES + 2 * bytes;
}

/** Where records live: `cacheDir`, else `$XDG_CACHE_HOME`, else the platform's user cache directory. */
export function recordDirectory(cacheDir?: string): string {
  if (cacheDir !== undefined) return path.resolve(cacheDir);
  const xdg = process.env['XDG_CACHE_HOME'];
  let base: string;
  if (xdg && path.isAbsolute(xdg)) base = xdg;
  else if (process.platform === 'darwin') base = path.join(os.homedir(), 'Library', 'Caches');
  else if (process.platform === 'win32') base = process.env['LOCALAPPDATA'] ?? path.join(os.homedir(), 'AppData', 'Local');
  else base = path.join(os.homedir(), '.cache');
  return path.join(base, 'model-signing', 'records');
}

/**
 * The stats of the model's files, taken before any of them is hashed, and a
 * time no later than the first of them. Columns indexed like `files`.
 */
export interface StatSnapshot {
  /** Nanoseconds since the epoch (read from a millisecond clock: rounding down only makes the settle rule stricter). */
  statTimeNs: bigint;
  /** {@link recordSettleMs} when the stats were taken; `null`: no entry of a record written from them proves anything. */
  settleMs: number | null;
  /** The files stat-ed, in the walk's order. */
  files: readonly ModelFile[];
  /** mtime, ctime (ns) of `files[i]` at 2i, 2i + 1: exactly as the file system reports them. */
  times: BigInt64Array;
  /** inode, device of `files[i]` at 2i, 2i + 1 (they exceed 2^53 on some file systems). */
  ids: BigUint64Array;
  /** 1 when `files[i]` lives on a file system that never writes pages back (tmpfs): its times prove nothing, however old. */
  neverWrittenBack: Uint8Array;
}

/**
 * Collects the stats the walk takes (`WalkOptions.onFileStats`), so
 * that each file is stat-ed once, and makes them a {@link StatSnapshot}.
 * `statTimeMs` must be taken before the walk: any change after a file's
 * stat then stamps it with a later time, less the file system's
 * granularity, which the racy margin covers. Taken before hashing, so a
 * file that changes while it is hashed differs from its recorded stat next
 * time.
 */
export class StatCollector {
  private times = new BigInt64Array(2048);
  private ids = new BigUint64Array(2048);
  private reported = new Uint8Array(1024);
  /** The walk's entry each reported stat belongs to, by index. */
  private walked: (ModelFile | undefined)[] = [];

  constructor(
    private readonly statTimeMs: number,
    private readonly settleMs: number | null = recordSettleMs(),
  ) {}

  /** For `WalkOptions.onFileStats`. */
  readonly onFileStats = (index: number, s: BigIntStats, file?: ModelFile): void => {
    if (index >= this.reported.length) this.grow(index);
    this.walked[index] = file;
    this.times[2 * index] = s.mtimeNs;
    this.times[2 * index + 1] = s.ctimeNs;
    this.ids[2 * index] = s.ino;
    this.ids[2 * index + 1] = s.dev;
    this.reported[index] = 1;
  };

  /**
   * This collector when its stats are indexed as `files` is (the walk's own
   * list, as signing passes it); else a collector of the same stats indexed
   * as `files`, a list the walk's with some files left out (a verified load
   * drops ignored and unsigned ones). Stats go with the very entry the walk
   * reported them for, matched in order by identity: never another file's.
   */
  private alignedTo(files: readonly ModelFile[]): StatCollector {
    const walked = this.walked;
    let same = true;
    for (let i = 0; same && i < files.length; i++) same = this.reported[i] !== 1 || walked[i] === files[i];
    if (same) return this;
    const aligned = new StatCollector(this.statTimeMs, this.settleMs);
    let j = 0;
    for (let i = 0; i < files.length; i++) {
      while (j < walked.length && walked[j] !== files[i]) j++;
      if (j === walked.length) break;
      aligned.copyFrom(this, j, i, files[i]);
      j++;
    }
    // Anything not matched is stat-ed by its snapshot, as files the walk did not report are.
    return aligned;
  }

  private copyFrom(other: StatCollector, from: number, to: number, file: ModelFile): void {
    if (other.reported[from] !== 1) return;
    if (to >= this.reported.length) this.grow(to);
    this.times[2 * to] = other.times[2 * from];
    this.times[2 * to + 1] = other.times[2 * from + 1];
    this.ids[2 * to] = other.ids[2 * from];
    this.ids[2 * to + 1] = other.ids[2 * from + 1];
    this.reported[to] = 1;
    this.walked[to] = file;
  }

  private grow(index: number): void {
    const n = Math.max(2 * this.reported.length, index + 1);
    const times = new BigInt64Array(2 * n);
    times.set(this.times);
    const ids = new BigUint64Array(2 * n);
    ids.set(this.ids);
    const reported = new Uint8Array(n);
    reported.set(this.reported);
    [this.times, this.ids, this.reported] = [times, ids, reported];
  }

  /**
   * The snapshot of `files` (the walk's result, or it with some files left
   * out): the stats reported for them, and a stat of each file the walk did
   * not report (a symlink's target, a single-file model).
   *
   * @throws {ModelSigningError} `READ_FAILED` when such a file disappeared
   *   or changed size since the walk (as the hashing engine reports such files).
   */
  snapshot(files: readonly ModelFile[]): StatSnapshot {
    const aligned = this.alignedTo(files);
    if (aligned !== this) return aligned.snapshot(files);
    const n = files.length;
    if (n > this.reported.length) this.grow(n - 1);
    const neverWrittenBack = new Uint8Array(n);
    // One statfs per device, not per file (datasets have millions of files).
    const byDevice = new Map<bigint, boolean>();
    for (let i = 0; i < n; i++) {
      if (this.reported[i] !== 1) this.onFileStats(i, statListed(files[i]), files[i]);
      const dev = this.ids[2 * i + 1];
      let memory = byDevice.get(dev);
      if (memory === undefined) {
        memory = isNeverWrittenBack(files[i].absolutePath);
        byDevice.set(dev, memory);
      }
      neverWrittenBack[i] = memory ? 1 : 0;
    }
    return {
      statTimeNs: BigInt(this.statTimeMs) * 1_000_000n,
      settleMs: this.settleMs,
      files,
      times: this.times.subarray(0, 2 * n),
      ids: this.ids.subarray(0, 2 * n),
      neverWrittenBack,
    };
  }
}

/** Stats every file of a model walked without {@link StatCollector}: see there. */
export function statFiles(files: readonly ModelFile[], statTimeMs: number, settleMs: number | null = recordSettleMs()): StatSnapshot {
  return new StatCollector(statTimeMs, settleMs).snapshot(files);
}

/** A listed file's stats now, with the size the walk listed. */
function statListed(file: ModelFile): BigIntStats {
  let s: BigIntStats;
  try {
    s = statSync(file.absolutePath, { bigint: true });
  } catch (cause) {
    throw new ModelSigningError({
      code: 'READ_FAILED',
      path: file.name,
      cause,
      message: `'${file.name}' disappeared while the model was being read: ${(cause as Error).message}`,
    });
  }
  // The hashing engine reads the listed size; a record must never pair another size with its digest.
  if (s.size !== BigInt(file.size)) {
    throw new ModelSigningError({
      code: 'READ_FAILED',
      path: file.name,
      message: `'${file.name}' changed while the model was being read (listed with ${file.size} bytes, now ${s.size}); try again once nothing writes to it`,
    });
  }
  return s;
}

/** Whether `file` lives on a file system that never writes pages back; unknown (statfs failed) counts as yes. */
function isNeverWrittenBack(file: string): boolean {
  if (process.platform !== 'linux') return false;
  try {
    return NO_WRITEBACK_FILE_SYSTEMS.has(statfsSync(file).type);
  } catch {
    return true;
  }
}

/**
 * Looks names up in `names`, which should be in strictly increasing
 * code-point order: a cursor makes lookups in that same order constant time
 * (the walk's order, the manifest's, the record's), others a binary search.
 * Names out of order fall back to a map. Returns the index, or -1.
 */
export function sortedLookup(names: readonly string[]): (name: string) => number {
  for (let i = 1; i < names.length; i++) {
    if (compareResourceNames(names[i - 1], names[i]) >= 0) {
      const map = new Map<string, number>();
      names.forEach((n, j) => map.set(n, j));
      return (name) => map.get(name) ?? -1;
    }
  }
  let next = 0;
  return (name) => {
    if (next < names.length && names[next] === name) return next++;
    let lo = 0;
    let hi = names.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const c = compareResourceNames(names[mid], name);
      if (c === 0) {
        next = mid + 1;
        return mid;
      }
      if (c < 0) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  };
}

/**
 * The digests of a file of the manifest (one, or one per shard in the order
 * of their byte ranges), looked up without a map of a million entries when
 * the resources are sorted (the `files` method).
 */
export function digestLookup(
  resources: readonly ManifestResource[],
  method: Serialization['method'],
): (name: string) => string[] | undefined {
  if (method === 'shards') {
    const byFile = digestsByFile(resources, method);
    return (name) => byFile.get(name);
  }
  const find = sortedLookup(resources.map((r) => r.name));
  return (name) => {
    const i = find(name);
    return i < 0 ? undefined : [resources[i].digest];
  };
}

/** A 64-bit column as 32-bit words (for equality only: their order is the platform's). */
function words(column: BigInt64Array | BigUint64Array | undefined): Uint32Array {
  return column ? new Uint32Array(column.buffer, column.byteOffset, 2 * column.length) : new Uint32Array(0);
}

/** Why a record does not prove a file unchanged. */
export type UnprovenReason = 'unrecorded' | 'size-changed' | 'stat-changed' | 'racy' | 'unprovable';

/** A loaded record for one model and one set of hashing settings. */
export class HashRecord {
  private readonly find: (name: string) => number;
  /** The table's 64-bit columns as 32-bit words: equality compared without making a BigInt per value. */
  private readonly times32: Uint32Array;
  private readonly ids32: Uint32Array;
  /** Times at or after this (ns) were too recent to prove anything; `undefined`: nothing is proven. */
  private readonly settledBefore: bigint | undefined;
  private readonly scratch = Buffer.alloc(64);
  private viewed: StatSnapshot | undefined;
  private snapshotWords: { times: Uint32Array; ids: Uint32Array } = { times: new Uint32Array(0), ids: new Uint32Array(0) };

  private constructor(
    private readonly file: string,
    private readonly key: RecordKey,
    private readonly table: RecordTable | undefined,
  ) {
    this.find = table ? sortedLookup(table.names) : () => -1;
    this.times32 = words(table?.times);
    this.ids32 = words(table?.ids);
    const settleNs = table?.header.settleNs;
    this.settledBefore = table && settleNs != null ? BigInt(table.header.statTimeNs) - BigInt(settleNs) : undefined;
  }

  /**
   * Opens the record of the model at `root` under `serialization`. A missing,
   * unreadable, oversized (beyond {@link recordLimitFor} the model's `files`),
   * corrupt or foreign record yields an empty one (everything is re-hashed).
   *
   * @throws {ModelSigningError} `UNSAFE_PERMISSIONS` when the records
   *   directory or the record file can be written by another user.
   */
  static async open(options: RecordLocation & { files: readonly ModelFile[] }): Promise<HashRecord> {
    const { file, key } = await locateRecord(options);
    await refuseUnsafeDirectory(path.dirname(file));
    return new HashRecord(file, key, await readRecord(file, key, recordLimitFor(options.files, options.serialization)));
  }

  /** The record of the model at `root` under `serialization`, without reading it: for a run that will only replace it. */
  static async locate(options: RecordLocation): Promise<HashRecord> {
    const { file, key } = await locateRecord(options);
    return new HashRecord(file, key, undefined);
  }

  /** This record's location and key without its entries: to replace it once signed, without keeping them in memory. */
  withoutEntries(): HashRecord {
    return new HashRecord(this.file, this.key, undefined);
  }

  /**
   * The record's row of `snapshot.files[i]` when the record proves the file
   * unchanged: same size, mtime, ctime, inode and device, and both times
   * older than the record's stat time by more than the settle time in force
   * when it was written ({@link recordSettleMs}). Otherwise, why not. Then
   * {@link digestsEqual} says whether its digests are the expected ones.
   * Fastest when asked in the files' order (a dataset's million files cost
   * no allocation each).
   */
  check(snapshot: StatSnapshot, i: number): number | UnprovenReason {
    if (snapshot.neverWrittenBack[i] === 1) return 'unprovable';
    const table = this.table;
    if (!table) return 'unrecorded';
    const row = this.find(snapshot.files[i].name);
    if (row < 0) return 'unrecorded';
    if (table.sizes[row] !== snapshot.files[i].size) return 'size-changed';
    if (this.viewed !== snapshot) {
      this.viewed = snapshot;
      this.snapshotWords = { times: words(snapshot.times), ids: words(snapshot.ids) };
    }
    const { times, ids } = this.snapshotWords;
    for (let w = 0; w < 4; w++) {
      if (this.times32[4 * row + w] !== times[4 * i + w] || this.ids32[4 * row + w] !== ids[4 * i + w]) return 'stat-changed';
    }
    if (this.settledBefore === undefined) return 'unprovable';
    if (snapshot.times[2 * i] >= this.settledBefore || snapshot.times[2 * i + 1] >= this.settledBefore) return 'racy';
    return row;
  }

  /** Whether the digests of `row` (from {@link check}) are `expected` (hex), in order. */
  digestsEqual(row: number, expected: readonly string[]): boolean {
    const table = this.table!;
    const D = table.header.digestBytes;
    if (table.digestCount[row] !== expected.length) return false;
    let at = table.digestAt[row];
    for (const hex of expected) {
      if (hex.length !== 2 * D || this.scratch.write(hex, 0, D, 'hex') !== D) return false;
      if (this.scratch.compare(table.bytes, at, at + D, 0, D) !== 0) return false;
      at += D;
    }
    return true;
  }

  /** The digests of `row` (hex), as recorded. */
  digests(row: number): string[] {
    return digestsOf(this.table!, row);
  }

  /**
   * Replaces the record with the given files' stats and digests (from the
   * resources), atomically. Failing to write a cache is not an error of
   * the signing or verification that produced it, so it is silently skipped,
   * as is a records directory another user can write (never written to).
   */
  async save(snapshot: StatSnapshot, resources: readonly ManifestResource[]): Promise<void> {
    if (snapshot.files.length === 0 || resources.length === 0) return;
    const digests = digestLookup(resources, this.key.method);
    const header: RecordHeader = {
      key: this.key,
      statTimeNs: String(snapshot.statTimeNs),
      settleNs: snapshot.settleMs === null ? null : String(BigInt(snapshot.settleMs) * 1_000_000n),
      digestBytes: resources[0].digest.length / 2,
    };
    const { files, neverWrittenBack } = snapshot;
    const rows: RecordColumns = {
      count: files.length,
      name: (i) => files[i].name,
      size: (i) => files[i].size,
      times: snapshot.times,
      ids: snapshot.ids,
      digests: (i) => (neverWrittenBack[i] === 1 ? undefined : digests(files[i].name)),
    };
    const dir = path.dirname(this.file);
    const temp = `${this.file}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      await fs.mkdir(dir, { recursive: true, mode: 0o700 });
      if (unsafeReason(await fs.stat(dir)) !== undefined) return;
      // Temporary file + rename, without fsync: a record torn by a crash
      // fails its checksum and is ignored, which only costs a full hash.
      const handle = await fs.open(temp, 'wx', 0o600);
      let written: number;
      try {
        written = await writeRecord(handle, header, rows);
      } finally {
        await handle.close();
      }
      if (written === 0) throw new Error('nothing to record');
      await fs.rename(temp, this.file);
      // This model's record in the JSON format of earlier versions, if any.
      await fs.rm(this.file.replace(/\.rec$/, '.json'), { force: true });
      await pruneRecords(dir);
    } catch {
      // A read-only or full cache directory only costs the next run a full re-hash.
      await fs.rm(temp, { force: true }).catch(() => undefined);
    }
  }
}

/**
 * Digests per file; a file's shards in the order of their byte ranges (what
 * `hashFiles` pairs them with), whatever order the resources are listed in:
 * manifests list them in code-point order of their names, where
 * `f:10000000:…` comes before `f:2000000:…`.
 */
export function digestsByFile(resources: readonly ManifestResource[], method: Serialization['method']): Map<string, string[]> {
  if (method !== 'shards') return new Map(resources.map((r) => [r.name, [r.digest]]));
  const byFile = new Map<string, { start: number; digest: string }[]>();
  for (const r of resources) {
    const shard = parseShardName(r.name);
    const list = byFile.get(shard.path) ?? [];
    list.push({ start: shard.start, digest: r.digest });
    byFile.set(shard.path, list);
  }
  return new Map([...byFile].map(([name, shards]) => [name, shards.sort((a, b) => a.start - b.start).map((s) => s.digest)]));
}

/** Which record: the model's root, the settings, and optionally the cache directory. */
export interface RecordLocation {
  root: string;
  serialization: Serialization;
  cacheDir?: string;
}

async function locateRecord(options: RecordLocation): Promise<{ file: string; key: RecordKey }> {
  const key = await recordKey(options.root, options.serialization);
  const id = createHash('sha256').update(JSON.stringify(key)).digest('hex');
  return { file: path.join(recordDirectory(options.cacheDir), `${id}.rec`), key };
}

async function recordKey(root: string, serialization: Serialization): Promise<RecordKey> {
  const real = await fs.realpath(root);
  const s = await fs.stat(real, { bigint: true });
  return {
    root: real,
    rootDev: String(s.dev),
    rootIno: String(s.ino),
    method: serialization.method,
    hashType: serialization.hashType,
    shardSize: serialization.method === 'shards' ? (serialization.shardSize ?? null) : null,
  };
}

/**
 * Why another user could write a directory or file with these stats, if it
 * can: group- or world-writable, or owned by someone other than this user
 * or root (ssh's rule for `~/.ssh`). Windows has no such mode bits: never.
 */
function unsafeReason(s: { uid: number; mode: number }): string | undefined {
  const uid = process.getuid?.();
  if (uid === undefined) return undefined;
  if (s.uid !== uid && s.uid !== 0) return `it is owned by user ${s.uid}, not by this user (${uid})`;
  if ((s.mode & 0o022) !== 0)
    return `it is ${s.mode & 0o020 ? 'group' : 'world'}-writable (mode ${(s.mode & 0o777).toString(8).padStart(4, '0')})`;
  return undefined;
}

function unsafePermissions(kind: 'directory' | 'file', target: string, reason: string): ModelSigningError {
  const fix = kind === 'directory' ? `chmod 700 '${target}'` : `chmod 600 '${target}'`;
  return new ModelSigningError({
    code: 'UNSAFE_PERMISSIONS',
    path: target,
    message: `Refusing the local hash record ${kind} '${target}': ${reason}, so another user could make a changed file look unchanged. Make it private (${fix}) or use another cache directory.`,
  });
}

/** Refuses a records directory another user can write; a missing one (or a file in its place) holds no record and is fine. */
async function refuseUnsafeDirectory(dir: string): Promise<void> {
  const s = await fs.stat(dir).catch(() => undefined);
  if (!s?.isDirectory()) return;
  const reason = unsafeReason(s);
  if (reason !== undefined) throw unsafePermissions('directory', dir, reason);
}

/**
 * Reads a record; anything but a well-formed record of exactly this key, no
 * larger than `limit`, is ignored. A record file another user can write is
 * refused (`UNSAFE_PERMISSIONS`), checked on the open descriptor.
 */
async function readRecord(file: string, key: RecordKey, limit: number): Promise<RecordTable | undefined> {
  const handle = await fs.open(file, 'r').catch(() => undefined);
  if (handle === undefined) return undefined;
  let bytes: Buffer;
  try {
    const s = await handle.stat();
    const reason = unsafeReason(s);
    if (reason !== undefined) throw unsafePermissions('file', file, reason);
    if (!s.isFile() || s.size > limit) return undefined;
    bytes = await handle.readFile();
    if (bytes.length > limit) return undefined;
  } catch (err) {
    if (err instanceof ModelSigningError) throw err;
    return undefined;
  } finally {
    await handle.close();
  }
  let table: RecordTable;
  try {
    table = decodeRecord(bytes);
  } catch (err) {
    if (err instanceof CorruptRecordError) return undefined;
    throw err;
  }
  return JSON.stringify(table.header.key) === JSON.stringify(key) ? table : undefined;
}

/** Keeps at most {@link MAX_RECORDS} records, removing the least recently written. */
async function pruneRecords(dir: string): Promise<void> {
  const names = (await fs.readdir(dir)).filter((n) => n.endsWith('.rec') || n.endsWith('.json'));
  if (names.length <= MAX_RECORDS) return;
  const withTimes = await Promise.all(
    names.map(async (n) => ({
      file: path.join(dir, n),
      mtime: await fs.stat(path.join(dir, n)).then(
        (s) => s.mtimeMs,
        () => 0,
      ),
    })),
  );
  withTimes.sort((a, b) => a.mtime - b.mtime);
  await Promise.all(withTimes.slice(0, withTimes.length - MAX_RECORDS).map((r) => fs.rm(r.file, { force: true })));
}
