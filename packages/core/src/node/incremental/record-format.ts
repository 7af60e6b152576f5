import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';

// The local hash record on disk (docs/incremental.md). A compact binary
// table, so that a dataset of millions of files has a record (a JSON record
// of a million files took 150 MB and all of its rows as objects in memory):
//
//   "model-signing record 4\n"
//   header: one line of JSON (key, stat time, settle time, digest length), at most 64 KiB
//   rows, in strictly increasing code-point order of their names:
//     u16 bytes shared with the previous name, u16 length of the rest, the rest (UTF-8)
//     u64 size, i64 mtime ns, i64 ctime ns, u64 inode, u64 device
//     u32 number of digests (one, or one per shard), then the digests' bytes
//   footer: u64 number of rows, SHA-256 of everything before it
//
// All integers little-endian. The checksum and the exact layout make a torn or
// altered file fail to decode as a whole: it is then no record (everything is
// hashed again), never a partial one. It is not a defence against whoever can
// write the file: they could write a valid one (hence the permission checks).

/** The format of the first line; a record of any other (older JSON records included) is no record. */
const MAGIC = Buffer.from('model-signing record 4\n', 'latin1');
const MAX_HEADER_BYTES = 64 * 1024;
const FOOTER_BYTES = 8 + 32;
/** A row without its name's bytes and digests. */
export const ROW_FIXED_BYTES = 2 + 2 + 5 * 8 + 4;
/** Longer names are not recorded (their files are hashed every time); no file system allows them. */
const MAX_NAME_BYTES = 0xffff;
const CHUNK_BYTES = 1 << 20;

/** What a record is about and when its stats were taken (the header). */
export interface RecordHeader {
  /** The settings and model a digest depends on: compared as a whole with the expected key. */
  key: unknown;
  /** ns since the epoch, decimal. */
  statTimeNs: string;
  /** ns, decimal; `null`: the record proves nothing. */
  settleNs: string | null;
  /** Bytes of each digest. */
  digestBytes: number;
}

/** One file as recorded. */
export interface RecordRow {
  name: string;
  size: number;
  mtimeNs: bigint;
  ctimeNs: bigint;
  ino: bigint;
  dev: bigint;
  /** Hex, {@link RecordHeader.digestBytes} bytes each. */
  digests: readonly string[];
}

/** A decoded record as columns (a million files take a few typed arrays, not a million objects). */
export interface RecordTable {
  header: RecordHeader;
  /** In strictly increasing code-point order. */
  names: string[];
  sizes: Float64Array;
  /** mtime, ctime (ns) of file i at 2i, 2i + 1. */
  times: BigInt64Array;
  /** inode, device of file i at 2i, 2i + 1. */
  ids: BigUint64Array;
  /** Where file i's digests start in {@link bytes}, and how many. */
  digestAt: Float64Array;
  digestCount: Uint32Array;
  bytes: Buffer;
}

/** Why a record file is not a record: the reader treats every case as "no record". */
export class CorruptRecordError extends Error {}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const DECIMAL = /^(0|[1-9][0-9]{0,19})$/;

/**
 * Decodes a whole record file. Anything but exactly one well-formed record
 * (magic, header, rows in order, row count, checksum) throws
 * {@link CorruptRecordError}; nothing else is thrown.
 */
