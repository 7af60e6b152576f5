// The local hash record keeps the one stat the walk takes of each file
// (StatCollector). A verified load may leave some walked files out (ignored
// or unsigned ones): each file must still get its own stats, never those of
// the file the walk listed at the same position.
import { statSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { walkModel } from '../dist/internal-node.js';
import { StatCollector } from '../dist/node/incremental/record.js';
import { cleanupTempDirs, tempDir } from './helpers.js';

afterAll(cleanupTempDirs);

async function walkedWithStats(): Promise<{ stats: StatCollector; files: Awaited<ReturnType<typeof walkModel>>['files'] }> {
  const dir = await tempDir();
  for (const name of ['a.bin', 'b.bin', 'c.bin', 'd.bin']) await fs.writeFile(path.join(dir, name), name.repeat(name.charCodeAt(0)));
  const stats = new StatCollector(Date.now());
  const walked = await walkModel({ modelPath: dir, onFileStats: stats.onFileStats });
  return { stats, files: walked.files };
}

/** Each snapshot entry's inode and size, and each file's own, read now. */
function inodes(snapshot: ReturnType<StatCollector['snapshot']>): { name: string; recorded: bigint; actual: bigint }[] {
  return snapshot.files.map((f, i) => ({
    name: f.name,
    recorded: snapshot.ids[2 * i],
    actual: statSync(f.absolutePath, { bigint: true }).ino,
  }));
}

describe('StatCollector', () => {
  it("gives the walk's own list the walk's stats", async () => {
    const { stats, files } = await walkedWithStats();
    const snapshot = stats.snapshot(files);
    expect(files.map((f) => f.name)).toEqual(['a.bin', 'b.bin', 'c.bin', 'd.bin']);
    for (const entry of inodes(snapshot)) expect(entry.recorded, entry.name).toBe(entry.actual);
  });

  it('gives a list with files left out the stats of each file it holds, not of the file walked at its position', async () => {
    const { stats, files } = await walkedWithStats();
    const kept = [files[1], files[3]];
    const snapshot = stats.snapshot(kept);
    expect(snapshot.files).toBe(kept);
    expect(snapshot.ids.length).toBe(4);
    for (const entry of inodes(snapshot)) expect(entry.recorded, entry.name).toBe(entry.actual);
  });

  it('stats afresh what it cannot match in order', async () => {
    const { stats, files } = await walkedWithStats();
    const reordered = [files[2], files[0]];
    for (const entry of inodes(stats.snapshot(reordered))) expect(entry.recorded, entry.name).toBe(entry.actual);
  });
});
