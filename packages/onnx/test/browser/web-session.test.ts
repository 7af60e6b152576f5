/**
 * @model-signing/onnx/web in real Chromium: signed ONNX models served on
 * loopback run in onnxruntime-web's wasm backend only from verified bytes,
 * and give the outputs onnxruntime-node gives; the refusals that belong to
 * the runtime (external data changed, unsigned or outside the model, the
 * weights of another signed model) name the file and create no session;
 * one load fetches the signature once. The
 * generic HTTP refusals are fetchVerifiedModel's, covered in core's
 * verify-in-browser.test.ts.
 */
import fs from 'node:fs/promises';
import type http from 'node:http';
import path from 'node:path';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InferenceSession } from 'onnxruntime-node';
import { KeySigner, attest, signModel } from '@model-signing/core';
import {
  REFUSALS,
  REFUSAL_CASES,
  policyParties,
  scenarioPolicies,
  scenarioSignatures,
} from '../../../../test-fixtures/policy-scenarios.mjs';
import { saveSignedModel } from '../../src/index.js';
import { startBrowser, type BrowserHarness } from '../../../core/test/browser/harness.js';
import {
  EXPECTED,
  INPUT,
  OTHER_EXPECTED,
  OTHER_WEIGHTS,
  WEIGHTS,
  buildModel,
  floatBytes,
  keyPair,
  runModel,
  tempDir,
} from '../fixtures.js';
import type { RunCall, RunOutcome } from './page/onnx-page.js';

/** onnxruntime-web's dist folder, where its wasm binaries and their JS glue are. */
const ORT_DIST = path.dirname(createRequire(import.meta.url).resolve('onnxruntime-web/ort-wasm-simd-threaded.wasm'));

let browser: BrowserHarness;
let signer: KeySigner;
let publicKeyPem: string;
let work: string;
/** Requests the server saw, by path. */
const requests = new Map<string, number>();

const run = (call: Omit<RunCall, 'publicKeyPem' | 'input'>) => browser.call<RunOutcome>('run', { publicKeyPem, input: INPUT, ...call });

/** Serves `bytes` at `/<name>`, counting requests; `respond` may answer otherwise. */
function serve(name: string, bytes: Uint8Array, respond?: (count: number, res: http.ServerResponse) => void): void {
  browser.route(name, (_req, res) => {
    const count = (requests.get(name) ?? 0) + 1;
    requests.set(name, count);
    if (respond) respond(count, res);
    else res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': bytes.length }).end(bytes);
  });
}

/** Serves every file of `dir` at `/<prefix>/<name>`, with `overrides` in place of some. */
async function serveDir(dir: string, prefix: string, overrides: Record<string, Uint8Array> = {}): Promise<void> {
  for (const name of await fs.readdir(dir)) serve(`${prefix}/${name}`, overrides[name] ?? (await fs.readFile(path.join(dir, name))));
}

/** A signed model folder: the model, with W inline or in `weights.bin`. */
async function savedModel(name: string, options: { external?: boolean; weights?: number[] } = {}): Promise<string> {
  const dir = path.join(work, name);
  const weights = options.weights ?? WEIGHTS;
  await saveSignedModel(dir, {
    model: buildModel({ weights, ...(options.external ? { externalLocation: 'weights.bin' } : {}) }),
    ...(options.external ? { externalData: [{ path: 'weights.bin', data: floatBytes(weights) }] } : {}),
    signer,
  });
  return dir;
}

beforeAll(async () => {
  const keys = await keyPair();
  signer = keys.signer;
  publicKeyPem = keys.publicKeyPem;
  work = await tempDir('onnx-web-');
  browser = await startBrowser({ entry: new URL('./page/onnx-page.ts', import.meta.url).pathname });
  // onnxruntime-web fetches its wasm binary and imports its JS glue at run time: host them as a deployer must.
  for (const file of await fs.readdir(ORT_DIST)) {
    if (!/\.(wasm|mjs)$/.test(file)) continue;
    const type = file.endsWith('.wasm') ? 'application/wasm' : 'text/javascript';
    // Read when asked for: the page needs one pair of the several large binaries.
    browser.route(`ort/${file}`, (_req, res) => {
      void fs
        .readFile(path.join(ORT_DIST, file))
        .then((bytes) => res.writeHead(200, { 'content-type': type, 'content-length': bytes.length }).end(bytes));
    });
  }
  await browser.call('configureOrt', 'ort/');
}, 120_000);
afterAll(async () => {
  await browser?.close();
  if (work) await fs.rm(work, { recursive: true, force: true });
});

