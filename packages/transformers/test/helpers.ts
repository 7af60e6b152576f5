// Shared test set-up: keys, temp dirs, the signed tiny model on the loopback hub.
import fs from 'node:fs/promises';
import path from 'node:path';
import { KeySigner, KeyVerifier } from '@model-signing/core';
import { ecKeyPair, tempDirs } from '../../../test-fixtures/fixtures.mjs';

export { expectCode } from '../../../test-fixtures/fixtures.mjs';

/** A fresh P-256 key pair as signer and verifier, plus its PEM texts. */
export async function keyPair(): Promise<{ signer: KeySigner; verifier: KeyVerifier; privatePem: string; publicPem: string }> {
  const { privateKey: privatePem, publicKey: publicPem } = ecKeyPair();
  return {
    signer: await KeySigner.create({ privateKey: privatePem }),
    verifier: await KeyVerifier.create({ publicKey: publicPem }),
    privatePem,
    publicPem,
  };
}

const dirs = tempDirs();

/** A new temporary directory, removed by {@link removeTempDirs}. */
export function tempDir(prefix: string): Promise<string> {
  return dirs.make(`transformers-${prefix}-`);
}

/** Removes every directory {@link tempDir} made in this test file. */
export function removeTempDirs(): Promise<void> {
  return dirs.cleanup();
}

/** Writes `files` under `dir`. */
export async function writeFiles(dir: string, files: Record<string, Uint8Array>): Promise<void> {
  for (const [name, data] of Object.entries(files)) {
    await fs.mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await fs.writeFile(path.join(dir, name), data);
  }
}

/** Every file under `dir`, relative, sorted (empty when `dir` is missing). */
export async function listTree(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => !e.isDirectory())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort();
}
