import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { writeFileAtomic } from '../bundle/write.js';
import { parseShardName, type ManifestResource, type Serialization } from '../manifest/manifest.js';
import type { ModelFile } from '../walk/walk.js';

/**
 * A file is trusted from the record only when its mtime and ctime are older
 * than the moment its stat was taken by more than this margin. File systems
 * store timestamps with a granularity from 1 ns (ext4, APFS) to 2 s (FAT), so
 * a file rewritten in the same tick as the stat would keep identical
 * timestamps; within the margin it is re-hashed instead (the "racy git" rule).
 */
export const RACY_MARGIN_NS = 2_000_000_000n;

/** Records larger than this are not read (and not written): a corrupt or hostile file cannot exhaust memory. */
const MAX_RECORD_BYTES = 64 * 1024 * 1024;
/** How many model records the cache keeps; the least recently written are removed first. */
const MAX_RECORDS = 64;
const RECORD_VERSION = 1;

/** The stat fields that prove a file unchanged, as decimal nanosecond / id strings (JSON has no bigint). */
export interface FileStat {
  size: number;
  mtimeNs: string;
  ctimeNs: string;
  ino: string;
  dev: string;
}

/** What the record knows about one file: its stat when it was hashed, and its digests (one, or one per shard in order). */
export interface RecordEntry extends FileStat {
  digests: string[];
}

/** The settings a digest depends on; a record made under other settings is never used. */
interface RecordKey {
  root: string;
  rootDev: string;
  rootIno: string;
  method: Serialization['method'];
  hashType: Serialization['hashType'];
  shardSize: number | null;
}