export function decodeRecord(bytes: Buffer): RecordTable {
  const corrupt = (why: string): never => {
    throw new CorruptRecordError(`corrupt local hash record: ${why}`);
  };
  if (bytes.length < MAGIC.length + FOOTER_BYTES || !bytes.subarray(0, MAGIC.length).equals(MAGIC)) corrupt('not a version 4 record');
  const bodyEnd = bytes.length - FOOTER_BYTES;
  const sum = createHash('sha256')
    .update(bytes.subarray(0, bodyEnd + 8))
    .digest();
  if (!sum.equals(bytes.subarray(bodyEnd + 8))) corrupt('checksum differs');
  const headerEnd = bytes.indexOf(0x0a, MAGIC.length);
  if (headerEnd < 0 || headerEnd > bodyEnd || headerEnd - MAGIC.length > MAX_HEADER_BYTES) corrupt('no header');
  let header: RecordHeader;
  try {
    header = parseHeader(JSON.parse(bytes.toString('utf8', MAGIC.length, headerEnd)));
  } catch {
    return corrupt('bad header');
  }
  const rows = bytes.readBigUInt64LE(bodyEnd);
  const D = header.digestBytes;
  // Every row takes at least this much: the count cannot make us allocate more than the file justifies.
  if (rows > BigInt(Math.floor((bodyEnd - headerEnd - 1) / (ROW_FIXED_BYTES + D)))) corrupt('row count exceeds the file');
  const n = Number(rows);
  const table: RecordTable = {
    header,
    names: new Array<string>(n),
    sizes: new Float64Array(n),
    times: new BigInt64Array(2 * n),
    ids: new BigUint64Array(2 * n),
    digestAt: new Float64Array(n),
    digestCount: new Uint32Array(n),
    bytes,
  };
  let previous = Buffer.alloc(MAX_NAME_BYTES);
  let current = Buffer.alloc(MAX_NAME_BYTES);
  let previousLength = -1;
  let at = headerEnd + 1;
  for (let i = 0; i < n; i++) {
    if (at + ROW_FIXED_BYTES > bodyEnd) corrupt('truncated row');
    const shared = bytes.readUInt16LE(at);
    const rest = bytes.readUInt16LE(at + 2);
    at += 4;
    if (shared > Math.max(previousLength, 0) || shared + rest > MAX_NAME_BYTES || at + rest + ROW_FIXED_BYTES - 4 > bodyEnd)
      corrupt('bad name');
    // Strictly after the previous name: its first own byte is greater than the previous name's byte there.
    if (rest === 0 || (shared < previousLength && bytes[at] <= previous[shared])) corrupt('names out of order');
    previous.copy(current, 0, 0, shared);
    bytes.copy(current, shared, at, at + rest);
    at += rest;
    const length = shared + rest;
    // The lenient decoder is several times faster on short names; only a name it decodes with U+FFFD may be invalid.
    const name = current.toString('utf8', 0, length);
    if (name.includes('\ufffd')) {
      try {
        utf8.decode(current.subarray(0, length));
      } catch {
        corrupt('name is not UTF-8');
      }
    }
    table.names[i] = name;
    const high = bytes.readUInt32LE(at + 4);
    if (high >= 2 ** 21) corrupt('size out of range');
    table.sizes[i] = high * 2 ** 32 + bytes.readUInt32LE(at);
    table.times[2 * i] = bytes.readBigInt64LE(at + 8);
    table.times[2 * i + 1] = bytes.readBigInt64LE(at + 16);
    table.ids[2 * i] = bytes.readBigUInt64LE(at + 24);
    table.ids[2 * i + 1] = bytes.readBigUInt64LE(at + 32);
    const count = bytes.readUInt32LE(at + 40);
    at += 44;
    if (count === 0 || count > (bodyEnd - at) / D) corrupt('bad digest count');
    table.digestAt[i] = at;
    table.digestCount[i] = count;
    at += count * D;
    [previous, current] = [current, previous];
    previousLength = length;
  }
  if (at !== bodyEnd) corrupt('bytes after the last row');
  return table;
}

function parseHeader(value: unknown): RecordHeader {
  const h = value as Partial<RecordHeader> | null;
  if (typeof h !== 'object' || h === null) throw new Error('header');
  if (typeof h.statTimeNs !== 'string' || !DECIMAL.test(h.statTimeNs)) throw new Error('statTimeNs');
  if (h.settleNs !== null && (typeof h.settleNs !== 'string' || !DECIMAL.test(h.settleNs))) throw new Error('settleNs');
  if (!Number.isInteger(h.digestBytes) || h.digestBytes! < 1 || h.digestBytes! > 128) throw new Error('digestBytes');
  return { key: h.key, statTimeNs: h.statTimeNs, settleNs: h.settleNs, digestBytes: h.digestBytes! };
}

/** The hex digests of row `i`. */
export function digestsOf(table: RecordTable, i: number): string[] {
  const D = table.header.digestBytes;
  const out: string[] = [];
  for (let k = 0, at = table.digestAt[i]; k < table.digestCount[i]; k++, at += D) out.push(table.bytes.toString('hex', at, at + D));
  return out;
}

/** The rows to write, as columns (a million files are not a million objects). */
export interface RecordColumns {
  count: number;
  name(i: number): string;
  size(i: number): number;
  /** mtime, ctime (ns) of row i at 2i, 2i + 1. */
  times: BigInt64Array;
  /** inode, device of row i at 2i, 2i + 1. */
  ids: BigUint64Array;
  /** Row i's digests (hex, {@link RecordHeader.digestBytes} bytes each); `undefined`: the row is not recorded. */
  digests(i: number): readonly string[] | undefined;
}

