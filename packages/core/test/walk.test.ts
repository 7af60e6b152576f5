import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { compareResourceNames } from '../dist/internal.js';
import { walkModel } from '../dist/internal-node.js';
import { countModelFiles, walkSelected } from '../dist/node/walk.js';
import { cleanupTempDirs, expectCode, tempDir, writeTree } from './helpers.js';

afterEach(cleanupTempDirs);

const names = async (options: Parameters<typeof walkModel>[0]) => (await walkModel(options)).files.map((f) => f.name).sort();

describe('walkModel', () => {
  it('includes dotfiles and nested folders, and ignores git paths only at the root', async () => {
    const dir = await tempDir();
    await writeTree(dir, {
      'weights.bin': 'w',
      '.hidden': 'h',
      '.cache/x': 'x',
      '.git/HEAD': 'ref',
      '.gitattributes': '*',
      '.github/workflows/ci.yml': 'ci',
      '.gitignore': 'x',
      'sub/.gitignore': 'nested git files are model files',
      'a b/ünï côde.txt': 'u',
    });
    expect(await names({ modelPath: dir })).toEqual(['.cache/x', '.hidden', 'a b/ünï côde.txt', 'sub/.gitignore', 'weights.bin']);
    const withGit = await names({ modelPath: dir, ignoreGitPaths: false });
    expect(withGit).toContain('.git/HEAD');
    expect(withGit).toContain('.gitattributes');
  });

  it('applies ignore paths exactly: a file, a directory subtree, and absolute paths inside the model', async () => {
    const dir = await tempDir();
    await writeTree(dir, { 'keep.txt': 'k', 'cache/a': 'a', 'cache/b/c': 'c', 'sub/cache/d': 'd', 'notes.md': 'n' });
    const walked = await walkModel({ modelPath: dir, ignorePaths: ['cache', path.join(dir, 'notes.md'), '/elsewhere/outside'] });
    expect(walked.files.map((f) => f.name).sort()).toEqual(['keep.txt', 'sub/cache/d']);
    expect(walked.ignorePaths).toEqual(['.git', '.gitattributes', '.github', '.gitignore', 'cache', 'claims.jsonl', 'notes.md']);
  });

  it('leaves out signature and attestation files at the root, records them, and keeps them on request', async () => {
    const dir = await tempDir();
    await writeTree(dir, {
      'weights.bin': 'w',
      'claims.jsonl': '{}\n',
      'model.sig': '{}',
      '.sig': 'a hidden name still ends in .sig',
      'release.sigstore.json': '{}',
      'sub/claims.jsonl': 'nested: a model file',
      'sub/inner.sig': 'nested: a model file',
      'signature.json': 'not a pattern',
      'model.sig.bak': 'not a pattern',
    });
    const walked = await walkModel({ modelPath: dir });
    expect(walked.files.map((f) => f.name).sort()).toEqual([
      'model.sig.bak',
      'signature.json',
      'sub/claims.jsonl',
      'sub/inner.sig',
      'weights.bin',
    ]);
    expect(walked.ignorePaths).toEqual([
      '.git',
      '.gitattributes',
      '.github',
      '.gitignore',
      '.sig',
      'claims.jsonl',
      'model.sig',
      'release.sigstore.json',
    ]);
    const kept = await walkModel({ modelPath: dir, ignoreAttestationFiles: false });
    expect(kept.files).toHaveLength(9);
    expect(kept.ignorePaths).toEqual(['.git', '.gitattributes', '.github', '.gitignore']);
  });

  it('treats a single file as a model whose only resource is "."', async () => {
    const dir = await tempDir();
    await writeTree(dir, { 'model.onnx': 'bytes' });
    const walked = await walkModel({ modelPath: path.join(dir, 'model.onnx') });
    expect(walked.isSingleFile).toBe(true);
    expect(walked.modelName).toBe('model.onnx');
    expect(walked.files).toEqual([{ name: '.', absolutePath: path.join(dir, 'model.onnx'), size: 5 }]);
  });

  it('refuses symlinks unless allowed, and then only those that stay inside the model', async () => {
    const outside = await tempDir();
    await writeTree(outside, { secret: 's' });
    const dir = await tempDir();
    await writeTree(dir, { 'real.bin': 'r' });
    await fs.symlink('real.bin', path.join(dir, 'alias.bin'));
    const refused = await expectCode(walkModel({ modelPath: dir }), 'SYMLINK_REFUSED');
    expect(refused.message).toContain('alias.bin');
    const allowed = await walkModel({ modelPath: dir, allowSymlinks: true });
    expect(allowed.files.find((f) => f.name === 'alias.bin')?.absolutePath).toBe(path.join(await fs.realpath(dir), 'real.bin'));

    await fs.symlink(path.join(outside, 'secret'), path.join(dir, 'escape'));
    const escaped = await expectCode(walkModel({ modelPath: dir, allowSymlinks: true }), 'PATH_ESCAPE');
    expect(escaped.message).toContain('escape');
  });

  it('reports symlink cycles and links to directories', async () => {
    const dir = await tempDir();
    await fs.symlink('loop-b', path.join(dir, 'loop-a'));
    await fs.symlink('loop-a', path.join(dir, 'loop-b'));
    const cycle = await expectCode(walkModel({ modelPath: dir, allowSymlinks: true }), 'SYMLINK_REFUSED');
    expect(cycle.message).toMatch(/cycle/);

    const other = await tempDir();
    await fs.mkdir(path.join(other, 'sub'));
    await fs.symlink('sub', path.join(other, 'linked-dir'));
    await expectCode(walkModel({ modelPath: other, allowSymlinks: true }), 'SYMLINK_REFUSED');
  });

  it('skips an ignored symlink instead of refusing it', async () => {
    const dir = await tempDir();
    await writeTree(dir, { 'a.bin': 'a' });
    await fs.symlink('/etc/hostname', path.join(dir, 'ignored-link'));
    expect(await names({ modelPath: dir, ignorePaths: ['ignored-link'] })).toEqual(['a.bin']);
  });

  it('rejects special files and names that are not UTF-8', async () => {
    const dir = await tempDir();
    execFileSync('mkfifo', [path.join(dir, 'pipe')]);
    const special = await expectCode(walkModel({ modelPath: dir }), 'SPECIAL_FILE');
    expect(special.message).toContain('pipe');

    const latin1 = await tempDir();
    await fs.writeFile(Buffer.concat([Buffer.from(latin1 + '/caf'), Buffer.from([0xe9])]), 'x');
    const bad = await expectCode(walkModel({ modelPath: latin1 }), 'INVALID_FILE_NAME');
    expect(bad.message).toMatch(/not valid UTF-8/);
  });

  it('reports a missing model path', async () => {
    await expectCode(walkModel({ modelPath: '/nonexistent/model' }), 'NOT_FOUND');
  });

  it('lists files in signing order (code points, folders continuing with "/"), so manifests need no sort', async () => {
    const dir = await tempDir();
    const names = [
      'a',
      'a.b',
      'a-b',
      'a0',
      'ab/x',
      'ab.c',
      'ab/y/z',
      'ab0',
      'b b/c',
      'b!',
      'b/c',
      'ﬀ',
      '😀/x',
      'é',
      'Z',
      'z/\ufffd legitimately',
      'deep/1/2/3/4/5/f',
    ];
    await writeTree(dir, Object.fromEntries(names.map((n) => [n, n])));
    const listed = (await walkModel({ modelPath: dir })).files.map((f) => f.name);
    expect(listed).toEqual([...names].sort(compareResourceNames));
    for (const f of (await walkModel({ modelPath: dir })).files) expect(f.absolutePath).toBe(path.join(dir, f.name));
  });

  it('applies ignore paths at every depth, and only there', async () => {
    const dir = await tempDir();
    await writeTree(dir, { 'a/b/c/d.bin': 'x', 'a/b/c/e.bin': 'x', 'a/b/cc/d.bin': 'x', 'x/a/b/c/d.bin': 'x', 'a/b.bin': 'x' });
    expect(await names({ modelPath: dir, ignorePaths: ['a/b/c/d.bin', 'x/a'] })).toEqual(['a/b.bin', 'a/b/c/e.bin', 'a/b/cc/d.bin']);
  });

  it('skips names that are not UTF-8 when only selected (signed) entries are wanted, and keeps the valid ones beside them', async () => {
    const dir = await tempDir();
    await writeTree(dir, { 'ok.bin': 'x', 'z\ufffd.bin': 'y' });
    await fs.writeFile(Buffer.concat([Buffer.from(dir + '/caf'), Buffer.from([0xe9])]), 'x');
    await expectCode(walkModel({ modelPath: dir }), 'INVALID_FILE_NAME');
    const selected = await walkSelected({ modelPath: dir }, () => true);
    expect(selected.files.map((f) => f.name)).toEqual(['ok.bin', 'z\ufffd.bin']);
  });
});

