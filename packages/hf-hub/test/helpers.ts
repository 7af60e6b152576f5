// Fixtures generated on the fly: keys, a small model with nested files, temp dirs.
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { KeySigner, KeyVerifier, ModelSigningError } from '@model-signing/core';
import { expect } from 'vitest';

export const TOKEN = 'hf_test_token_for_the_fake_hub';

/** A fresh P-256 key pair as signer and verifier. */
export async function keyPair(): Promise<{ signer: KeySigner; verifier: KeyVerifier }> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    signer: await KeySigner.create({ privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string }),
    verifier: await KeyVerifier.create({ publicKey: publicKey.export({ type: 'spki', format: 'pem' }) as string }),
  };
}

const tempDirs: string[] = [];

/** A new temporary directory, removed by {@link removeTempDirs}. */
export async function tempDir(prefix: string): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), `hf-hub-${prefix}-`));
  tempDirs.push(dir);
  return dir;
}

/** Removes every directory {@link tempDir} made in this test file. */
export async function removeTempDirs(): Promise<void> {
  await Promise.all(tempDirs.splice(0).map((dir) => fs.rm(dir, { recursive: true, force: true })));
}

/**
 * Writes a small model: a regular text config, a nested vocabulary, two
 * binary weight files (LFS on the hub), an empty file, and a `.git/` folder
 * that must be neither signed nor uploaded.
 */
export async function writeModel(dir: string): Promise<Record<string, Buffer>> {
  const files: Record<string, Buffer> = {
    'config.json': Buffer.from(JSON.stringify({ architectures: ['TinyNet'], hidden_size: 8 })),
    'tokenizer/vocab.txt': Buffer.from('hello\nworld\n'),
    'model.safetensors': randomBytes(300_000),
    'weights/extra/part-00001.bin': randomBytes(70_000),
    'empty.txt': Buffer.alloc(0),
  };
  for (const [name, data] of Object.entries(files)) {
    await fs.mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await fs.writeFile(path.join(dir, name), data);
  }
  await fs.mkdir(path.join(dir, '.git'), { recursive: true });
  await fs.writeFile(path.join(dir, '.git', 'HEAD'), 'ref: refs/heads/main\n');
  return files;
}

/** Every file and link under `dir`, relative, sorted (empty when `dir` is missing). */
export async function listTree(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => !e.isDirectory())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort();
}

export const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** Runs `fn`, expects a ModelSigningError with `code`, and returns it. */
export async function expectCode(fn: () => Promise<unknown>, code: string): Promise<ModelSigningError> {
  let error: unknown;
  try {
    await fn();
  } catch (err) {
    error = err;
  }
  expect(error, `expected a ${code} error`).toBeInstanceOf(ModelSigningError);
  expect((error as ModelSigningError).code, (error as Error).message).toBe(code);
  return error as ModelSigningError;
}
