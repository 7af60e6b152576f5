import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { KeySigner, signModel } from '../dist/index.js';
import { planIncrementalSign } from '../dist/internal-node.js';
import { CorruptRecordError, decodeRecord, type RecordHeader, type RecordRow } from '../dist/node/incremental/record-format.js';
import { recordSettleMs } from '../dist/node/incremental/record.js';
import { cleanupTempDirs, ecKeyPair, tempDir, writeTree } from './helpers.js';
import { readRecordRows, writeRecordFile } from './record-helpers.js';

// The local hash record's file format (node/incremental/record-format.ts): a
// record is a cache, so anything but one well-formed record decodes to
// nothing (every file is hashed again), never to wrong digests, a crash or
// an allocation the file does not justify.

afterEach(async () => {
  vi.restoreAllMocks();
  await cleanupTempDirs();
});

const header: RecordHeader = { key: { root: '/m' }, statTimeNs: '1700000000000000000', settleNs: '72000000000', digestBytes: 32 };
const digest = (i: number) => createHash('sha256').update(String(i)).digest('hex');
const row = (name: string, i: number): RecordRow => ({
  name,
  size: i * 1000,
  mtimeNs: 1_600_000_000_000_000_000n + BigInt(i),
  ctimeNs: -5n,
  ino: 2n ** 64n - 1n - BigInt(i),
  dev: 2n ** 53n + 1n,
  digests: [digest(i)],
});

async function encoded(rows: RecordRow[], h: RecordHeader = header): Promise<Buffer> {
  const file = path.join(await tempDir('oms-record-'), 'r.rec');
  await writeRecordFile(file, h, rows);
  return fs.readFile(file);
}

/** Replaces the footer's row count and checksum, as a writer of a hostile record would. */
function resealed(bytes: Buffer, rows?: bigint): Buffer {
  const out = Buffer.from(bytes);
  const end = out.length - 40;
  if (rows !== undefined) out.writeBigUInt64LE(rows, end);
  createHash('sha256')
    .update(out.subarray(0, end + 8))
    .digest()
    .copy(out, end + 8);
  return out;
}

const rows = ['a.bin', 'dir/é.txt', 'dir/ñ/x', 'dir/😀', 'z'].map(row);

