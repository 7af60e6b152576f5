// The fixtures every package's tests share: a key pair, temporary
// directories, files written and listed, and `expectCode`, the one assertion for "this fails with a
// ModelSigningError of this code". Plain Node (no vitest import, which does
// not resolve from this folder): a failed expectation throws an
// AssertionError, which vitest reports like its own.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/** A fresh EC key pair as PEM text: PKCS#8 private key, SPKI public key. */
export function ecKeyPair(curve = 'P-256') {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: curve });
  return {
    privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

/**
 * Temporary directories under the OS temporary folder, named `<prefix>…`;
 * `cleanup` removes every one made so far (call it from afterAll or afterEach).
 */
export function tempDirs(prefix = 'oms-test-') {
  const made = [];
  return {
    async make(name = prefix) {
      const dir = await fs.mkdtemp(path.join(os.tmpdir(), name));
      made.push(dir);
      return dir;
    },
    async cleanup() {
      await Promise.all(made.splice(0).map((dir) => fs.rm(dir, { recursive: true, force: true })));
    },
  };
}

/**
 * Awaits `action` (a promise, or a function returning one) and asserts it
 * rejects with a ModelSigningError coded `code` and, when given, naming
 * `file` (in `error.path` and its message). Returns the error.
 */
export async function expectCode(action, code, file) {
  let error;
  try {
    await (typeof action === 'function' ? action() : action);
  } catch (err) {
    error = err;
  }
  assert.ok(error !== undefined, `expected a rejection with code ${code}, but it succeeded`);
  assert.ok(
    error instanceof Error && typeof error.code === 'string' && Array.isArray(error.differences),
    `expected a ModelSigningError with code ${code}, got ${error instanceof Error ? error.stack : String(error)}`,
  );
  assert.equal(error.code, code, error.message);
  if (file !== undefined) {
    assert.equal(error.path, file, error.message);
    assert.ok(error.message.includes(file), `the message does not name '${file}': ${error.message}`);
  }
  return error;
}

/** Writes `files` (model-relative name → content) under `dir`, making folders as needed. */
export async function writeFiles(dir, files) {
  for (const [name, data] of Object.entries(files)) {
    await fs.mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await fs.writeFile(path.join(dir, name), data);
  }
}

/** Every file under `dir`, relative, sorted (empty when `dir` is missing): what a failed load must not have left. */
export async function listTree(dir) {
  const entries = await fs.readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => !e.isDirectory())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort();
}