/** Typed arrays hold integers in the platform's byte order; the record's are little-endian. */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Writes a record to `handle`, rows in the order given (which must be
 * strictly increasing code-point order of names, as the walk lists files).
 * Rows whose values cannot be recorded exactly (an empty name or one over
 * 64 KiB, a size that is not a safe integer, no digest, a digest of another
 * length or not hex) are left out: their files are hashed next time.
 * Memory stays at one chunk whatever the size.
 *
 * @returns the number of rows written.
 * @throws {Error} when the rows are out of order (nothing valid was written).
 */
export async function writeRecord(handle: FileHandle, header: RecordHeader, rows: RecordColumns): Promise<number> {
  const hash = createHash('sha256');
  let chunk = Buffer.allocUnsafe(CHUNK_BYTES);
  let used = 0;
  let position = 0;
  const flush = async () => {
    hash.update(chunk.subarray(0, used));
    await writeAll(handle, chunk.subarray(0, used), position);
    position += used;
    used = 0;
  };
  const put = async (bytes: Buffer) => {
    if (used + bytes.length > chunk.length) await flush();
    bytes.copy(chunk, used);
    used += bytes.length;
  };
  await put(MAGIC);
  await put(Buffer.from(JSON.stringify(header) + '\n', 'utf8'));
  const D = header.digestBytes;
  const timeBytes = Buffer.from(rows.times.buffer, rows.times.byteOffset, rows.times.byteLength);
  const idBytes = Buffer.from(rows.ids.buffer, rows.ids.byteOffset, rows.ids.byteLength);
  let previous = Buffer.alloc(MAX_NAME_BYTES);
  let current = Buffer.alloc(MAX_NAME_BYTES);
  let previousLength = -1;
  let count = 0n;
  for (let i = 0; i < rows.count; i++) {
    const digests = rows.digests(i);
    const size = rows.size(i);
    if (digests === undefined || digests.length === 0 || !Number.isSafeInteger(size) || size < 0) continue;
    const name = rows.name(i);
    const bound = ROW_FIXED_BYTES + 3 * name.length + digests.length * D;
    if (used + bound > chunk.length) {
      await flush();
      // A row larger than a chunk (a file of very many shards): a chunk its size, this once.
      if (bound > chunk.length) chunk = Buffer.allocUnsafe(bound);
    }
    // The name is written in place, then only the part not shared with the previous name kept.
    const at = used;
    const length = chunk.write(name, at + 4, 'utf8');
    if (length === 0 || length > MAX_NAME_BYTES) continue;
    chunk.copy(current, 0, at + 4, at + 4 + length);
    let shared = 0;
    const common = Math.min(length, previousLength);
    while (shared < common && current[shared] === previous[shared]) shared++;
    if (previousLength >= 0 && (shared === common ? length <= previousLength : current[shared] < previous[shared]))
      throw new Error('record rows out of order');
    chunk.copy(chunk, at + 4, at + 4 + shared, at + 4 + length);
    chunk.writeUInt16LE(shared, at);
    chunk.writeUInt16LE(length - shared, at + 2);
    let end = at + 4 + length - shared;
    end = chunk.writeUInt32LE(size % 2 ** 32, end);
    end = chunk.writeUInt32LE(Math.floor(size / 2 ** 32), end);
    if (LITTLE_ENDIAN) {
      end += timeBytes.copy(chunk, end, 16 * i, 16 * i + 16);
      end += idBytes.copy(chunk, end, 16 * i, 16 * i + 16);
    } else {
      end = chunk.writeBigInt64LE(rows.times[2 * i], end);
      end = chunk.writeBigInt64LE(rows.times[2 * i + 1], end);
      end = chunk.writeBigUInt64LE(rows.ids[2 * i], end);
      end = chunk.writeBigUInt64LE(rows.ids[2 * i + 1], end);
    }
    end = chunk.writeUInt32LE(digests.length, end);
    let digestsOk = true;
    // Buffer's hex decoding stops at the first character that is not hex: a short write is a digest not to record.
    for (const d of digests) {
      const written = d.length === 2 * D ? chunk.write(d, end, D, 'hex') : 0;
      end += written;
      digestsOk &&= written === D;
    }
    if (!digestsOk) continue;
    used = end;
    [previous, current] = [current, previous];
    previousLength = length;
    count++;
  }
  const rowsField = Buffer.alloc(8);
  rowsField.writeBigUInt64LE(count);
  await put(rowsField);
  await flush();
  await writeAll(handle, hash.digest(), position);
  return Number(count);
}

async function writeAll(handle: FileHandle, bytes: Buffer, position: number): Promise<void> {
  for (let done = 0; done < bytes.length;) {
    const { bytesWritten } = await handle.write(bytes, done, bytes.length - done, position + done);
    done += bytesWritten;
  }
}
