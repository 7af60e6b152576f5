import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';

/**
 * Call at the top of a test file: returns a function giving fresh empty
 * directories, all removed when the file's tests end.
 */
export function useTempDirs(): () => Promise<string> {
  const root = path.join(os.tmpdir(), `ms-tfjs-${process.pid}-${Math.random().toString(36).slice(2)}`);
  afterAll(() => fs.rm(root, { recursive: true, force: true }));
  let count = 0;
  return async () => {
    const dir = path.join(root, `case-${++count}`);
    await fs.mkdir(dir, { recursive: true });
    return dir;
  };
}

/** Names in `dir`, sorted (hidden staging leftovers included). */
export async function listDir(dir: string): Promise<string[]> {
  return (await fs.readdir(dir)).sort();
}
