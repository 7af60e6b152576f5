// transformers.js's web build in real Chromium, loading a signed repo from
// the loopback hub through @model-signing/transformers/browser: the same
// tiny model, signature and pipeline as pipeline.test.ts in Node, the same
// outputs, and the same refusals, with the Cache API inspected in the page.
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import { env as nodeEnv, pipeline as nodePipeline } from '@huggingface/transformers';
import { KeySigner, attest, signModel } from '@model-signing/core';
import { uploadSignedModel } from '@model-signing/hf-hub';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configureVerifiedLoading as configureInNode } from '../../src/index.js';
import { startBrowser, type BrowserHarness } from '../../../core/test/browser/harness.js';
import { FakeHub } from '@model-signing/hf-hub/testing';
import { VOCAB, expectedEmbedding, tinyBertFiles } from '../fixtures/tiny-bert.js';
import { keyPair, removeTempDirs, tempDir, writeFiles } from '../helpers.js';
import { startCorsFront, type CorsFront } from './cors-front.js';
import {
  REFUSALS,
  REFUSAL_CASES,
  policyParties,
  scenarioPolicies,
  scenarioSignatures,
} from '../../../../test-fixtures/policy-scenarios.mjs';
import type { CacheEntry, EmbedOutcome, EmbedParams } from './page/pipeline-page.js';

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const SENTENCE = 'Hello signed models.';
const TOKENS = ['[CLS]', 'hello', 'signed', 'model', '##s', '.', '[SEP]'].map((t) => VOCAB.indexOf(t));
/** What a feature-extraction pipeline with fp32 weights reads: not the quantized variant. */
const PIPELINE_FILES = ['config.json', 'onnx/model.onnx', 'tokenizer.json', 'tokenizer_config.json'];
/** Digests of every signed file; the v2 config of the branch test is added there. */
const SIGNED_DIGESTS = new Set(Object.values(tinyBertFiles()).map(sha256));
const WASM_FILES = ['ort-wasm-simd-threaded.asyncify.mjs', 'ort-wasm-simd-threaded.asyncify.wasm'];

let browser: BrowserHarness;
let hub: FakeHub;
let front: CorsFront;
let keys: Awaited<ReturnType<typeof keyPair>>;
let modelDir: string;
let repoCount = 0;

beforeAll(async () => {
  hub = await FakeHub.start();
  front = await startCorsFront(hub.url);
  keys = await keyPair();
  modelDir = await tempDir('model');
  await writeFiles(modelDir, tinyBertFiles());
  browser = await startBrowser({ entry: new URL('./page/pipeline-page.ts', import.meta.url).pathname });
  // onnxruntime-web's WebAssembly comes from node_modules through the page's server: no CDN.
  const requireOrt = createRequire(createRequire(import.meta.url).resolve('@huggingface/transformers'));
  for (const name of WASM_FILES) {
    const bytes = await fs.readFile(requireOrt.resolve(`onnxruntime-web/${name}`));
    const type = name.endsWith('.wasm') ? 'application/wasm' : 'text/javascript';
    browser.route(
      `ort/${name}`,
      (_req, res) => void res.writeHead(200, { 'content-type': type, 'content-length': bytes.length }).end(bytes),
    );
  }
  await browser.call('useLocalWasm', `${browser.origin}ort/`);
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await front?.close();
  await hub?.close();
  await removeTempDirs();
});

/** A new repo holding the signed tiny model (signed on upload, as users do), and a Cache API cache of its own. */
async function signedRepo(): Promise<{ repo: string; revision: string; cacheName: string }> {
  const repo = `org/tiny-bert-${++repoCount}`;
  hub.createRepo(repo);
  await uploadSignedModel({ repo, modelPath: modelDir, signer: keys.signer, hubUrl: hub.url });
  hub.resetCounters();
  return { repo, revision: hub.head(repo), cacheName: `verified-${repoCount}` };
}

const embed = (params: Omit<EmbedParams, 'hubUrl' | 'publicKeyPem' | 'sentence'> & { publicKeyPem?: string; hubUrl?: string }) =>
  browser.call<EmbedOutcome>('embed', { hubUrl: front.url, publicKeyPem: keys.publicPem, sentence: SENTENCE, ...params });
const cacheEntries = () => browser.call<CacheEntry[]>('cacheEntries');