describe('the record file format', () => {
  it('round-trips 64-bit stats exactly, names in code-point order and shard digests', async () => {
    // A file of 40,000 shards: a row larger than the writer's 1 MiB chunk.
    const sharded = { ...row('weights.bin', 9), digests: Array.from({ length: 40_000 }, (_, i) => digest(i)) };
    const { rows: back, header: h } = await readRecordRows(await fileOf(await encoded([...rows, sharded].sort(byName))));
    expect(h).toEqual(header);
    expect(back).toEqual([...rows, sharded].sort(byName));
  });

  it('leaves out rows it cannot record exactly, and refuses rows out of order', async () => {
    const bad = [
      row('', 0),
      row('a', 1),
      { ...row('b', 2), digests: ['xyz'] },
      { ...row('b2', 2), digests: ['zz'.repeat(32)] },
      { ...row('c', 3), size: -1 },
      { ...row('c2', 3), digests: [] },
      row('d', 4),
    ];
    const { rows: back } = await readRecordRows(await fileOf(await encoded(bad)));
    expect(back.map((r) => r.name)).toEqual(['a', 'd']);
    await expect(encoded([row('b', 1), row('a', 2)])).rejects.toThrow(/out of order/);
    await expect(encoded([row('a', 1), row('a', 2)])).rejects.toThrow(/out of order/);
  });

  it('refuses a record truncated anywhere', async () => {
    const bytes = await encoded(rows);
    for (let cut = 0; cut < bytes.length; cut++)
      expect(() => decodeRecord(bytes.subarray(0, cut)), `cut at ${cut}`).toThrow(CorruptRecordError);
  });

  it('refuses a record with any byte changed (the checksum), and garbage of every kind', async () => {
    const bytes = await encoded(rows);
    for (let at = 0; at < bytes.length; at++) {
      const changed = Buffer.from(bytes);
      changed[at] ^= 0x40;
      expect(() => decodeRecord(changed), `byte ${at}`).toThrow(CorruptRecordError);
    }
    expect(() => decodeRecord(Buffer.alloc(0))).toThrow(CorruptRecordError);
    expect(() => decodeRecord(Buffer.from('{"version":3,"files":{}}'))).toThrow(CorruptRecordError);
    for (let i = 0; i < 200; i++) {
      const random = Buffer.concat([
        Buffer.from('model-signing record 4\n{}\n'),
        Buffer.from(createHash('sha512').update(String(i)).digest()),
      ]);
      expect(() => decodeRecord(resealed(random))).toThrow(CorruptRecordError);
    }
  });

  it('refuses well-sealed records that are not well formed', async () => {
    const bytes = await encoded(rows);
    // A row count the file cannot hold: refused before anything is allocated for it.
    expect(() => decodeRecord(resealed(bytes, 2n ** 64n - 1n))).toThrow(/row count/);
    expect(() => decodeRecord(resealed(bytes, 4n))).toThrow(/after the last row/);
    expect(() => decodeRecord(resealed(bytes, 6n))).toThrow(CorruptRecordError);
    // Names out of order: the second row's first byte of its own part made smaller than the first name's.
    const swapped = Buffer.from(bytes);
    const firstRow = bytes.indexOf(0x0a, 23) + 1;
    const secondRow = firstRow + 4 + 'a.bin'.length + 44 + 32;
    expect(swapped.readUInt16LE(secondRow)).toBe(0);
    swapped[secondRow + 4] = 'A'.charCodeAt(0);
    expect(() => decodeRecord(resealed(swapped))).toThrow(/out of order/);
    // A name that is not UTF-8.
    const notUtf8 = Buffer.from(bytes);
    notUtf8[firstRow + 4] = 0xff;
    expect(() => decodeRecord(resealed(notUtf8))).toThrow(/UTF-8/);
    // A shared prefix longer than the previous name, and a digest count of 0.
    const prefix = Buffer.from(bytes);
    prefix.writeUInt16LE(200, secondRow);
    expect(() => decodeRecord(resealed(prefix))).toThrow(/bad name/);
    const noDigest = Buffer.from(bytes);
    noDigest.writeUInt32LE(0, firstRow + 4 + 5 + 40);
    expect(() => decodeRecord(resealed(noDigest))).toThrow(/digest count/);
    // A header that is not an object with the expected fields.
    for (const h of [
      '[]',
      '{"statTimeNs":1}',
      JSON.stringify({ ...header, digestBytes: 0 }),
      JSON.stringify({ ...header, settleNs: '-1' }),
    ]) {
      const text = Buffer.concat([Buffer.from(`model-signing record 4\n${h}\n`), Buffer.alloc(40)]);
      expect(() => decodeRecord(resealed(text, 0n))).toThrow(/header/);
    }
  });
});

describe('a record the model does not justify', () => {
  it('is not read when larger than the bound that follows the model’s files', async () => {
    vi.spyOn(Date, 'now').mockImplementation(() => new Date().getTime() + recordSettleMs()! + 1000);
    const work = await tempDir('oms-record-huge-');
    const modelPath = path.join(work, 'model');
    await writeTree(modelPath, { 'a.txt': 'a', 'b.txt': 'b' });
    const signer = await KeySigner.create({ privateKey: ecKeyPair().privateKey });
    const cacheDir = path.join(work, 'cache');
    const signaturePath = path.join(work, 'model.sig');
    await signModel({ modelPath, signer, signaturePath, cacheDir });
    const plan = () => planIncrementalSign({ modelPath, signer, signaturePath, cacheDir, incremental: {} });
    expect((await plan()).reusedFiles).toBe(2);
    const [name] = await fs.readdir(cacheDir);
    const file = path.join(cacheDir, name);
    const { header: h, rows: real } = await readRecordRows(file);
    // The same record plus rows of 50,000 files the model does not have: a few MB for a model of two files.
    const extra = Array.from({ length: 50_000 }, (_, i) => ({ ...real[0], name: `zz/${String(i).padStart(6, '0')}` }));
    await fs.rm(file);
    await writeRecordFile(file, h, [...real, ...extra]);
    expect((await plan()).rehashed.map((r) => r.reason)).toEqual(['unrecorded', 'unrecorded']);
    // Within the bound (files deleted since the record was written): used.
    await fs.rm(file);
    await writeRecordFile(file, h, [...real, ...extra.slice(0, 2)]);
    expect((await plan()).reusedFiles).toBe(2);
  });
});

function byName(a: RecordRow, b: RecordRow): number {
  return Buffer.compare(Buffer.from(a.name), Buffer.from(b.name));
}

async function fileOf(bytes: Buffer): Promise<string> {
  const file = path.join(await tempDir('oms-record-'), 'r.rec');
  await fs.writeFile(file, bytes);
  return file;
}
