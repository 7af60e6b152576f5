// Fixtures generated on the fly: keys, a small model with nested files, temp dirs.
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { KeySigner, KeyVerifier, ModelSigningError } from '@model-signing/core';
import { afterAll, beforeAll, expect } from 'vitest';
import { downloadVerifiedModel, uploadSignedModel } from '../src/index.js';
import { FakeHub } from '../src/testing.js';

export const TOKEN = 'hf_test_token_for_the_fake_hub';

/** A fresh P-256 key pair as signer and verifier. */
export async function keyPair(): Promise<{ signer: KeySigner; verifier: KeyVerifier }> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    signer: await KeySigner.create({ privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }) }),
    verifier: await KeyVerifier.create({ publicKey: publicKey.export({ type: 'spki', format: 'pem' }) }),
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

/** What {@link useSignedRepos} sets up for a describe block. */
export interface SignedRepos {
  /** The loopback hub (started in `beforeAll`). */
  readonly hub: FakeHub;
  /** The model on disk that every repo is uploaded from. */
  readonly modelDir: string;
  /** Its files' bytes by model-relative name. */
  readonly model: Record<string, Buffer>;
  /** A fresh repo `org/<prefix>-<n>` holding the model signed by the block's key, counters reset, and an empty cache directory. */
  uploadedRepo(): Promise<{ repo: string; cacheDir: string }>;
  /** `downloadVerifiedModel` of a repo with the block's key, hub and token. */
  download(
    repo: string,
    cacheDir: string,
    extra?: Partial<Parameters<typeof downloadVerifiedModel>[0]>,
  ): ReturnType<typeof downloadVerifiedModel>;
}

/**
 * A loopback hub, a key pair and a model on disk for the enclosing describe
 * block (started in `beforeAll`, removed in `afterAll`); each test uploads
 * its own signed repo, so tests never share hub state.
 */
export function useSignedRepos(repoPrefix: string): SignedRepos {
  let hub: FakeHub | undefined;
  let keys: Awaited<ReturnType<typeof keyPair>> | undefined;
  let modelDir = '';
  let model: Record<string, Buffer> = {};
  let repoCount = 0;
  beforeAll(async () => {
    hub = await FakeHub.start({ token: TOKEN });
    keys = await keyPair();
    modelDir = await tempDir('model');
    model = await writeModel(modelDir);
  });
  afterAll(async () => {
    await hub?.close();
    await removeTempDirs();
  });
  const started = () => {
    if (!hub || !keys) throw new Error('useSignedRepos: the hub is used before beforeAll ran');
    return { hub, keys };
  };
  return {
    get hub() {
      return started().hub;
    },
    get modelDir() {
      return modelDir;
    },
    get model() {
      return model;
    },
    async uploadedRepo() {
      const { hub, keys } = started();
      const repo = `org/${repoPrefix}-${++repoCount}`;
      hub.createRepo(repo);
      await uploadSignedModel({ repo, modelPath: modelDir, signer: keys.signer, hubUrl: hub.url, accessToken: TOKEN });
      hub.resetCounters();
      return { repo, cacheDir: await tempDir('cache') };
    },
    download(repo, cacheDir, extra = {}) {
      const { hub, keys } = started();
      return downloadVerifiedModel({ repo, verifier: keys.verifier, cacheDir, hubUrl: hub.url, accessToken: TOKEN, ...extra });
    },
  };
}
