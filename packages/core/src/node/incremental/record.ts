import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, statSync, statfsSync, type BigIntStats } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ModelSigningError } from '../../errors.js';
import { parseShardName, type ManifestResource, type Serialization } from '../../format/manifest.js';
import type { ModelFile } from '../walk.js';

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

/** Records larger than this are not read (and not written): a corrupt or hostile file cannot exhaust memory. */
const MAX_RECORD_BYTES = 64 * 1024 * 1024;
/**
 * A record row takes at least 91 bytes (`"a":[0,"0","0","0","0","<64 hex>"],`),
 * so a record of more files than this would exceed {@link MAX_RECORD_BYTES}:
 * it is never written, and no stats are taken for it (a million files' stats
 * took 5 s and 200 MB only to be dropped).
 */
const MAX_RECORDED_FILES = Math.floor(MAX_RECORD_BYTES / 91);
/** How many model records the cache keeps; the least recently written are removed first. */
const MAX_RECORDS = 64;
/**
 * 3: the settle time in force when the record was written
 * ({@link recordSettleMs}). 2: times in nanoseconds, inode and device as
 * exact integers (decimal strings). Earlier versions are ignored (everything
 * is read again once): version 2 vouched for files 2 s old, version 1 stored
 * millisecond doubles.
 */
const RECORD_VERSION = 3;

/**
 * The stat fields that prove a file unchanged, exactly as the file system
 * reports them: times in nanoseconds (a rewrite within the same millisecond
 * still differs where the file system keeps nanoseconds), inode and device
 * as 64-bit integers (they exceed 2^53 on some file systems).
 */
export interface FileStat {
  size: number;
  mtimeNs: bigint;
  ctimeNs: bigint;
  ino: bigint;
  dev: bigint;
  /**
   * The file lives on a file system that never writes pages back (tmpfs):
   * its times prove nothing, however old (not recorded).
   */
  neverWrittenBack: boolean;
}

/** The settings a digest depends on; a record made under other settings is never used. */
interface RecordKey {
  root: string;
  /** Decimal, as {@link RecordRow}'s integers. */
  rootDev: string;
  rootIno: string;
  method: Serialization['method'];
  hashType: Serialization['hashType'];
  shardSize: number | null;
}

/**
 * One file: `[size, mtimeNs, ctimeNs, ino, dev, ...digests]`, the 64-bit
 * integers as decimal strings since JSON numbers lose them above 2^53
 * (compact: a record may list 100,000 files).
 */
type RecordRow = [number, string, string, string, string, ...string[]];