describe('countModelFiles (for a signature limit that follows the model)', () => {
  it('counts every entry that is not a folder, at any depth, leaving out ignore paths and stopping at atMost', async () => {
    const dir = await tempDir();
    await writeTree(dir, { 'a.bin': 'x', 'b/c.bin': 'x', 'b/d/e.bin': 'x', '.git/objects/1': 'x', '.git/objects/2': 'x', 'skip/f': 'x' });
    await fs.symlink('a.bin', path.join(dir, 'link'));
    await fs.symlink('b', path.join(dir, 'folder-link'));
    execFileSync('mkfifo', [path.join(dir, 'fifo')]);
    // Links and the FIFO count as they are, and a link to a folder is not followed.
    expect(await countModelFiles(dir)).toBe(9);
    expect(await countModelFiles(dir, { ignorePaths: ['.git', 'skip/f'] })).toBe(6);
    expect(await countModelFiles(dir, { atMost: 2 })).toBe(2);
    expect(await countModelFiles(path.join(dir, 'a.bin'))).toBe(1);
    expect(await countModelFiles(path.join(dir, 'missing'))).toBe(0);
  });

  it('never throws for what the walk refuses: a dangling link, a name that is not UTF-8', async () => {
    const dir = await tempDir();
    await writeTree(dir, { 'a.bin': 'x' });
    await fs.symlink('nowhere', path.join(dir, 'dangling'));
    await fs.writeFile(Buffer.concat([Buffer.from(dir + '/caf'), Buffer.from([0xe9])]), 'x');
    await expectCode(walkModel({ modelPath: dir }), 'INVALID_FILE_NAME');
    expect(await countModelFiles(dir)).toBe(3);
  });
});
