import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDirs } from '../../../test-fixtures/fixtures.mjs';
import { assertCodePointOrder } from '../../../test-fixtures/order.mjs';
import { recordSettleMs } from '../../core/dist/node/incremental/record.js';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const CLI = path.join(REPO_ROOT, 'packages/cli/dist/bin.js');
/** The reference implementation, installed by scripts/setup-reference.sh. Tests fail (not skip) without it. */
export const REFERENCE_VENV = process.env['MODEL_SIGNING_REFERENCE_VENV'] ?? path.join(REPO_ROOT, '.venv-ref');
export const REFERENCE_CLI = path.join(REFERENCE_VENV, 'bin/model_signing');
export const REFERENCE_PYTHON = path.join(REFERENCE_VENV, 'bin/python');
export const REFERENCE_API_SCRIPT = path.join(REPO_ROOT, 'scripts/reference_api.py');

/** What a finished process printed. */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

function runProcess(file: string, args: readonly string[], cwd?: string): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, NO_COLOR: '1' } }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * Runs our CLI (the built bin) as users do. Every signature it writes with
 * `sign` is checked for the OMS resource order (code point of the names).
 */
export async function ours(args: readonly string[], cwd?: string): Promise<RunResult> {
  const result = await runProcess(process.execPath, [CLI, ...args], cwd);
  if (args[0] === 'sign' && result.code === 0 && !args.includes('--help')) {
    const flag = args.indexOf('--signature');
    assertCodePointOrder(path.resolve(cwd ?? process.cwd(), flag >= 0 ? args[flag + 1] : 'model.sig'));
  }
  return result;
}

/**
 * Makes every CLI process started from now on see a clock `ms` ahead
 * (`Date.now()`, through the preload test-fixtures/shifted-clock.mjs): files
 * written before it started are that much older for the local hash records
 * it writes. Returns the function that puts the clock back.
 */
export function shiftChildClocks(ms: number): () => void {
  const saved = { options: process.env['NODE_OPTIONS'], shift: process.env['MODEL_SIGNING_TEST_CLOCK_SHIFT_MS'] };
  process.env['NODE_OPTIONS'] = `${saved.options ?? ''} --import=${path.join(REPO_ROOT, 'test-fixtures/shifted-clock.mjs')}`.trim();
  process.env['MODEL_SIGNING_TEST_CLOCK_SHIFT_MS'] = String(ms);
  return () => {
    for (const [name, value] of [
      ['NODE_OPTIONS', saved.options],
      ['MODEL_SIGNING_TEST_CLOCK_SHIFT_MS', saved.shift],
    ] as const) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
}

/**
 * A clock shift after which a record vouches for every file written before:
 * this machine's settle time (core's `recordSettleMs`, 72 s with Linux's
 * writeback defaults) and a second.
 */
export function settledShiftMs(): number {
  const settle = recordSettleMs();
  if (settle === null)
    throw new Error('This machine bounds no writeback (vm.dirty_writeback_centisecs 0?): a local record can prove nothing here');
  return settle + 1000;
}

/** Runs the reference CLI, Python model_signing 1.1.1. */
export function reference(args: readonly string[], cwd?: string): Promise<RunResult> {
  return runProcess(REFERENCE_CLI, args, cwd);
}

/** Runs the reference's Python API through scripts/reference_api.py (shards, blake2b). */
export function referenceApi(args: readonly string[]): Promise<RunResult> {
  return runProcess(REFERENCE_PYTHON, [REFERENCE_API_SCRIPT, ...args]);
}

const dirs = tempDirs('oms-cli-');
/** A fresh temporary directory, removed by {@link cleanupTempDirs}. */
export function tempDir(prefix = 'oms-cli-'): Promise<string> {
  return dirs.make(prefix);
}
/** Removes every directory {@link tempDir} made in this test file. */
export function cleanupTempDirs(): Promise<void> {
  return dirs.cleanup();
}

/**
 * A directory model with what trips up implementations: nested folders,
 * non-ASCII names, spaces, an empty file, a dotfile, and names whose
 * code-point order differs from a per-component order (`tokenizer.json`
 * beside `tokenizer/`, `a-c.txt` and `a b/` beside `a/`).
 */
export async function makeTrickyModel(parent: string, name = 'tricky-model'): Promise<string> {
  const dir = path.join(parent, name);
  const files: Record<string, string> = {
    'config.json': '{"hidden_size": 8}',
    'weights/model-00001-of-00002.safetensors': 'A'.repeat(5000),
    'weights/model-00002-of-00002.safetensors': 'B'.repeat(3000),
    'tokenizer/vocab ünïcødé.txt': 'hello\nwörld\n',
    'name with spaces/日本語.bin': 'multi byte',
    'a b/c.txt': 'space sorts before slash',
    'a-c.txt': 'dash sorts before slash',
    'a/x': 'a folder beside a b/ and a-c.txt',
    'tokenizer.json': '{"model": "a file beside the tokenizer/ folder"}',
    'empty.txt': '',
    '.hidden': 'dotfile',
  };
  for (const [rel, content] of Object.entries(files)) {
    await fs.mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
    await fs.writeFile(path.join(dir, rel), content);
  }
  return dir;
}

/** Writes an EC key pair (PEM) with openssl-compatible encodings; returns the file paths. */
export async function writeKeyPair(dir: string, curve: 'P-256' | 'P-384' | 'P-521'): Promise<{ privateKey: string; publicKey: string }> {
  const { generateKeyPairSync } = await import('node:crypto');
  const pair = generateKeyPairSync('ec', { namedCurve: curve });
  const privateKey = path.join(dir, `${curve}.key.pem`);
  const publicKey = path.join(dir, `${curve}.pub.pem`);
  // SEC1 ("EC PRIVATE KEY"), the form `openssl ecparam -genkey` writes.
  await fs.writeFile(privateKey, pair.privateKey.export({ type: 'sec1', format: 'pem' }));
  await fs.writeFile(publicKey, pair.publicKey.export({ type: 'spki', format: 'pem' }));
  return { privateKey, publicKey };
}