/** Files of the repo fetched in full from the hub, as its log shows them. */
const downloads = (repo: string) =>
  hub.requests
    .filter((r) => r.startsWith(`GET /${repo}/resolve/`))
    .map((r) => r.split('/resolve/')[1].split('/').slice(1).join('/'))
    .sort();

/** Every entry the origin's Cache API holds under this signature, as `file` → digest. */
async function cachedFiles(repo: string, rootDigest: string): Promise<Map<string, string>> {
  const prefix = `/${repo}/${rootDigest}/`;
  const files = new Map<string, string>();
  for (const entry of await cacheEntries()) {
    const at = new URL(entry.url).pathname.indexOf(prefix);
    if (at >= 0) files.set(decodeURIComponent(new URL(entry.url).pathname.slice(at + prefix.length)), entry.sha256);
  }
  return files;
}

/** No entry anywhere in the Cache API holds bytes that were not signed, and transformers.js's own cache was never created. */
async function expectOnlySignedBytesCached(): Promise<void> {
  const entries = await cacheEntries();
  for (const entry of entries) expect(SIGNED_DIGESTS.has(entry.sha256), `${entry.cache} ${entry.url}`).toBe(true);
  expect(entries.map((e) => e.cache)).not.toContain('transformers-cache');
}

const expectClose = (actual: number[], expected: number[]) => {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((v, i) => expect(v).toBeCloseTo(expected[i], 6));
};

function expectOk(outcome: EmbedOutcome): asserts outcome is Extract<EmbedOutcome, { ok: true }> {
  expect(outcome.ok, outcome.ok ? '' : `${outcome.code} ${outcome.message}`).toBe(true);
}

function expectRefusal(outcome: EmbedOutcome, code: string, file?: string): Extract<EmbedOutcome, { ok: false }> {
  expect(outcome.ok, 'expected a refusal').toBe(false);
  const refusal = outcome as Extract<EmbedOutcome, { ok: false }>;
  expect(refusal.code, refusal.message).toBe(code);
  if (file !== undefined) {
    expect(refusal.path).toBe(file);
    expect(refusal.message).toContain(file);
  }
  return refusal;
}

