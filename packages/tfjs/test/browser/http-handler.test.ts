/**
 * @model-signing/tfjs/web in real Chromium: signed layers and graph models
 * served on loopback load through verifiedHttpHandler with
 * tf.loadLayersModel / tf.loadGraphModel (CPU backend) and predict what they
 * predict in Node, fetching the signature once per load; a changed weight
 * byte, a weight file the signature does not list and the weights of
 * another signed model are refused, naming the file, and no model is built. The generic HTTP refusals are fetchVerifiedModel's,
 * covered in core's verify-in-browser.test.ts.
 */
import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs/promises';
import type http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeySigner, attest, signModel } from '@model-signing/core';
import {
  REFUSALS,
  REFUSAL_CASES,
  policyParties,
  scenarioPolicies,
  scenarioSignatures,
} from '../../../../test-fixtures/policy-scenarios.mjs';
import { signedSaveHandler } from '../../src/index.js';
import { bundleForBrowser, startBrowser, type BrowserHarness } from '../../../core/test/browser/harness.js';
import { useTempDirs } from '../helpers/dirs.js';
import { GRAPH_INPUT, GRAPH_OUTPUT, GRAPH_SHARDS, graphModelJson, writeGraphModel } from '../helpers/graph-model-fixture.js';
import { SAMPLE_INPUT, denseModel, predictSample } from '../helpers/layers-model.js';
import type { LoadCall, LoadOutcome } from './page/tfjs-page.js';

const newDir = useTempDirs();
let browser: BrowserHarness;
let signer: KeySigner;
let publicKeyPem: string;
/** Requests the server saw, by path. */
const requests = new Map<string, number>();

const load = (call: Omit<LoadCall, 'publicKeyPem'>) => browser.call<LoadOutcome>('load', { publicKeyPem, ...call });

/** Serves `bytes` at `/<name>`, counting requests; `respond` may answer otherwise. */
function serve(name: string, bytes: Uint8Array, respond?: (count: number, res: http.ServerResponse) => void): void {
  browser.route(name, (_req, res) => {
    const count = (requests.get(name) ?? 0) + 1;
    requests.set(name, count);
    if (respond) respond(count, res);
    else res.writeHead(200, { 'content-length': bytes.length }).end(bytes);
  });
}

/** Serves every file of `dir` at `/<prefix>/<name>`, with `overrides` in place of some. */
async function serveDir(dir: string, prefix: string, overrides: Record<string, Uint8Array> = {}): Promise<void> {
  for (const name of await fs.readdir(dir)) serve(`${prefix}/${name}`, overrides[name] ?? (await fs.readFile(path.join(dir, name))));
}

/** The dense layers model saved signed (model.json, weights.bin, model.sig) by the Node save handler. */
async function savedLayersModel(): Promise<string> {
  const modelDir = path.join(await newDir(), 'dense');
  await denseModel().save(signedSaveHandler({ modelDir, signer }));
  return modelDir;
}

/** The converter-style graph model, signed with core's signModel. */
async function signedGraphModel(): Promise<string> {
  const dir = await newDir();
  await writeGraphModel(dir);
  await signModel({ modelPath: dir, signaturePath: path.join(dir, 'model.sig'), signer });
  return dir;
}

beforeAll(async () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  signer = await KeySigner.create({ privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }) });
  publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }) as string;
  browser = await startBrowser({ entry: new URL('./page/tfjs-page.ts', import.meta.url).pathname });
  expect(await browser.call('useCpu')).toBe('cpu');
}, 120_000);
afterAll(async () => {
  await browser?.close();
});

