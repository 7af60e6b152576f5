import fs from 'node:fs/promises';
import { afterAll } from 'vitest';
import { tempDirs } from '../../../../test-fixtures/fixtures.mjs';

/**
 * Call at the top of a test file: returns a function giving fresh empty
 * directories, all removed when the file's tests end.
 */
export function useTempDirs(): () => Promise<string> {
  const dirs = tempDirs('ms-tfjs-');
  afterAll(() => dirs.cleanup());
  return () => dirs.make();
}

/** Names in `dir`, sorted (hidden staging leftovers included). */
export async function listDir(dir: string): Promise<string[]> {
  return (await fs.readdir(dir)).sort();
}
