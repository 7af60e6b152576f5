import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { staysInside } from '../dist/internal.js';
import { walkModel } from '../dist/internal-node.js';
import { cleanupTempDirs, tempDir, writeTree } from './helpers.js';

afterEach(cleanupTempDirs);

describe('staysInside', () => {
  it('accepts names that only start with dots', () => {
    for (const name of ['', 'a', '..data', '...', 'a/..b', '..a/b', 'a/...', '.', 'a/./b']) expect(staysInside(name), name).toBe(true);
  });

  it('refuses absolute paths and every .. component', () => {
    for (const name of ['..', '../x', 'a/../../x', 'a/..', '/etc/passwd', '/']) expect(staysInside(name), name).toBe(false);
  });

  it('with the Windows separator, also splits on / and refuses drives and UNC paths', () => {
    expect(staysInside('..\\x', '\\')).toBe(false);
    expect(staysInside('a\\..\\..\\x', '\\')).toBe(false);
    expect(staysInside('a/../x', '\\')).toBe(false);
    expect(staysInside('C:\\x', '\\')).toBe(false);
    expect(staysInside('\\\\server\\share', '\\')).toBe(false);
    expect(staysInside('..data\\w', '\\')).toBe(true);
    // On POSIX a backslash is part of a name, not a separator.
    expect(staysInside('..\\x')).toBe(true);
  });
});

describe('containment in the walk', () => {
  it('follows a link to a file whose name starts with dots, and refuses one that leaves the model', async () => {
    const dir = await tempDir();
    await writeTree(dir, { '..data/w.bin': 'w', '...': 'x', 'a/..b': 'b' });
    await fs.symlink('..data/w.bin', path.join(dir, 'link-to-dotdot-data'));
    await fs.symlink('...', path.join(dir, 'link-to-dots'));
    const walked = await walkModel({ modelPath: dir, allowSymlinks: true, ignorePaths: [path.join(dir, '..data', 'w.bin')] });
    expect(walked.files.map((f) => f.name).sort()).toEqual(['...', 'a/..b', 'link-to-dotdot-data', 'link-to-dots']);
    // An absolute ignore path under a `..`-prefixed folder is inside the model and recorded.
    expect(walked.ignorePaths).toContain('..data/w.bin');

    const outside = await tempDir();
    await writeTree(outside, { secret: 's' });
    await fs.symlink(path.join(outside, 'secret'), path.join(dir, 'escape'));
    await expect(walkModel({ modelPath: dir, allowSymlinks: true })).rejects.toMatchObject({ code: 'PATH_ESCAPE' });
  });
});