interface RecordFile {
  version: number;
  key: RecordKey;
  /** When the stats were taken (ns since the epoch); the racy rule compares file times with it. */
  statTimeNs: string;
  files: Record<string, RecordEntry>;
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

/** The current time in ns since the epoch, from the same clock the file system stamps files with. */
function nowNs(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}

/** The stats of the model's files, taken before any of them is hashed, and the time they were taken. */
export interface StatSnapshot {
  statTimeNs: bigint;
  stats: Map<string, FileStat>;
}

/**
 * Stats every file (its resolved target for symlinks). Taken before hashing:
 * a file that changes while it is hashed then differs from its recorded stat
 * next time, so it is re-hashed.
 */
export function statFiles(files: readonly ModelFile[]): StatSnapshot {
  // Taken first: every change after it stamps a time later than this, less the
  // file system's granularity, which the racy margin covers.
  const statTimeNs = nowNs();
  const stats = new Map<string, FileStat>();
  for (const file of files) {
    const s = statSync(file.absolutePath, { bigint: true });
    stats.set(file.name, { size: Number(s.size), mtimeNs: s.mtimeNs.toString(), ctimeNs: s.ctimeNs.toString(), ino: s.ino.toString(), dev: s.dev.toString() });
  }
  return { statTimeNs, stats };
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
   * (everything is re-hashed), never an error.
   */
  static async open(options: RecordLocation): Promise<HashRecord> {
    const { file, key } = await locateRecord(options);
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
   * record's stat time by more than {@link RACY_MARGIN_NS}. Otherwise, why not.
   */
  check(name: string, stat: FileStat): { digests: string[] } | { reason: 'unrecorded' | 'size-changed' | 'stat-changed' | 'racy' } {
    const entry = this.previous?.files[name];
    if (!entry || !this.previous) return { reason: 'unrecorded' };
    if (entry.size !== stat.size) return { reason: 'size-changed' };
    if (entry.mtimeNs !== stat.mtimeNs || entry.ctimeNs !== stat.ctimeNs || entry.ino !== stat.ino || entry.dev !== stat.dev) return { reason: 'stat-changed' };
    const settledBefore = BigInt(this.previous.statTimeNs) - RACY_MARGIN_NS;
    if (BigInt(entry.mtimeNs) >= settledBefore || BigInt(entry.ctimeNs) >= settledBefore) return { reason: 'racy' };
    return { digests: entry.digests };
  }

  /**
   * Replaces the record with the given files' stats and digests (grouped from
   * the resources), atomically. Failing to write a cache is not an error of
   * the signing or verification that produced it, so it is silently skipped.
   */
  async save(snapshot: StatSnapshot, resources: readonly ManifestResource[]): Promise<void> {
    const digests = digestsByFile(resources, this.key.method);
    const files: Record<string, RecordEntry> = {};
    for (const [name, stat] of snapshot.stats) files[name] = { ...stat, digests: digests.get(name) ?? [] };
    const record: RecordFile = { version: RECORD_VERSION, key: this.key, statTimeNs: snapshot.statTimeNs.toString(), files };
    const text = JSON.stringify(record);
    if (text.length > MAX_RECORD_BYTES) return;
    try {
      await fs.mkdir(path.dirname(this.file), { recursive: true, mode: 0o700 });
      await writeFileAtomic(this.file, text);
      await pruneRecords(path.dirname(this.file));
    } catch {
      // A read-only or full cache directory only costs the next run a full re-hash.
    }
  }
}

/** Digests per file, in resource order (shards by start offset, as sorted). */
export function digestsByFile(resources: readonly ManifestResource[], method: Serialization['method']): Map<string, string[]> {
  const byFile = new Map<string, string[]>();
  for (const r of resources) {
    const name = method === 'shards' ? parseShardName(r.name).path : r.name;
    const list = byFile.get(name) ?? [];
    list.push(r.digest);
    byFile.set(name, list);
  }
  return byFile;
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
    rootDev: s.dev.toString(),
    rootIno: s.ino.toString(),
    method: serialization.method,
    hashType: serialization.hashType,
    shardSize: serialization.method === 'shards' ? (serialization.shardSize ?? null) : null,
  };
}

const DECIMAL = /^\d{1,30}$/;
const HEX = /^[0-9a-f]{1,256}$/;

function isEntry(value: unknown): value is RecordEntry {
  if (typeof value !== 'object' || value === null) return false;
  const e = value as Record<string, unknown>;
  return (
    Number.isSafeInteger(e['size']) &&
    (e['size'] as number) >= 0 &&
    ['mtimeNs', 'ctimeNs', 'ino', 'dev'].every((k) => typeof e[k] === 'string' && DECIMAL.test(e[k])) &&
    Array.isArray(e['digests']) &&
    e['digests'].length > 0 &&
    e['digests'].every((d) => typeof d === 'string' && HEX.test(d))
  );
}

/** Reads a record; anything but a well-formed record of exactly this key is ignored. */
async function readRecord(file: string, key: RecordKey): Promise<RecordFile | undefined> {
  try {
    const handle = await fs.open(file, 'r');
    let text: string;
    try {
      if ((await handle.stat()).size > MAX_RECORD_BYTES) return undefined;
      text = await handle.readFile('utf8');
    } finally {
      await handle.close();
    }
    const parsed = JSON.parse(text) as Partial<RecordFile>;
    if (parsed.version !== RECORD_VERSION || JSON.stringify(parsed.key) !== JSON.stringify(key)) return undefined;
    if (typeof parsed.statTimeNs !== 'string' || !DECIMAL.test(parsed.statTimeNs)) return undefined;
    if (typeof parsed.files !== 'object' || parsed.files === null) return undefined;
    const files: Record<string, RecordEntry> = Object.create(null) as Record<string, RecordEntry>;
    for (const [name, entry] of Object.entries(parsed.files)) if (isEntry(entry)) files[name] = entry;
    return { version: RECORD_VERSION, key, statTimeNs: parsed.statTimeNs, files };
  } catch {
    return undefined;
  }
}

/** Keeps at most {@link MAX_RECORDS} records, removing the least recently written. */
async function pruneRecords(dir: string): Promise<void> {
  const names = (await fs.readdir(dir)).filter((n) => n.endsWith('.json'));
  if (names.length <= MAX_RECORDS) return;
  const withTimes = await Promise.all(
    names.map(async (n) => ({ file: path.join(dir, n), mtime: await fs.stat(path.join(dir, n)).then((s) => s.mtimeMs, () => 0) })),
  );
  withTimes.sort((a, b) => a.mtime - b.mtime);
  await Promise.all(withTimes.slice(0, withTimes.length - MAX_RECORDS).map((r) => fs.rm(r.file, { force: true })));
}