interface RecordFile {
  version: number;
  key: RecordKey;
  /** When the stats were taken (ns since the epoch, decimal); the settle rule compares file times with it. */
  statTimeNs: string;
  /** {@link recordSettleMs} when the stats were taken, in ns (decimal); `null`: this record proves nothing. */
  settleNs: string | null;
  files: Record<string, RecordRow>;
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

/** The stats of the model's files, taken before any of them is hashed, and a time no later than the first of them. */
export interface StatSnapshot {
  /** Nanoseconds since the epoch (read from a millisecond clock: rounding down only makes the settle rule stricter). */
  statTimeNs: bigint;
  /** {@link recordSettleMs} when the stats were taken; `null`: no entry of a record written from them proves anything. */
  settleMs: number | null;
  stats: Map<string, FileStat>;
}

/**
 * Stats every file (its resolved target for symlinks). `statTimeMs` must be
 * taken before: any change after a file's stat then stamps it with a later
 * time, less the file system's granularity, which the racy margin covers.
 * Taken before hashing, so a file that changes while it is hashed differs
 * from its recorded stat next time.
 *
 * @throws {ModelSigningError} `READ_FAILED` when a file disappeared or
 *   changed size since the walk (as the hashing engine reports such files).
 */
export function statFiles(files: readonly ModelFile[], statTimeMs: number, settleMs: number | null = recordSettleMs()): StatSnapshot {
  const stats = new Map<string, FileStat>();
  if (files.length > MAX_RECORDED_FILES) return { statTimeNs: BigInt(statTimeMs) * 1_000_000n, settleMs, stats };
  // One statfs per device, not per file (datasets have millions of files).
  const neverWrittenBack = new Map<bigint, boolean>();
  for (const file of files) {
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
    let memory = neverWrittenBack.get(s.dev);
    if (memory === undefined) {
      memory = isNeverWrittenBack(file.absolutePath);
      neverWrittenBack.set(s.dev, memory);
    }
    stats.set(file.name, { size: file.size, mtimeNs: s.mtimeNs, ctimeNs: s.ctimeNs, ino: s.ino, dev: s.dev, neverWrittenBack: memory });
  }
  return { statTimeNs: BigInt(statTimeMs) * 1_000_000n, settleMs, stats };
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

/** A loaded record for one model and one set of hashing settings. */
export class HashRecord {
  private constructor(
    private readonly file: string,
    private readonly key: RecordKey,
    private readonly previous: RecordFile | undefined,
  ) {}

  /**
   * Opens the record of the model at `root` under `serialization`. A missing,
   * unreadable, oversized, corrupt or foreign record yields an empty one
   * (everything is re-hashed).
   *
   * @throws {ModelSigningError} `UNSAFE_PERMISSIONS` when the records
   *   directory or the record file can be written by another user.
   */
  static async open(options: RecordLocation): Promise<HashRecord> {
    const { file, key } = await locateRecord(options);
    await refuseUnsafeDirectory(path.dirname(file));
    return new HashRecord(file, key, await readRecord(file, key));
  }

  /** The record of the model at `root` under `serialization`, without reading it: for a run that will only replace it. */
  static async locate(options: RecordLocation): Promise<HashRecord> {
    const { file, key } = await locateRecord(options);
    return new HashRecord(file, key, undefined);
  }

  /**
   * The recorded digests of `name` when the record proves the file unchanged:
   * same size, mtime, ctime, inode and device, and both times older than the
   * record's stat time by more than the settle time in force when it was
   * written ({@link recordSettleMs}). Otherwise, why not.
   */
  check(
    name: string,
    stat: FileStat | undefined,
  ): { digests: string[] } | { reason: 'unrecorded' | 'size-changed' | 'stat-changed' | 'racy' | 'unprovable' } {
    // No stat: too many files to record (statFiles).
    if (!stat) return { reason: 'unrecorded' };
    if (stat.neverWrittenBack) return { reason: 'unprovable' };
    const row = this.previous?.files[name];
    if (!row || !this.previous) return { reason: 'unrecorded' };
    const [size, mtimeNs, ctimeNs, ino, dev, ...digests] = row;
    if (size !== stat.size) return { reason: 'size-changed' };
    if (mtimeNs !== String(stat.mtimeNs) || ctimeNs !== String(stat.ctimeNs) || ino !== String(stat.ino) || dev !== String(stat.dev))
      return { reason: 'stat-changed' };
    if (this.previous.settleNs === null) return { reason: 'unprovable' };
    const settledBefore = BigInt(this.previous.statTimeNs) - BigInt(this.previous.settleNs);
    if (stat.mtimeNs >= settledBefore || stat.ctimeNs >= settledBefore) return { reason: 'racy' };
    return { digests };
  }

  /**
   * Replaces the record with the given files' stats and digests (grouped from
   * the resources), atomically. Failing to write a cache is not an error of
   * the signing or verification that produced it, so it is silently skipped,
   * as is a records directory another user can write (never written to).
   */
  async save(snapshot: StatSnapshot, resources: readonly ManifestResource[]): Promise<void> {
    if (snapshot.stats.size === 0) return;
    const digests = digestsByFile(resources, this.key.method);
    const files: Record<string, RecordRow> = {};
    for (const [name, s] of snapshot.stats) {
      const d = digests.get(name);
      if (d && !s.neverWrittenBack) files[name] = [s.size, String(s.mtimeNs), String(s.ctimeNs), String(s.ino), String(s.dev), ...d];
    }
    const record: RecordFile = {
      version: RECORD_VERSION,
      key: this.key,
      statTimeNs: String(snapshot.statTimeNs),
      settleNs: snapshot.settleMs === null ? null : String(BigInt(snapshot.settleMs) * 1_000_000n),
      files,
    };
    const text = JSON.stringify(record);
    if (text.length > MAX_RECORD_BYTES) return;
    const dir = path.dirname(this.file);
    const temp = `${this.file}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      await fs.mkdir(dir, { recursive: true, mode: 0o700 });
      if (unsafeReason(await fs.stat(dir)) !== undefined) return;
      // Temporary file + rename, without fsync: a record torn by a crash does
      // not parse and is ignored, which only costs a full hash.
      await fs.writeFile(temp, text, { mode: 0o600 });
      await fs.rename(temp, this.file);
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
  return { file: path.join(recordDirectory(options.cacheDir), `${id}.json`), key };
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

const HEX = /^[0-9a-f]{1,256}$/;
/** A non-negative integer in decimal, as the record writes 64-bit values (at most 2^64 − 1: 20 digits). */
const DECIMAL = /^(0|[1-9][0-9]{0,19})$/;

function isRow(value: unknown): value is RecordRow {
  return (
    Array.isArray(value) &&
    value.length >= 6 &&
    Number.isSafeInteger(value[0]) &&
    (value[0] as number) >= 0 &&
    value.slice(1, 5).every((n) => typeof n === 'string' && DECIMAL.test(n)) &&
    value.slice(5).every((d) => typeof d === 'string' && HEX.test(d))
  );
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
 * Reads a record; anything but a well-formed record of exactly this key is
 * ignored. A record file another user can write is refused
 * (`UNSAFE_PERMISSIONS`), checked on the open descriptor.
 */
async function readRecord(file: string, key: RecordKey): Promise<RecordFile | undefined> {
  const handle = await fs.open(file, 'r').catch(() => undefined);
  if (handle === undefined) return undefined;
  let text: string;
  try {
    const s = await handle.stat();
    const reason = unsafeReason(s);
    if (reason !== undefined) throw unsafePermissions('file', file, reason);
    if (!s.isFile() || s.size > MAX_RECORD_BYTES) return undefined;
    text = await handle.readFile('utf8');
  } catch (err) {
    if (err instanceof ModelSigningError) throw err;
    return undefined;
  } finally {
    await handle.close();
  }
  try {
    const parsed = JSON.parse(text) as Partial<RecordFile>;
    if (parsed.version !== RECORD_VERSION || JSON.stringify(parsed.key) !== JSON.stringify(key)) return undefined;
    if (typeof parsed.statTimeNs !== 'string' || !DECIMAL.test(parsed.statTimeNs)) return undefined;
    if (parsed.settleNs !== null && (typeof parsed.settleNs !== 'string' || !DECIMAL.test(parsed.settleNs))) return undefined;
    if (typeof parsed.files !== 'object' || parsed.files === null) return undefined;
    const files: Record<string, RecordRow> = Object.create(null) as Record<string, RecordRow>;
    for (const [name, row] of Object.entries(parsed.files)) if (isRow(row)) files[name] = row;
    return { version: RECORD_VERSION, key, statTimeNs: parsed.statTimeNs, settleNs: parsed.settleNs, files };
  } catch {
    return undefined;
  }
}

/** Keeps at most {@link MAX_RECORDS} records, removing the least recently written. */
async function pruneRecords(dir: string): Promise<void> {
  const names = (await fs.readdir(dir)).filter((n) => n.endsWith('.json'));
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