describe('createVerifiedWebSession runs verified models in onnxruntime-web (wasm)', () => {
  it('runs a model with inline weights and gives the outputs onnxruntime-node gives', async () => {
    const dir = await savedModel('inline');
    await serveDir(dir, 'inline');
    const outcome = await run({ baseUrl: 'inline/' });
    expect(outcome, JSON.stringify(outcome)).toMatchObject({
      ok: true,
      modelFile: 'model.onnx',
      externalDataFiles: [],
      signer: { method: 'key' },
    });
    const node = await runModel(await InferenceSession.create(await fs.readFile(path.join(dir, 'model.onnx'))));
    expect(node).toEqual(EXPECTED);
    if (outcome.ok) expect(outcome.output).toEqual(node);
  });

  it('runs a model with external data from the verified bytes', async () => {
    const dir = await savedModel('external', { external: true, weights: OTHER_WEIGHTS });
    await serveDir(dir, 'external');
    const outcome = await run({ baseUrl: 'external', modelFile: './model.onnx' });
    expect(outcome, JSON.stringify(outcome)).toMatchObject({
      ok: true,
      output: OTHER_EXPECTED,
      modelFile: 'model.onnx',
      externalDataFiles: ['weights.bin'],
    });
    expect(requests.get('external/weights.bin')).toBe(1);
    // One load fetches and verifies the signature once, for the model file and its external data alike.
    expect(requests.get('external/model.sig')).toBe(1);
  });

  it("runs a model signed as a single .onnx file, from the file's own URL", async () => {
    const dir = path.join(work, 'single');
    await fs.mkdir(dir);
    const file = path.join(dir, 'model.onnx');
    await fs.writeFile(file, buildModel());
    await signModel({ modelPath: file, signaturePath: path.join(dir, 'model.sig'), signer });
    await serveDir(dir, 'single');
    const outcome = await run({ baseUrl: 'single/model.onnx', signatureUrl: 'single/model.sig' });
    expect(outcome, JSON.stringify(outcome)).toMatchObject({ ok: true, output: EXPECTED, modelFile: '.', externalDataFiles: [] });
  });

  it('refuses signed bytes that are not an ONNX model, and a folder with two .onnx files and no modelFile', async () => {
    const garbage = path.join(work, 'garbage');
    await fs.mkdir(garbage);
    await fs.writeFile(path.join(garbage, 'model.onnx'), '<html>not a model</html>');
    await signModel({ modelPath: garbage, signaturePath: path.join(work, 'garbage.sig'), signer });
    await serveDir(garbage, 'garbage');
    serve('garbage/model.sig', await fs.readFile(path.join(work, 'garbage.sig')));
    await expect(run({ baseUrl: 'garbage/' })).resolves.toMatchObject({
      ok: false,
      code: 'INVALID_ARGUMENT',
      path: 'model.onnx',
      verified: false,
    });

    const two = path.join(work, 'two');
    await fs.mkdir(two);
    await fs.writeFile(path.join(two, 'a.onnx'), buildModel());
    await fs.writeFile(path.join(two, 'b.onnx'), buildModel({ weights: OTHER_WEIGHTS }));
    await signModel({ modelPath: two, signaturePath: path.join(work, 'two.sig'), signer });
    await serveDir(two, 'two');
    serve('two/model.sig', await fs.readFile(path.join(work, 'two.sig')));
    await expect(run({ baseUrl: 'two/' })).resolves.toMatchObject({ ok: false, code: 'INVALID_ARGUMENT', verified: false });
    expect(requests.get('two/a.onnx')).toBeUndefined();
    await expect(run({ baseUrl: 'two/', modelFile: 'b.onnx' })).resolves.toMatchObject({
      ok: true,
      output: OTHER_EXPECTED,
      modelFile: 'b.onnx',
    });
  });

  it('refuses a changed byte in the external data file, naming it, with no session', async () => {
    const dir = await savedModel('changed', { external: true });
    const changed = floatBytes(WEIGHTS);
    changed[5] ^= 1;
    await serveDir(dir, 'changed', { 'weights.bin': changed });
    await expect(run({ baseUrl: 'changed/' })).resolves.toMatchObject({
      ok: false,
      code: 'DIGEST_MISMATCH',
      path: 'weights.bin',
      verified: false,
    });
  });

  it('refuses external data the signature does not list, before fetching it', async () => {
    // Signed with only model.onnx in the folder; the server also has the weights.
    const dir = path.join(work, 'unsigned');
    await fs.mkdir(dir);
    await fs.writeFile(path.join(dir, 'model.onnx'), buildModel({ externalLocation: 'weights.bin' }));
    await signModel({ modelPath: dir, signaturePath: path.join(work, 'unsigned.sig'), signer });
    await serveDir(dir, 'unsigned', {});
    serve('unsigned/model.sig', await fs.readFile(path.join(work, 'unsigned.sig')));
    serve('unsigned/weights.bin', floatBytes(WEIGHTS));
    const outcome = await run({ baseUrl: 'unsigned/' });
    expect(outcome).toMatchObject({ ok: false, code: 'UNSIGNED_FILE', path: 'weights.bin', verified: false });
    expect(requests.get('unsigned/weights.bin')).toBeUndefined();
  });

  it('refuses external data outside the model folder', async () => {
    const dir = path.join(work, 'escape');
    await fs.mkdir(dir);
    await fs.writeFile(path.join(dir, 'model.onnx'), buildModel({ externalLocation: '../weights.bin' }));
    await signModel({ modelPath: dir, signaturePath: path.join(work, 'escape.sig'), signer });
    await serveDir(dir, 'escape');
    serve('escape/model.sig', await fs.readFile(path.join(work, 'escape.sig')));
    serve('weights.bin', floatBytes(WEIGHTS));
    await expect(run({ baseUrl: 'escape/' })).resolves.toMatchObject({
      ok: false,
      code: 'PATH_ESCAPE',
      path: '../weights.bin',
      verified: false,
    });
    expect(requests.get('weights.bin')).toBeUndefined();
  });

  it('refuses external data past the end of its verified file before onnxruntime-web sees it', async () => {
    for (const [name, externalOffset] of [
      ['far', '1000000000000'],
      ['near', '4'],
    ]) {
      const dir = path.join(work, `range-${name}`);
      await fs.mkdir(dir);
      await fs.writeFile(path.join(dir, 'model.onnx'), buildModel({ externalLocation: 'weights.bin', externalOffset }));
      await fs.writeFile(path.join(dir, 'weights.bin'), floatBytes(WEIGHTS));
      await signModel({ modelPath: dir, signaturePath: path.join(dir, 'model.sig'), signer });
      await serveDir(dir, `range-${name}`);
      const outcome = await run({ baseUrl: `range-${name}/` });
      expect(outcome).toMatchObject({ ok: false, code: 'BAD_MODEL', path: 'weights.bin', verified: false });
      expect((outcome as { message: string }).message).toContain(`at offset ${externalOffset}, 24 bytes long, past the end`);
    }
  });

  it('never mixes two signed models: the signature is fetched once per load, and every file is checked against it', async () => {
    const first = await savedModel('swap-a', { external: true });
    const second = await savedModel('swap-b', { external: true, weights: OTHER_WEIGHTS });
    const [bundleA, bundleB] = await Promise.all([fs.readFile(path.join(first, 'model.sig')), fs.readFile(path.join(second, 'model.sig'))]);
    await serveDir(first, 'swap', { 'weights.bin': floatBytes(OTHER_WEIGHTS) });
    // A server that would answer with the signature of A first (model.onnx matches), then with that of B (weights.bin matches).
    serve('swap/model.sig', bundleA, (count, res) => {
      const bytes = count <= 1 ? bundleA : bundleB;
      res.writeHead(200, { 'content-length': bytes.length }).end(bytes);
    });
    await expect(run({ baseUrl: 'swap/' })).resolves.toMatchObject({
      ok: false,
      code: 'DIGEST_MISMATCH',
      path: 'weights.bin',
      verified: false,
    });
    expect(requests.get('swap/model.sig')).toBe(1);
  });
});