describe('verifiedHttpHandler loads verified TensorFlow.js models in Chromium', () => {
  it('a layers model predicts what it predicts in Node', async () => {
    const dir = await savedLayersModel();
    await serveDir(dir, 'layers');
    const outcome = await load({ kind: 'layers', modelUrl: 'layers/model.json', input: SAMPLE_INPUT });
    expect(outcome, JSON.stringify(outcome)).toMatchObject({ ok: true, files: ['model.json', 'weights.bin'], signer: { method: 'key' } });
    if (outcome.ok) expect(outcome.output).toEqual(await predictSample(denseModel()));
    // One load fetches and verifies the signature once, for the model JSON and its weights alike.
    expect(requests.get('layers/model.sig')).toBe(1);
  });

  it('a sharded graph model predicts its known outputs, loaded from its folder URL', async () => {
    const dir = await signedGraphModel();
    await serveDir(dir, 'graph');
    const outcome = await load({ kind: 'graph', baseUrl: 'graph', input: GRAPH_INPUT });
    expect(outcome, JSON.stringify(outcome)).toMatchObject({ ok: true, output: GRAPH_OUTPUT, files: ['model.json', ...GRAPH_SHARDS] });
    expect(requests.get('graph/model.sig')).toBe(1);
  });

  it('refuses a changed weight byte, naming the file, and builds no model', async () => {
    const dir = await savedLayersModel();
    const weights = await fs.readFile(path.join(dir, 'weights.bin'));
    weights[weights.length - 1] ^= 1;
    await serveDir(dir, 'changed', { 'weights.bin': weights });
    await expect(load({ kind: 'layers', modelUrl: 'changed/model.json', input: SAMPLE_INPUT })).resolves.toMatchObject({
      ok: false,
      code: 'DIGEST_MISMATCH',
      path: 'weights.bin',
      verified: false,
    });
  });

  it('refuses a weight file the signature does not list, before fetching it', async () => {
    // model.json names both shards, but only the first was there when the folder was signed.
    const dir = await newDir();
    await writeGraphModel(dir);
    const second = await fs.readFile(path.join(dir, GRAPH_SHARDS[1]));
    await fs.rm(path.join(dir, GRAPH_SHARDS[1]));
    expect(JSON.parse(await fs.readFile(path.join(dir, 'model.json'), 'utf8'))).toEqual(graphModelJson());
    await signModel({ modelPath: dir, signaturePath: path.join(dir, 'model.sig'), signer });
    await serveDir(dir, 'unsigned');
    serve(`unsigned/${GRAPH_SHARDS[1]}`, second);
    await expect(load({ kind: 'graph', modelUrl: 'unsigned/model.json', input: GRAPH_INPUT })).resolves.toMatchObject({
      ok: false,
      code: 'UNSIGNED_FILE',
      path: GRAPH_SHARDS[1],
      verified: false,
    });
    expect(requests.get(`unsigned/${GRAPH_SHARDS[1]}`)).toBeUndefined();
    expect(requests.get(`unsigned/${GRAPH_SHARDS[0]}`)).toBeUndefined();
  });

  it('never mixes two signed models: the signature is fetched once per load, and every file is checked against it', async () => {
    const first = await savedLayersModel();
    const other = denseModel();
    other.setWeights(other.getWeights().map((w) => w.mul(2)));
    const secondDir = path.join(await newDir(), 'dense');
    await other.save(signedSaveHandler({ modelDir: secondDir, signer }));
    const [bundleA, bundleB] = await Promise.all([
      fs.readFile(path.join(first, 'model.sig')),
      fs.readFile(path.join(secondDir, 'model.sig')),
    ]);
    // model.json is the same for both (same topology); the weights served are the second model's,
    // and a second request for the signature would get the second model's signature.
    await serveDir(first, 'swap', { 'weights.bin': await fs.readFile(path.join(secondDir, 'weights.bin')) });
    serve('swap/model.sig', bundleA, (count, res) => {
      const bytes = count === 1 ? bundleA : bundleB;
      res.writeHead(200, { 'content-length': bytes.length }).end(bytes);
    });
    await expect(load({ kind: 'layers', modelUrl: 'swap/model.json', input: SAMPLE_INPUT })).resolves.toMatchObject({
      ok: false,
      code: 'DIGEST_MISMATCH',
      path: 'weights.bin',
      verified: false,
    });
    expect(requests.get('swap/model.sig')).toBe(1);
  });

  it('the built entry, imported by its package name, bundles for the browser with no Node built-in', async () => {
    const files = await bundleForBrowser([new URL('./page/bundle-page.ts', import.meta.url).pathname]);
    expect([...files.keys()]).toContain('bundle-page.js');
  });

  it('refuses both or neither of modelUrl and baseUrl at once', async () => {
    await expect(load({ kind: 'layers', input: SAMPLE_INPUT })).resolves.toMatchObject({
      ok: false,
      code: 'INVALID_ARGUMENT',
      verified: false,
    });
    await expect(load({ kind: 'layers', modelUrl: 'layers/model.json', baseUrl: 'layers/', input: SAMPLE_INPUT })).resolves.toMatchObject({
      ok: false,
      code: 'INVALID_ARGUMENT',
    });
  });
});

// One trust policy (made in the page with createPolicy) in place of the key: the rule for the model's URL decides.
describe('verifiedHttpHandler under a trust policy in Chromium', () => {
  const parties = policyParties();
  let policies: { gate: string; twoOfTwo: string };

  beforeAll(async () => {
    const work = await newDir();
    const source = path.join(work, 'policy-source');
    await fs.mkdir(source);
    await writeGraphModel(source);
    const signatures = await scenarioSignatures({ core: { signModel, attest, KeySigner }, parties, modelDir: source, work });
    for (const [name, files] of Object.entries(signatures)) {
      await serveDir(source, `gated/${name}`);
      for (const [file, bytes] of Object.entries(files)) serve(`gated/${name}/${file}`, bytes);
    }
    await serveDir(source, 'elsewhere');
    for (const [file, bytes] of Object.entries(signatures.accepted)) serve(`elsewhere/${file}`, bytes);
    policies = scenarioPolicies(parties, { url: `${browser.origin}gated/` });
  });

  it("loads the graph model signed by the publisher with the evaluator's claim, reporting the claim", async () => {
    const outcome = await load({ kind: 'graph', baseUrl: 'gated/accepted', policy: policies.gate, input: GRAPH_INPUT });
    expect(outcome, JSON.stringify(outcome)).toMatchObject({
      ok: true,
      output: GRAPH_OUTPUT,
      claims: ['evaluation'],
      decision: "rule 'evaluated models': every requirement is met",
    });
  });

  // The shared four, each served from its own folder, and the model served where no rule matches its URL.
  const refusals: (readonly [string, string, 'gate' | 'twoOfTwo', RegExp])[] = [
    ...REFUSAL_CASES.map(([what, folder, policy, refusal]) => [what, `gated/${folder}`, policy, refusal] as const),
    ['no rule matches its URL', 'elsewhere', 'gate', REFUSALS.unmatched],
  ];
  for (const [what, baseUrl, policy, refusal] of refusals) {
    it(`refuses when ${what}, naming the rule and the requirement, and builds no model`, async () => {
      const outcome = await load({ kind: 'graph', baseUrl, policy: policies[policy], input: GRAPH_INPUT });
      expect(outcome, JSON.stringify(outcome)).toMatchObject({ ok: false, code: 'POLICY_DENIED', verified: false });
      expect((outcome as { message: string }).message).toMatch(refusal);
    });
  }
});