describe('pipeline() in Chromium through @model-signing/transformers/browser', () => {
  it('gives the outputs Node gives, downloads only the files the pipeline uses, and caches only verified files', async () => {
    const { repo, revision, cacheName } = await signedRepo();
    const outcome = await embed({ repo, revision, cacheName });
    expectOk(outcome);
    expectClose(outcome.embedding, expectedEmbedding(TOKENS));
    // Each file listed once, and one progress event each.
    expect([...outcome.loadedFiles].sort()).toEqual(PIPELINE_FILES);
    expect([...outcome.events].sort()).toEqual(PIPELINE_FILES.map((f) => `${f}:network`));
    // With the signature, the claims file beside it is asked for (none here: HTTP 404).
    expect(downloads(repo)).toEqual(['claims.jsonl', 'model.sig', ...PIPELINE_FILES].sort());
    expect(hub.bytesServed(repo, 'onnx/model_quantized.onnx')).toBe(0);
    const cached = await cachedFiles(repo, outcome.rootDigest);
    expect([...cached.keys()].sort()).toEqual(PIPELINE_FILES);
    for (const [file, digest] of cached) expect(digest, file).toBe(sha256(tinyBertFiles()[file]));
    await expectOnlySignedBytesCached();

    // The same repo through the Node entry and onnxruntime-node.
    const cacheDir = await tempDir('node-cache');
    const loading = await configureInNode({ env: nodeEnv, repo, revision, verifier: keys.verifier, cacheDir, hubUrl: hub.url });
    try {
      const extractor = await nodePipeline('feature-extraction', repo, { revision });
      const output = await extractor(SENTENCE, { pooling: 'mean', normalize: true });
      await extractor.dispose();
      expectClose(outcome.embedding, (output.tolist() as number[][])[0]);
    } finally {
      loading.restore();
    }
  });

  it('a second run reads the Cache API, checks every file again, and downloads only the signature', async () => {
    const { repo, revision, cacheName } = await signedRepo();
    expectOk(await embed({ repo, revision, cacheName }));
    hub.resetCounters();
    const again = await embed({ repo, revision, cacheName });
    expectOk(again);
    expectClose(again.embedding, expectedEmbedding(TOKENS));
    expect(downloads(repo)).toEqual(['claims.jsonl', 'model.sig']);
    expect([...again.events].sort()).toEqual(PIPELINE_FILES.map((f) => `${f}:cache`));
  });

  for (const file of ['onnx/model.onnx', 'tokenizer.json', 'config.json']) {
    it(`refuses a changed byte in ${file}, names it, and leaves nothing unverified in the Cache API`, async () => {
      const { repo, revision, cacheName } = await signedRepo();
      const changed = Buffer.from(tinyBertFiles()[file]);
      changed[changed.length - 2] ^= 0x01;
      hub.replaceBytesKeepingMetadata(repo, file, changed);
      const refusal = expectRefusal(await embed({ repo, revision, cacheName }), 'DIGEST_MISMATCH', file);
      expect(refusal.differences).toEqual([file]);
      expect(hub.fullDownloads(repo, file)).toBe(1);
      expect([...(await cachedFiles(repo, refusal.rootDigest!)).keys()]).not.toContain(file);
      await expectOnlySignedBytesCached();
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
    const refusal = expectRefusal(
      await embed({ repo, revision, cacheName: 'verified-unsigned' }),
      'UNSIGNED_FILE',
      'tokenizer_config.json',
    );
    expect([...(await cachedFiles(repo, refusal.rootDigest!)).keys()]).not.toContain('tokenizer_config.json');
    await expectOnlySignedBytesCached();
  });

  it('refuses a repo without a signature before loading anything', async () => {
    const { repo, cacheName } = await signedRepo();
    const revision = hub.pushCommit(repo, { delete: ['model.sig'] });
    expectRefusal(await embed({ repo, revision, cacheName }), 'NOT_FOUND', 'model.sig');
    expect(downloads(repo)).toEqual(['model.sig']);
    expect((await cacheEntries()).filter((e) => e.url.includes(`/${repo}/`))).toEqual([]);
  });

  it('refuses a signature by another key before loading anything', async () => {
    const { repo, revision, cacheName } = await signedRepo();
    const other = await keyPair();
    expectRefusal(await embed({ repo, revision, cacheName, publicKeyPem: other.publicPem }), 'KEY_MISMATCH');
    expect(downloads(repo)).toEqual(['model.sig']);
    expect((await cacheEntries()).filter((e) => e.url.includes(`/${repo}/`))).toEqual([]);
  });

  it('refuses a Cache API entry edited after a good download, deletes it, and downloads it again on the next load', async () => {
    const { repo, revision, cacheName } = await signedRepo();
    const first = await embed({ repo, revision, cacheName });
    expectOk(first);
    await browser.call('editCacheEntry', cacheName, '/tokenizer.json', ['"hello": 5', '"hello": 6']);
    expect((await cachedFiles(repo, first.rootDigest)).get('tokenizer.json')).not.toBe(sha256(tinyBertFiles()['tokenizer.json']));

    hub.resetCounters();
    const refusal = expectRefusal(await embed({ repo, revision, cacheName }), 'DIGEST_MISMATCH', 'tokenizer.json');
    expect(refusal.message).toContain('cached copy');
    expect([...(await cachedFiles(repo, first.rootDigest)).keys()]).not.toContain('tokenizer.json');
    await expectOnlySignedBytesCached();
    expect(downloads(repo)).toEqual(['claims.jsonl', 'model.sig']);

    hub.resetCounters();
    const healed = await embed({ repo, revision, cacheName });
    expectOk(healed);
    expectClose(healed.embedding, expectedEmbedding(TOKENS));
    expect(downloads(repo)).toEqual(['claims.jsonl', 'model.sig', 'tokenizer.json']);
    expect((await cachedFiles(repo, first.rootDigest)).get('tokenizer.json')).toBe(sha256(tinyBertFiles()['tokenizer.json']));
  });

  it("loads a signed folder served from the page's own origin, with no hub: localModelPath", async () => {
    const folder = await tempDir('local');
    await writeFiles(folder, tinyBertFiles());
    await signModel({ modelPath: folder, signaturePath: `${folder}/model.sig`, signer: keys.signer });
    const served: string[] = [];
    for (const name of [...Object.keys(tinyBertFiles()), 'model.sig']) {
      const bytes = await fs.readFile(`${folder}/${name}`);
      browser.route(`models/tiny-bert-local/${name}`, (_req, res) => {
        served.push(name);
        res.writeHead(200, { 'content-length': bytes.length }).end(bytes);
      });
    }
    hub.resetCounters();
    // No hub: any request to one would fail (nothing listens on this port).
    const outcome = await embed({
      repo: 'tiny-bert-local',
      localModelPath: '/models',
      cacheName: 'verified-local',
      hubUrl: 'http://127.0.0.1:9',
    });
    expectOk(outcome);
    expectClose(outcome.embedding, expectedEmbedding(TOKENS));
    expect([...outcome.events].sort()).toEqual(PIPELINE_FILES.map((f) => `${f}:local`));
    expect(served.sort()).toEqual(['model.sig', ...PIPELINE_FILES].sort());
    expect(hub.requests).toEqual([]);
    await expectOnlySignedBytesCached();
  });

  it('keys the Cache API by signature: a newly signed commit on a branch gets entries of its own, never the old bytes', async () => {
    const { repo, cacheName } = await signedRepo();
    const first = await embed({ repo, revision: 'main', cacheName });
    expectOk(first);
    const updated = await tempDir('updated');
    const v2Config = Buffer.from(JSON.stringify({ ...JSON.parse(tinyBertFiles()['config.json'].toString('utf8')), note: 'v2' }));
    await writeFiles(updated, { ...tinyBertFiles(), 'config.json': v2Config });
    SIGNED_DIGESTS.add(sha256(v2Config));
    await uploadSignedModel({ repo, modelPath: updated, signer: keys.signer, hubUrl: hub.url });
    hub.resetCounters();
    const second = await embed({ repo, revision: 'main', cacheName });
    expectOk(second);
    expectClose(second.embedding, expectedEmbedding(TOKENS));
    expect(second.rootDigest).not.toBe(first.rootDigest);
    // Every file is fetched again for the new signature, the changed config.json included.
    expect(downloads(repo)).toEqual(['claims.jsonl', 'model.sig', ...PIPELINE_FILES].sort());
    expect((await cachedFiles(repo, second.rootDigest)).get('config.json')).toBe(sha256(v2Config));
    expect((await cachedFiles(repo, first.rootDigest)).get('config.json')).toBe(sha256(tinyBertFiles()['config.json']));
    await expectOnlySignedBytesCached();
  });
});

// One trust policy (made in the page with createPolicy) in place of the key: the repo's rule decides.
describe('pipeline() in Chromium under a trust policy', () => {
  const parties = policyParties();
  let policies: { gate: string; twoOfTwo: string };

  beforeAll(async () => {
    const work = await tempDir('policy');
    const signatures = await scenarioSignatures({ core: { signModel, attest, KeySigner }, parties, modelDir, work });
    for (const [name, files] of Object.entries(signatures)) {
      hub.createRepo(`org/policy-${name}`);
      hub.pushCommit(`org/policy-${name}`, { put: { ...tinyBertFiles(), ...files } });
    }
    hub.createRepo('someone/policy-accepted');
    hub.pushCommit('someone/policy-accepted', { put: { ...tinyBertFiles(), ...signatures.accepted } });
    policies = scenarioPolicies(parties, { huggingface: 'org/policy-*' });
  });

  it("runs the pipeline of a repo signed by the publisher with the evaluator's claim, returning the claim", async () => {
    const outcome = await embed({ repo: 'org/policy-accepted', cacheName: 'verified-policy', policy: policies.gate });
    expectOk(outcome);
    expectClose(outcome.embedding, expectedEmbedding(TOKENS));
    expect(outcome.decision).toBe("rule 'evaluated models': every requirement is met");
    expect(outcome.claims).toEqual(['evaluation']);
  });

  // The shared four, each a repo of its own, and the accepted model under a repo no rule matches.
  const refusals: (readonly [string, string, 'gate' | 'twoOfTwo', RegExp])[] = [
    ...REFUSAL_CASES.map(([what, folder, policy, refusal]) => [what, `org/policy-${folder}`, policy, refusal] as const),
    ['no rule matches the repo', 'someone/policy-accepted', 'gate', REFUSALS.unmatched],
  ];
  for (const [what, repo, policy, refusal] of refusals) {
    it(`refuses when ${what}, naming the rule and the requirement, before any model file is read`, async () => {
      hub.resetCounters();
      const outcome = expectRefusal(await embed({ repo, cacheName: 'verified-policy-refused', policy: policies[policy] }), 'POLICY_DENIED');
      expect(outcome.message).toMatch(refusal);
      expect(hub.bytesServed(repo, 'onnx/model.onnx')).toBe(0);
    });
  }
});