// One trust policy (made in the page with createPolicy) in place of the key: the rule for the model's URL decides.
describe('createVerifiedWebSession under a trust policy', () => {
  const parties = policyParties();
  let policies: { gate: string; twoOfTwo: string };

  beforeAll(async () => {
    const source = path.join(work, 'policy-source');
    await fs.mkdir(source, { recursive: true });
    await fs.writeFile(path.join(source, 'model.onnx'), buildModel());
    const signatures = await scenarioSignatures({ core: { signModel, attest, KeySigner }, parties, modelDir: source, work });
    for (const [name, files] of Object.entries(signatures)) {
      serve(`gated/${name}/model.onnx`, buildModel());
      for (const [file, bytes] of Object.entries(files)) serve(`gated/${name}/${file}`, bytes);
    }
    serve('elsewhere/model.onnx', buildModel());
    for (const [file, bytes] of Object.entries(signatures.accepted)) serve(`elsewhere/${file}`, bytes);
    policies = scenarioPolicies(parties, { url: `${browser.origin}gated/` });
  });

  it("runs the model signed by the publisher with the evaluator's claim, reporting the claim", async () => {
    const outcome = await run({ baseUrl: 'gated/accepted/', policy: policies.gate });
    expect(outcome).toMatchObject({
      ok: true,
      output: EXPECTED,
      claims: ['evaluation'],
      decision: "rule 'evaluated models': every requirement is met",
    });
  });

  // The shared four, each served from its own folder, and the model served where no rule matches its URL.
  const refusals: (readonly [string, string, 'gate' | 'twoOfTwo', RegExp])[] = [
    ...REFUSAL_CASES.map(([what, folder, policy, refusal]) => [what, `gated/${folder}/`, policy, refusal] as const),
    ['no rule matches its URL', 'elsewhere/', 'gate', REFUSALS.unmatched],
  ];
  for (const [what, baseUrl, policy, refusal] of refusals) {
    it(`refuses when ${what}, naming the rule and the requirement, with no session`, async () => {
      const outcome = await run({ baseUrl, policy: policies[policy] });
      expect(outcome).toMatchObject({ ok: false, code: 'POLICY_DENIED', verified: false });
      expect((outcome as { message: string }).message).toMatch(refusal);
    });
  }
});
