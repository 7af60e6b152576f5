// The rest of the contract: signatures by the Python reference, a signed file
// the hub lacks or cannot serve, cancellation, and files transformers.js
// would otherwise read from its own local folders without a check.
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { env, pipeline } from '@huggingface/transformers';
import { uploadSignedModel } from '@model-signing/hf-hub';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { configureVerifiedLoading, type VerifiedLoading } from '../src/index.js';
import { FakeHub } from '@model-signing/hf-hub/testing';
import { VOCAB, expectedEmbedding, tinyBertFiles } from './fixtures/tiny-bert.js';
import { expectCode, keyPair, listTree, removeTempDirs, tempDir, writeFiles } from './helpers.js';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
/** Python model-signing 1.1.1, installed by scripts/setup-reference.sh. Tests fail (not skip) without it. */
const REFERENCE_CLI = path.join(process.env['MODEL_SIGNING_REFERENCE_VENV'] ?? path.join(REPO_ROOT, '.venv-ref'), 'bin/model_signing');
const TOKENS = ['[CLS]', 'hello', 'signed', 'model', '##s', '.', '[SEP]'].map((t) => VOCAB.indexOf(t));

describe('configureVerifiedLoading beyond the happy path', () => {
  let hub: FakeHub;
  let keys: Awaited<ReturnType<typeof keyPair>>;
  let modelDir: string;
  let repoCount = 0;
  let active: VerifiedLoading | undefined;

  beforeAll(async () => {
    hub = await FakeHub.start();
    keys = await keyPair();
    modelDir = await tempDir('model');
    await writeFiles(modelDir, tinyBertFiles());
  });
  afterEach(() => {
    active?.restore();
    active = undefined;
  });
  afterAll(async () => {
    await hub.close();
    await removeTempDirs();
  });

  async function signedRepo(): Promise<{ repo: string; revision: string; cacheDir: string }> {
    const repo = `org/tiny-bert-${++repoCount}`;
    hub.createRepo(repo);
    await uploadSignedModel({ repo, modelPath: modelDir, signer: keys.signer, hubUrl: hub.url });
    hub.resetCounters();
    return { repo, revision: hub.head(repo), cacheDir: await tempDir('cache') };
  }

  async function embed(repo: string, revision: string, cacheDir: string): Promise<number[]> {
    active = await configureVerifiedLoading({ env, repo, revision, verifier: keys.verifier, cacheDir, hubUrl: hub.url });
    const extractor = await pipeline('feature-extraction', repo, { revision });
    try {
      return ((await extractor('Hello signed models.', { pooling: 'mean', normalize: true })).tolist() as number[][])[0];
    } finally {
      await extractor.dispose();
    }
  }

  it('loads a repo signed by the Python reference implementation', async () => {
    const dir = await tempDir('python-signed');
    await writeFiles(dir, tinyBertFiles());
    const keyFile = path.join(await tempDir('key'), 'key.pem');
    await fs.writeFile(keyFile, keys.privatePem);
    await promisify(execFile)(REFERENCE_CLI, ['sign', 'key', dir, '--private_key', keyFile, '--signature', path.join(dir, 'model.sig')]);
    const files = Object.fromEntries(
      await Promise.all((await listTree(dir)).map(async (f) => [f, await fs.readFile(path.join(dir, f))] as const)),
    );
    const repo = `org/python-signed-${++repoCount}`;
    hub.createRepo(repo);
    const revision = hub.pushCommit(repo, { put: files });
    const embedding = await embed(repo, revision, await tempDir('cache'));
    expect(active!.manifest.resources.map((r) => r.name).sort()).toEqual(Object.keys(tinyBertFiles()).sort());
    const expected = expectedEmbedding(TOKENS);
    embedding.forEach((v, i) => expect(v).toBeCloseTo(expected[i], 6));
  });

  it('signs on upload so that the Python reference verifies the same files', async () => {
    const { repo } = await signedRepo();
    const dir = await tempDir('from-hub');
    await writeFiles(
      dir,
      Object.fromEntries([...hub.files(repo)].filter(([f]) => f !== '.gitattributes').map(([f, stored]) => [f, stored.data])),
    );
    const publicKey = path.join(await tempDir('key'), 'key.pub');
    await fs.writeFile(publicKey, keys.publicPem);
    const { stdout } = await promisify(execFile)(REFERENCE_CLI, [
      'verify',
      'key',
      dir,
      '--signature',
      path.join(dir, 'model.sig'),
      '--public_key',
      publicKey,
    ]);
    expect(stdout).toContain('Verification succeeded');
  });

  it('works with a shard-mode signature and names the file, not the shard, when one shard changed', async () => {
    const repo = `org/sharded-${++repoCount}`;
    hub.createRepo(repo);
    await uploadSignedModel({ repo, modelPath: modelDir, signer: keys.signer, hubUrl: hub.url, method: 'shards', shardSize: 512 });
    const revision = hub.head(repo);
    const embedding = await embed(repo, revision, await tempDir('cache'));
    const lastShard = `onnx/model.onnx:512:${tinyBertFiles()['onnx/model.onnx'].length}`;
    expect(active!.manifest.resources.map((r) => r.name)).toContain(lastShard);
    const expected = expectedEmbedding(TOKENS);
    embedding.forEach((v, i) => expect(v).toBeCloseTo(expected[i], 6));

    const changed = Buffer.from(tinyBertFiles()['onnx/model.onnx']);
    changed[changed.length - 2] ^= 0x01;
    hub.replaceBytesKeepingMetadata(repo, 'onnx/model.onnx', changed);
    const cacheDir = await tempDir('cache');
    const err = await expectCode(() => embed(repo, revision, cacheDir), 'DIGEST_MISMATCH', 'onnx/model.onnx');
    expect(err.differences.map((d) => d.name)).toEqual([lastShard]);
  });

  it('refuses a signed file the hub no longer has, naming it', async () => {
    const { repo } = await signedRepo();
    const revision = hub.pushCommit(repo, { delete: ['tokenizer.json'] });
    const cacheDir = await tempDir('cache');
    await expectCode(() => embed(repo, revision, cacheDir), 'MISSING_FILE', 'tokenizer.json');
  });

  it('reports a hub error on a signed file as NETWORK_ERROR naming it, and caches nothing for it', async () => {
    const { repo, revision, cacheDir } = await signedRepo();
    hub.planDownloads(repo, 'onnx/model.onnx', () => ({ status: 500 }));
    await expectCode(() => embed(repo, revision, cacheDir), 'NETWORK_ERROR', 'onnx/model.onnx');
    expect(await listTree(path.join(cacheDir, repo, active!.manifest.rootDigest))).not.toContain('onnx/model.onnx');
  });

  it('reports a cache directory it cannot write to as WRITE_FAILED, leaving no temporary file', async () => {
    const { repo, revision } = await signedRepo();
    const parent = await tempDir('blocked');
    // The repo's folder inside the cache is a regular file: nothing can be stored under it.
    await fs.writeFile(path.join(parent, 'org'), 'not a directory');
    await expectCode(() => embed(repo, revision, parent), 'WRITE_FAILED', 'onnx/model.onnx');
    expect(await listTree(parent)).toEqual(['org']);
  });

  it('a fired abortSignal stops the signature download with ABORTED', async () => {
    const { repo, revision, cacheDir } = await signedRepo();
    const controller = new AbortController();
    controller.abort();
    await expectCode(
      () =>
        configureVerifiedLoading({
          env,
          repo,
          revision,
          verifier: keys.verifier,
          cacheDir,
          hubUrl: hub.url,
          abortSignal: controller.signal,
        }),
      'ABORTED',
    );
    expect(hub.requests).toEqual([]);
  });

  it('takes a signature of exactly maxBundleBytes and refuses one byte more from its Content-Length, leaving env untouched', async () => {
    const { repo, revision, cacheDir } = await signedRepo();
    const size = hub.files(repo).get('model.sig')!.data.length;
    const fetchBefore = env.fetch;
    const error = await expectCode(
      () => configureVerifiedLoading({ env, repo, revision, verifier: keys.verifier, cacheDir, hubUrl: hub.url, maxBundleBytes: size - 1 }),
      'BUNDLE_TOO_LARGE',
      'model.sig',
    );
    expect(error.message).toContain(`is ${size} bytes, over the limit of ${size - 1} bytes`);
    expect(env.fetch).toBe(fetchBefore);
    active = await configureVerifiedLoading({
      env,
      repo,
      revision,
      verifier: keys.verifier,
      cacheDir,
      hubUrl: hub.url,
      maxBundleBytes: size,
    });
    expect(active.manifest.resources.map((r) => r.name).sort()).toEqual(Object.keys(tinyBertFiles()).sort());
  });

  it('stops reading an oversized signature at maxBundleBytes whether its Content-Length is true, missing or lying', async () => {
    const { repo, revision, cacheDir } = await signedRepo();
    const huge = Buffer.alloc(8 * 1024 * 1024, 0x20);
    hub.planDownloads(repo, 'model.sig', () => ({ data: huge }));
    const limit = 100_000;
    for (const contentLength of [undefined, null, '10']) {
      // Hands the hub's answer on with the Content-Length replaced, counting the body bytes the adapter pulls.
      let pulled = 0;
      const countingFetch: typeof fetch = async (input, init) => {
        const response = await fetch(input, init);
        const reader = response.body!.getReader();
        const body = new ReadableStream<Uint8Array>(
          {
            async pull(controller) {
              const { done, value } = await reader.read();
              if (done) return controller.close();
              pulled += value.length;
              controller.enqueue(value);
            },
            cancel: (reason) => reader.cancel(reason),
          },
          // Pull only when the adapter reads: the default (one chunk) makes the stream fetch one ahead by itself.
          { highWaterMark: 0 },
        );
        const headers = new Headers(response.headers);
        if (contentLength === null) headers.delete('content-length');
        else if (contentLength !== undefined) headers.set('content-length', contentLength);
        return new Response(body, { status: response.status, headers });
      };
      const error = await expectCode(
        () =>
          configureVerifiedLoading({
            env,
            repo,
            revision,
            verifier: keys.verifier,
            cacheDir,
            hubUrl: hub.url,
            maxBundleBytes: limit,
            fetch: countingFetch,
          }),
        'BUNDLE_TOO_LARGE',
        'model.sig',
      );
      if (contentLength === undefined) {
        expect(error.message).toContain(`is ${huge.length} bytes`);
        expect(pulled).toBe(0);
      } else {
        expect(error.message).toContain(`more than ${limit} bytes`);
        // One chunk (at most 64 KiB from the hub) past the limit, never the whole body.
        expect(pulled).toBeGreaterThan(limit);
        expect(pulled).toBeLessThanOrEqual(limit + 64 * 1024);
      }
    }
  });

  it('refuses a maxBundleBytes that is not a positive integer before any request', async () => {
    hub.resetCounters();
    for (const maxBundleBytes of [0, -1, 1.5, Number.NaN]) {
      await expectCode(
        () =>
          configureVerifiedLoading({
            env,
            repo: 'org/x',
            revision: 'main',
            verifier: keys.verifier,
            cacheDir: '/nonexistent',
            hubUrl: hub.url,
            maxBundleBytes,
          }),
        'INVALID_ARGUMENT',
      );
    }
    expect(hub.requests).toEqual([]);
  });

  it('never reads the repo from env.localModelPath, where transformers.js would take files unchecked', async () => {
    const { repo, revision, cacheDir } = await signedRepo();
    const local = await tempDir('local-models');
    const poisoned = tinyBertFiles();
    poisoned['onnx/model.onnx'] = poisoned['onnx/model_quantized.onnx']!;
    await writeFiles(path.join(local, repo), poisoned);
    env.localModelPath = local;
    const embedding = await embed(repo, revision, cacheDir);
    const expected = expectedEmbedding(TOKENS);
    embedding.forEach((v, i) => expect(v).toBeCloseTo(expected[i], 6));
    expect(hub.fullDownloads(repo, 'onnx/model.onnx')).toBe(1);
  });

  it('answers an optional file that is neither signed nor on the hub with 404, as the hub would, and refuses other repos of the hub unless allowed', async () => {
    const { repo, revision, cacheDir } = await signedRepo();
    active = await configureVerifiedLoading({ env, repo, revision, verifier: keys.verifier, cacheDir, hubUrl: hub.url });
    const absent = await env.fetch(`${hub.url}/${repo}/resolve/${revision}/generation_config.json`);
    expect(absent.status).toBe(404);
    // Another repo on the same hub cannot be checked against this signature: refused, without a request.
    const other = `${hub.url}/org/not-configured/resolve/main/config.json`;
    await expect(env.fetch(other)).rejects.toMatchObject({ code: 'UNSIGNED_FILE', path: other });
    expect(hub.requests).toEqual([`GET /${repo}/resolve/${revision}/model.sig`, `GET /${repo}/resolve/${revision}/generation_config.json`]);
    expect(await listTree(cacheDir)).toEqual([]);
    // Let through only when the caller says so; its answer then comes through unchanged.
    active = await configureVerifiedLoading({
      env,
      repo,
      revision,
      verifier: keys.verifier,
      cacheDir,
      hubUrl: hub.url,
      allowOtherRepos: true,
    });
    expect((await env.fetch(other)).status).toBe(404);
    expect(hub.requests.at(-1)).toBe('GET /org/not-configured/resolve/main/config.json');
  });

  it('checks a request for the configured repo in another letter case against the signature (the hub resolves ids regardless of case)', async () => {
    const { repo, revision, cacheDir } = await signedRepo();
    const changed = Buffer.from(tinyBertFiles()['tokenizer.json']);
    changed[changed.length - 2] ^= 0x01;
    hub.replaceBytesKeepingMetadata(repo, 'tokenizer.json', changed);
    active = await configureVerifiedLoading({ env, repo, revision, verifier: keys.verifier, cacheDir, hubUrl: hub.url });
    const shouting = repo.toUpperCase();
    await expectCode(() => env.fetch(`${hub.url}/${shouting}/resolve/${revision}/tokenizer.json`), 'DIGEST_MISMATCH', 'tokenizer.json');
    const config = await env.fetch(`${hub.url}/${shouting}/resolve/${revision}/config.json`);
    expect(Buffer.from(await config.arrayBuffer()).equals(tinyBertFiles()['config.json'])).toBe(true);
    expect(active.loadedFiles).toEqual(['config.json']);
  });

  it('refuses a URL inside the repo that is not a resolve download (another URL layout), without a request', async () => {
    const { repo, revision, cacheDir } = await signedRepo();
    active = await configureVerifiedLoading({ env, repo, revision, verifier: keys.verifier, cacheDir, hubUrl: hub.url });
    hub.resetCounters();
    const url = `${hub.url}/${repo}/raw/${revision}/config.json`;
    await expect(env.fetch(url)).rejects.toMatchObject({ code: 'UNSIGNED_FILE', path: url });
    expect(hub.requests).toEqual([]);
  });

  it('refuses a repo id that is not owner/name before any request', async () => {
    await expectCode(
      () =>
        configureVerifiedLoading({
          env,
          repo: '../etc',
          revision: 'main',
          verifier: keys.verifier,
          cacheDir: '/nonexistent',
          hubUrl: hub.url,
        }),
      'INVALID_ARGUMENT',
    );
  });
});
