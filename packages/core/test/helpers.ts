import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

/** The repository root. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** Real signed data from the reference and the OMS spec (see test-fixtures/README.md). */
export const VECTORS = path.join(REPO_ROOT, 'test-fixtures/vectors');
export const REFERENCE = path.join(VECTORS, 'model-transparency');
export const HISTORICAL = path.join(REFERENCE, 'historical');
export const REFERENCE_KEYS = path.join(REFERENCE, 'keys/certificate');
export const SPEC_VECTORS = path.join(VECTORS, 'oms-spec/test-vectors/v1.0');

/** A fresh temporary directory, removed by the caller's `afterEach` via {@link cleanupTempDirs}. */
const created: string[] = [];
export async function tempDir(prefix = 'oms-test-'): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), prefix));
  created.push(dir);
  return dir;
}
export async function cleanupTempDirs(): Promise<void> {
  await Promise.all(created.splice(0).map((d) => fs.rm(d, { recursive: true, force: true })));
}

/** Writes a tree of files: `{ 'a/b.txt': 'content' }`. */
export async function writeTree(root: string, files: Record<string, string | Uint8Array>): Promise<void> {
  for (const [name, content] of Object.entries(files)) {
    const file = path.join(root, name);
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, content);
  }
}

/** A PEM EC key pair on the given curve. */
export function ecKeyPair(curve: 'P-256' | 'P-384' | 'P-521' = 'P-256'): { privateKey: string; publicKey: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: curve });
  return {
    privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

/** Asserts that `promise` rejects with a ModelSigningError of `code`, and returns the error. */
export async function expectCode(
  promise: Promise<unknown>,
  code: string,
): Promise<Error & { code: string; path?: string; differences: { kind: string; name: string }[] }> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, `expected a rejection with code ${code}`).toBeInstanceOf(Error);
  expect((err as { code?: string }).code, (err as Error).message).toBe(code);
  return err as Error & { code: string; path?: string; differences: { kind: string; name: string }[] };
}
