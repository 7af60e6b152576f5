import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupTempDirs, ours, tempDir, writeKeyPair } from './helpers.js';

afterEach(cleanupTempDirs);

describe('--ignore-paths containment', () => {
  it('takes a path from the current directory into a folder named ..data as inside the model', async () => {
    const work = await tempDir();
    const model = path.join(work, 'model');
    await fs.mkdir(path.join(model, '..data'), { recursive: true });
    await fs.writeFile(path.join(model, '..data/cache.bin'), 'cache');
    await fs.writeFile(path.join(model, 'w.bin'), 'w');
    const keys = await writeKeyPair(work, 'P-256');
    const signed = await ours(
      ['sign', 'key', 'model', '--private-key', keys.privateKey, '--signature', 'model.sig', '--ignore-paths', 'model/..data', '--json'],
      work,
    );
    expect(signed.code, signed.stderr).toBe(0);
    const json = JSON.parse(signed.stdout);
    expect(json.serialization.ignorePaths).toContain('..data');
    expect(json.resources).toBe(1);
  });
});
