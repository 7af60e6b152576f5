import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import module from 'node:module';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, cleanupTempDirs, ours, tempDir, writeKeyPair } from './helpers.js';

// The CLI's start-up on the Node line running the tests: on lines with
// module.enableCompileCache (Node ≥ 22.1) it keeps its compiled code where
// Node puts it by default, and a cache it cannot write never stops it.

const CLI = path.join(REPO_ROOT, 'packages/cli/dist/bin.js');
const { version } = JSON.parse(await fs.readFile(path.join(REPO_ROOT, 'packages/cli/package.json'), 'utf8')) as { version: string };
const hasCompileCache = typeof (module as { enableCompileCache?: unknown }).enableCompileCache === 'function';
afterAll(cleanupTempDirs);

/** Runs `model-signing --version` with `TMPDIR` set and Node's own cache variables cleared. */
function versionWithTmpdir(tmpdir: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, TMPDIR: tmpdir };
  delete env['NODE_COMPILE_CACHE'];
  delete env['NODE_DISABLE_COMPILE_CACHE'];
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, '--version'], { env }, (error, stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}

describe(`start-up on Node ${process.version}`, () => {
  it(
    hasCompileCache
      ? 'keeps the compiled CLI in node-compile-cache/ under the temporary directory, as Node does by default'
      : 'runs without a compile cache on a line that has none, and writes none',
    async () => {
      const tmp = await tempDir('oms-startup-');
      const first = await versionWithTmpdir(tmp);
      expect(first, first.stderr).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
      const cached = await fs.readdir(path.join(tmp, 'node-compile-cache'), { recursive: true }).catch(() => []);
      if (hasCompileCache) {
        // One folder per Node version, holding an entry per compiled module.
        expect(cached.length).toBeGreaterThan(1);
        const second = await versionWithTmpdir(tmp);
        expect(second).toEqual(first);
      } else {
        expect(cached).toEqual([]);
      }
    },
  );

  it('starts as usual when the cache directory cannot be created', async () => {
    const tmp = await tempDir('oms-startup-');
    // Below a regular file nothing can be created, even by root.
    await fs.writeFile(path.join(tmp, 'a-file'), '');
    const result = await versionWithTmpdir(path.join(tmp, 'a-file', 'tmp'));
    expect(result).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
  });
});

describe('what a command loads', () => {
  const HOOK = path.join(REPO_ROOT, 'test-fixtures/record-modules.mjs');
  // The policy compiler's CEL engine (with protobuf and RE2) and YAML are about 200 modules:
  // most of a short command's start-up, loaded only when a policy or a model card is read.
  const HEAVY = /\/node_modules\/(yaml|@bufbuild\/cel|@bufbuild\/protobuf)\//;

  async function loadedBy(args: string[], dir: string): Promise<{ code: number; stderr: string; modules: string[] }> {
    const out = path.join(dir, `modules-${args[0]}-${Date.now()}.txt`);
    const env: NodeJS.ProcessEnv = { ...process.env, RECORD_MODULES_TO: out };
    const result = await new Promise<{ code: number; stderr: string }>((resolve) => {
      execFile(process.execPath, ['--import', HOOK, CLI, ...args], { env }, (error, _stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stderr }),
      );
    });
    const modules = (await fs.readFile(out, 'utf8')).split('\n').filter(Boolean);
    return { ...result, modules };
  }

  it('verifying with a key loads neither the policy compiler nor YAML; a policy does', async () => {
    const dir = await fs.realpath(await tempDir('oms-startup-'));
    const model = path.join(dir, 'model');
    await fs.mkdir(model);
    await fs.writeFile(path.join(model, 'weights.bin'), 'weights');
    const { privateKey, publicKey } = await writeKeyPair(dir, 'P-256');
    const signature = path.join(dir, 'model.sig');
    const signed = await ours(['sign', 'key', model, '--private-key', privateKey, '--signature', signature]);
    expect(signed.code, signed.stderr).toBe(0);

    const plain = await loadedBy(['verify', 'key', model, '--public-key', publicKey, '--signature', signature], dir);
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.modules.length).toBeGreaterThan(20);
    expect(plain.modules.filter((url) => HEAVY.test(url))).toEqual([]);
    // proper-lockfile brings graceful-fs, which wraps every fs function of the process: claims appends only.
    expect(plain.modules.filter((url) => /\/node_modules\/proper-lockfile\//.test(url))).toEqual([]);

    const policy = path.join(dir, 'policy.yaml');
    await fs.writeFile(
      policy,
      [
        'version: 1',
        'authorities:',
        `  us: { key: { file: ${JSON.stringify(publicKey)} } }`,
        'rules:',
        '  - name: ours',
        `    match: { path: "${model}" }`,
        '    require:',
        '      signatures: { by: [us] }',
        '',
      ].join('\n'),
    );
    const governed = await loadedBy(['verify', '--policy', policy, model, '--signature', signature], dir);
    expect(governed.code, governed.stderr).toBe(0);
    expect(governed.modules.some((url) => HEAVY.test(url))).toBe(true);
  });
});
