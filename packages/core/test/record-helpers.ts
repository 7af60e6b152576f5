import fs from 'node:fs/promises';
import { decodeRecord, digestsOf, writeRecord, type RecordHeader, type RecordRow } from '../dist/node/incremental/record-format.js';

// Reads and rewrites local hash records (the binary format of
// node/incremental/record-format.ts) for tests that forge or damage one.

/** Every row of a record file, as values. */
export async function readRecordRows(file: string): Promise<{ header: RecordHeader; rows: RecordRow[] }> {
  const table = decodeRecord(await fs.readFile(file));
  const rows = table.names.map((name, i) => ({
    name,
    size: table.sizes[i],
    mtimeNs: table.times[2 * i],
    ctimeNs: table.times[2 * i + 1],
    ino: table.ids[2 * i],
    dev: table.ids[2 * i + 1],
    digests: digestsOf(table, i),
  }));
  return { header: table.header, rows };
}

/** Writes a well-formed record (valid checksum) with these rows. */
export async function writeRecordFile(file: string, header: RecordHeader, rows: RecordRow[]): Promise<void> {
  const handle = await fs.open(file, 'w', 0o600);
  try {
    await writeRecord(handle, header, {
      count: rows.length,
      name: (i) => rows[i].name,
      size: (i) => rows[i].size,
      times: BigInt64Array.from(rows.flatMap((r) => [r.mtimeNs, r.ctimeNs])),
      ids: BigUint64Array.from(rows.flatMap((r) => [r.ino, r.dev])),
      digests: (i) => rows[i].digests,
    });
  } finally {
    await handle.close();
  }
}

/** Changes rows of a record file in place, keeping it well formed. */
export async function rewriteRecord(file: string, change: (row: RecordRow) => void): Promise<void> {
  const { header, rows } = await readRecordRows(file);
  for (const row of rows) change(row);
  await fs.rm(file);
  await writeRecordFile(file, header, rows);
}
