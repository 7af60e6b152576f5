// Fixtures generated on the fly: keys, a small model with nested files, temp dirs.
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { KeySigner, KeyVerifier } from '@model-signing/core';
import { afterAll, beforeAll } from 'vitest';
import { ecKeyPair, tempDirs } from '../../../test-fixtures/fixtures.mjs';
import { downloadVerifiedModel, uploadSignedModel } from '../src/index.js';
import { FakeHub } from '../src/testing.js';

export const TOKEN = 'hf_test_token_for_the_fake_hub';

export { expectCode } from '../../../test-fixtures/fixtures.mjs';

/** A fresh P-256 key pair as signer and verifier. */
export async function keyPair(): Promise<{ signer: KeySigner; verifier: KeyVerifier }> {
  const { privateKey, publicKey } = ecKeyPair();
  return { signer: await KeySigner.create({ privateKey }), verifier: await KeyVerifier.create({ publicKey }) };
}

const dirs = tempDirs();

/** A new temporary directory, removed by {@link removeTempDirs}. */
export function tempDir(prefix: string): Promise<string> {
  return dirs.make(`hf-hub-${prefix}-`);
}

/** Removes every directory {@link tempDir} made in this test file. */
export function removeTempDirs(): Promise<void> {
  return dirs.cleanup();
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
