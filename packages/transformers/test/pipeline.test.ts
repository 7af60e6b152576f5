// transformers.js loading a signed repo from a loopback hub through
// configureVerifiedLoading: real pipeline, real onnxruntime, real signatures.
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { env, pipeline } from '@huggingface/transformers';
import { signModel } from '@model-signing/core';
import { uploadSignedModel } from '@model-signing/hf-hub';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { configureVerifiedLoading, type VerifiedLoading } from '../src/index.js';
import { FakeHub } from '@model-signing/hf-hub/testing';
import { VOCAB, expectedEmbedding, tinyBertFiles } from './fixtures/tiny-bert.js';
import { expectCode, keyPair, listTree, removeTempDirs, tempDir, writeFiles } from './helpers.js';

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const SENTENCE = 'Hello signed models.';
const TOKENS = ['[CLS]', 'hello', 'signed', 'model', '##s', '.', '[SEP]'].map((t) => VOCAB.indexOf(t));
/** What a default feature-extraction pipeline reads: not the quantized variant. */
const PIPELINE_FILES = ['config.json', 'onnx/model.onnx', 'tokenizer.json', 'tokenizer_config.json'];

describe('pipeline() through configureVerifiedLoading', () => {
  let hub: FakeHub;
  let keys: Awaited<ReturnType<typeof keyPair>>;
  let modelDir: string;
  let fsCacheDir: string;
  let repoCount = 0;
  let active: VerifiedLoading | undefined;

  beforeAll(async () => {
    hub = await FakeHub.start();
    keys = await keyPair();
    modelDir = await tempDir('model');
    await writeFiles(modelDir, tinyBertFiles());
    // transformers.js's own file cache must never be used: point it somewhere we watch.
    fsCacheDir = await tempDir('fs-cache');
    env.cacheDir = fsCacheDir;
  });
  afterEach(() => {
    active?.restore();
    active = undefined;
  });
  afterAll(async () => {
    await hub.close();
    await removeTempDirs();
  });

  /** A new repo holding the signed tiny model (signed on upload, as users do). */
  async function signedRepo(): Promise<{ repo: string; revision: string; cacheDir: string }> {
    const repo = `org/tiny-bert-${++repoCount}`;
    hub.createRepo(repo);
    await uploadSignedModel({ repo, modelPath: modelDir, signer: keys.signer, hubUrl: hub.url });
    hub.resetCounters();
    return { repo, revision: hub.head(repo), cacheDir: await tempDir('cache') };
  }

  async function embed(
    repo: string,
    revision: string,
    cacheDir: string,
    verifier = keys.verifier,
  ): Promise<{ embedding: number[]; loading: VerifiedLoading }> {
    active?.restore();
    active = await configureVerifiedLoading({ env, repo, revision, verifier, cacheDir, hubUrl: hub.url });
    const extractor = await pipeline('feature-extraction', repo, { revision });
    try {
      const output = await extractor(SENTENCE, { pooling: 'mean', normalize: true });
      return { embedding: (output.tolist() as number[][])[0], loading: active };
    } finally {
      await extractor.dispose();
    }
  }

  const downloads = (repo: string) =>
    hub.requests
      .filter((r) => r.startsWith(`GET /${repo}/resolve/`))
      .map((r) => r.split('/resolve/')[1].split('/').slice(1).join('/'))
      .sort();

  /**
   * The cache listing once in-flight writes are done: transformers.js loads
   * files in parallel and its Promise.all rejects on the first refusal while
   * other (verified) files are still being stored under temporary names.
   */
  async function settledTree(dir: string): Promise<string[]> {
    for (let i = 0; i < 100; i++) {
      const entries = await listTree(dir);
      if (!entries.some((e) => path.basename(e).startsWith('.ms-tmp-'))) return entries;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`temporary files stayed in ${dir}`);
  }

  const expectClose = (actual: number[], expected: number[]) => {
    expect(actual).toHaveLength(expected.length);
    actual.forEach((v, i) => expect(v).toBeCloseTo(expected[i], 6));
  };

  it('gives the graph’s outputs, downloads only the files the pipeline uses, and caches only verified files', async () => {
    const { repo, revision, cacheDir } = await signedRepo();
    const { embedding, loading } = await embed(repo, revision, cacheDir);
    expectClose(embedding, expectedEmbedding(TOKENS));
    // config.json is asked for twice (planning, then loading), and every file goes through the cache hooks again: each is listed once.
    expect([...loading.loadedFiles].sort()).toEqual(PIPELINE_FILES);
    expect(loading.manifest.resources.map((r) => r.name)).toContain('onnx/model_quantized.onnx');
    expect(downloads(repo)).toEqual(['model.sig', ...PIPELINE_FILES].sort());
    expect(hub.bytesServed(repo, 'onnx/model_quantized.onnx')).toBe(0);
    const entries = await listTree(path.join(cacheDir, repo, active!.manifest.rootDigest));
    expect(entries).toEqual(PIPELINE_FILES);
    for (const f of entries)
      expect(sha256(await fs.readFile(path.join(cacheDir, repo, active!.manifest.rootDigest, f))), f).toBe(sha256(tinyBertFiles()[f]));
    expect(await listTree(fsCacheDir)).toEqual([]);
  });

  it('a second run reads the cache, checks every file again, and downloads only the signature', async () => {
    const { repo, revision, cacheDir } = await signedRepo();
    await embed(repo, revision, cacheDir);
    hub.resetCounters();
    const sources: string[] = [];
    active = await configureVerifiedLoading({
      env,
      repo,
      revision,
      verifier: keys.verifier,
      cacheDir,
      hubUrl: hub.url,
      onProgress: (e) => sources.push(`${e.file}:${e.source}`),
    });
    const extractor = await pipeline('feature-extraction', repo, { revision });
    const output = await extractor(SENTENCE, { pooling: 'mean', normalize: true });
    await extractor.dispose();
    expectClose((output.tolist() as number[][])[0], expectedEmbedding(TOKENS));
    expect(downloads(repo)).toEqual(['model.sig']);
    // One event per file.
    expect(sources.sort()).toEqual(PIPELINE_FILES.map((f) => `${f}:cache`));
  });

  for (const file of ['onnx/model.onnx', 'tokenizer.json', 'config.json']) {
    it(`refuses a changed byte in ${file}, names it, and caches nothing unverified`, async () => {
      const { repo, revision, cacheDir } = await signedRepo();
      const changed = Buffer.from(tinyBertFiles()[file]);
      changed[changed.length - 2] ^= 0x01;
      hub.replaceBytesKeepingMetadata(repo, file, changed);
      const err = await expectCode(() => embed(repo, revision, cacheDir), 'DIGEST_MISMATCH', file);
      expect(err.differences.map((d) => d.name)).toEqual([file]);
      const cached = await settledTree(path.join(cacheDir, repo, active!.manifest.rootDigest));
      expect(cached).not.toContain(file);
      for (const f of cached)
        expect(sha256(await fs.readFile(path.join(cacheDir, repo, active!.manifest.rootDigest, f))), f).toBe(sha256(tinyBertFiles()[f]));
      expect(await listTree(fsCacheDir)).toEqual([]);
    });
  }

  it('refuses a file the pipeline needs that the signature does not list', async () => {
    const repo = `org/tiny-bert-${++repoCount}`;
    const partial = await tempDir('partial');
    const files = tinyBertFiles();
    delete files['tokenizer_config.json'];
    await writeFiles(partial, files);
    hub.createRepo(repo);
    await uploadSignedModel({ repo, modelPath: partial, signer: keys.signer, hubUrl: hub.url });
    const revision = hub.pushCommit(repo, { put: { 'tokenizer_config.json': tinyBertFiles()['tokenizer_config.json'] } });
    const cacheDir = await tempDir('cache');
    await expectCode(() => embed(repo, revision, cacheDir), 'UNSIGNED_FILE', 'tokenizer_config.json');
    expect(await listTree(path.join(cacheDir, repo, active!.manifest.rootDigest))).not.toContain('tokenizer_config.json');
  });

  it('refuses a repo without a signature before loading anything', async () => {
    const { repo } = await signedRepo();
    const revision = hub.pushCommit(repo, { delete: ['model.sig'] });
    const cacheDir = await tempDir('cache');
    await expectCode(() => embed(repo, revision, cacheDir), 'NOT_FOUND', 'model.sig');
    expect(downloads(repo)).toEqual(['model.sig']);
    expect(await listTree(cacheDir)).toEqual([]);
  });

  it('refuses a signature by another key', async () => {
    const { repo, revision, cacheDir } = await signedRepo();
    const other = await keyPair();
    await expectCode(() => embed(repo, revision, cacheDir, other.verifier), 'KEY_MISMATCH');
    expect(downloads(repo)).toEqual(['model.sig']);
    expect(await listTree(cacheDir)).toEqual([]);
  });

  it('refuses a cache entry edited on disk after a good download, removes it, and heals on the next load', async () => {
    const { repo, revision, cacheDir } = await signedRepo();
    await embed(repo, revision, cacheDir);
    const entry = path.join(cacheDir, repo, active!.manifest.rootDigest, 'tokenizer.json');
    const edited = Buffer.from(tinyBertFiles()['tokenizer.json'].toString('utf8').replace('"hello": 5', '"hello": 6'));
    expect(edited).not.toEqual(tinyBertFiles()['tokenizer.json']);
    await fs.writeFile(entry, edited);
    await expectCode(() => embed(repo, revision, cacheDir), 'DIGEST_MISMATCH', 'tokenizer.json');
    await expect(fs.stat(entry)).rejects.toThrow();
    hub.resetCounters();
    const { embedding } = await embed(repo, revision, cacheDir);
    expectClose(embedding, expectedEmbedding(TOKENS));
    expect(downloads(repo)).toEqual(['model.sig', 'tokenizer.json']);
  });

  it('loads every file from the verified revision, whatever revision transformers.js names', async () => {
    const { repo, revision, cacheDir } = await signedRepo();
    // main moves on to bytes nobody signed; the pinned commit still holds the signed ones.
    hub.pushCommit(repo, { put: { 'onnx/model.onnx': tinyBertFiles()['onnx/model_quantized.onnx'] } });
    active = await configureVerifiedLoading({ env, repo, revision, verifier: keys.verifier, cacheDir, hubUrl: hub.url });
    const extractor = await pipeline('feature-extraction', repo);
    const output = await extractor(SENTENCE, { pooling: 'mean', normalize: true });
    await extractor.dispose();
    expectClose((output.tolist() as number[][])[0], expectedEmbedding(TOKENS));
    expect(hub.requests.filter((r) => r.startsWith(`GET /${repo}/resolve/`) && !r.includes(`/resolve/${revision}/`))).toEqual([]);
  });

  it('with a branch as revision, a newly signed commit is cached in a folder of its own, not refused against the old entries', async () => {
    const { repo, cacheDir } = await signedRepo();
    const first = await embed(repo, 'main', cacheDir);
    const firstDigest = first.loading.manifest.rootDigest;
    const updated = await tempDir('updated');
    await writeFiles(updated, {
      ...tinyBertFiles(),
      'config.json': Buffer.from(JSON.stringify({ ...JSON.parse(tinyBertFiles()['config.json'].toString('utf8')), note: 'v2' })),
    });
    await uploadSignedModel({ repo, modelPath: updated, signer: keys.signer, hubUrl: hub.url });
    const second = await embed(repo, 'main', cacheDir);
    expectClose(second.embedding, expectedEmbedding(TOKENS));
    expect(second.loading.manifest.rootDigest).not.toBe(firstDigest);
    expect((await fs.readdir(path.join(cacheDir, repo))).sort()).toEqual([firstDigest, second.loading.manifest.rootDigest].sort());
  });

  it('loads a signed folder on disk with no hub: localModelPath, every file checked, one event each', async () => {
    const models = await tempDir('local-models');
    const folder = path.join(models, 'tiny-bert-local');
    await writeFiles(folder, tinyBertFiles());
    await signModel({ modelPath: folder, signaturePath: path.join(folder, 'model.sig'), signer: keys.signer });
    const cacheDir = await tempDir('cache');
    const events: string[] = [];
    // No hub: any request to one would fail (nothing listens on hubUrl).
    const noHub = 'http://127.0.0.1:9';
    hub.resetCounters();
    const load = async () => {
      active?.restore();
      active = await configureVerifiedLoading({
        env,
        repo: 'tiny-bert-local',
        localModelPath: models,
        verifier: keys.verifier,
        cacheDir,
        hubUrl: noHub,
        onProgress: (e) => events.push(`${e.file}:${e.source}`),
      });
      const extractor = await pipeline('feature-extraction', 'tiny-bert-local');
      try {
        return ((await extractor(SENTENCE, { pooling: 'mean', normalize: true })).tolist() as number[][])[0];
      } finally {
        await extractor.dispose();
      }
    };
    expectClose(await load(), expectedEmbedding(TOKENS));
    expect(events.sort()).toEqual(PIPELINE_FILES.map((f) => `${f}:local`));
    expect([...active!.loadedFiles].sort()).toEqual(PIPELINE_FILES);
    expect(hub.requests).toEqual([]);

    // A changed byte on disk is refused by name (the verified cache is cleared first, so the file is read again).
    await fs.rm(cacheDir, { recursive: true, force: true });
    const changed = Buffer.from(tinyBertFiles()['onnx/model.onnx']);
    changed[changed.length - 2] ^= 0x01;
    await fs.writeFile(path.join(folder, 'onnx/model.onnx'), changed);
    await expectCode(load, 'DIGEST_MISMATCH', 'onnx/model.onnx');
  });

  it('takes a claims.jsonl in the repo as its signature: the newest OMS line the verifier accepts counts, and loading says which', async () => {
    const { repo } = await signedRepo();
    const claimsPath = path.join(await tempDir('claims'), 'claims.jsonl');
    const other = await keyPair();
    await signModel({ modelPath: modelDir, signaturePath: claimsPath, signer: keys.signer });
    await signModel({ modelPath: modelDir, signaturePath: claimsPath, signer: other.signer });
    const revision = hub.pushCommit(repo, { put: { 'claims.jsonl': await fs.readFile(claimsPath) } });
    active = await configureVerifiedLoading({
      env,
      repo,
      revision,
      verifier: keys.verifier,
      signaturePath: 'claims.jsonl',
      cacheDir: await tempDir('cache'),
      hubUrl: hub.url,
    });
    const extractor = await pipeline('feature-extraction', repo, { revision });
    try {
      expectClose(((await extractor(SENTENCE, { pooling: 'mean', normalize: true })).tolist() as number[][])[0], expectedEmbedding(TOKENS));
    } finally {
      await extractor.dispose();
    }
    expect(active.source).toEqual({ layout: 'claims', line: 1, lines: 2, warnings: [] });
  });

  it('restore() puts back every env setting it changed', async () => {
    const { repo, revision, cacheDir } = await signedRepo();
    const before = { ...env };
    const loading = await configureVerifiedLoading({ env, repo, revision, verifier: keys.verifier, cacheDir, hubUrl: hub.url });
    expect(env.useCustomCache).toBe(true);
    expect(env.useFSCache).toBe(false);
    expect(env.allowLocalModels).toBe(false);
    loading.restore();
    expect({ ...env }).toEqual(before);
  });
});
