// Shared test set-up: keys, temp dirs, the signed tiny model on the loopback hub.
import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { KeySigner, KeyVerifier, ModelSigningError } from '@model-signing/core';
import { expect } from 'vitest';

/** A fresh P-256 key pair as signer and verifier, plus its PEM texts. */
export async function keyPair(): Promise<{ signer: KeySigner; verifier: KeyVerifier; privatePem: string; publicPem: string }> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const privatePem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  const publicPem = publicKey.export({ type: 'spki', format: 'pem' }) as string;
  return {
    signer: await KeySigner.create({ privateKey: privatePem }),
    verifier: await KeyVerifier.create({ publicKey: publicPem }),
    privatePem,
    publicPem,
  };
}

const tempDirs: string[] = [];

/** A new temporary directory, removed by {@link removeTempDirs}. */
export async function tempDir(prefix: string): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), `transformers-${prefix}-`));
  tempDirs.push(dir);
  return dir;
}

export async function removeTempDirs(): Promise<void> {
  await Promise.all(tempDirs.splice(0).map((dir) => fs.rm(dir, { recursive: true, force: true })));
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

/** Runs `fn`, expects a ModelSigningError with `code` (and `file`, when given), and returns it. */
export async function expectCode(fn: () => Promise<unknown>, code: string, file?: string): Promise<ModelSigningError> {
  let error: unknown;
  try {
    await fn();
  } catch (err) {
    error = err;
  }
  expect(error, `expected a ${code} error`).toBeInstanceOf(ModelSigningError);
  expect((error as ModelSigningError).code, (error as Error).message).toBe(code);
  if (file !== undefined) {
    expect((error as ModelSigningError).path).toBe(file);
    expect((error as Error).message).toContain(file);
  }
  return error as ModelSigningError;
}
