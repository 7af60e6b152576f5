/**
 * Claims in headless Chromium through `@model-signing/core/browser`: a claims
 * file streamed from a fetch body and checked with WebCrypto key verifiers,
 * the reference's PR #591 fixture as a signature file, and a model card made
 * from README front matter (yaml, Ajv and the vendored CycloneDX schemas in
 * the page). The page bundle builds for the browser platform, so nothing it
 * reaches imports a Node built-in.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeySigner, TEST_RESULT_PREDICATE_TYPE, createClaim } from '../../dist/index.js';
import { serializeBundle } from '../../dist/internal.js';
import { REPO_ROOT, ecKeyPair } from '../helpers.js';
import { startBrowser, type BrowserHarness } from './harness.js';

const FIXTURE = path.join(REPO_ROOT, 'test-fixtures/vectors/claims-jsonl');
const ROOT = '61d02148abf3e8096dc70e5df6e366b1af6f57ce7b3773bf16caa898cdae1e03'; // the fixture model's root digest

let browser: BrowserHarness;
let evaluator: { privateKey: string; publicKey: string };

beforeAll(async () => {
  browser = await startBrowser({ entry: path.join(import.meta.dirname, 'page/claims-page.ts') });
  evaluator = ecKeyPair('P-384');
  const claim = await createClaim({
    subject: { name: 'model', rootDigest: ROOT },
    predicateType: TEST_RESULT_PREDICATE_TYPE,
    predicate: { result: 'PASSED', configuration: [{ uri: 'https://example.com/eval.yaml' }] },
    signer: await KeySigner.create({ privateKey: evaluator.privateKey }),
  });
  const fixture = fs.readFileSync(path.join(FIXTURE, 'claims.jsonl'), 'utf8');
  browser.serve('claims.jsonl', new TextEncoder().encode(`${fixture}${serializeBundle(claim)}\r\nnot json\n`));
  browser.serve('fixture.jsonl', fs.readFileSync(path.join(FIXTURE, 'claims.jsonl')));
}, 120_000);
afterAll(() => browser?.close());

describe('claims in Chromium', () => {
  it('checks every line of a streamed claims file with the keys given', async () => {
    const k1 = fs.readFileSync(path.join(FIXTURE, 'k1.pub'), 'utf8');
    const result = await browser.call<{ claims: unknown[]; warnings: unknown[] }>('checkClaims', `${browser.origin}claims.jsonl`, ROOT, [
      k1,
      evaluator.publicKey,
    ]);
    expect(result.claims).toEqual([
      { line: 1, predicateType: 'https://model_signing/signature/v1.0', verified: true },
      { line: 2, predicateType: 'https://model_signing/signature/v1.0', verified: false, failure: 'KEY_MISMATCH' },
      { line: 3, predicateType: TEST_RESULT_PREDICATE_TYPE, verified: true },
    ]);
    expect(result.warnings).toEqual([['CLAIM_NOT_JSON', 4]]);
  });

  it('reads the reference claims.jsonl as a signature file: k1 matches line 1, k2 line 2, another key is refused', async () => {
    const url = `${browser.origin}fixture.jsonl`;
    expect(await browser.call('signatureLine', url, fs.readFileSync(path.join(FIXTURE, 'k1.pub'), 'utf8'))).toBe(1);
    expect(await browser.call('signatureLine', url, fs.readFileSync(path.join(FIXTURE, 'k2.pub'), 'utf8'))).toBe(2);
    expect(await browser.call('signatureLine', url, evaluator.publicKey)).toBe('KEY_MISMATCH');
  });

  it('turns README front matter into a CycloneDX model card, and refuses YAML that is not', async () => {
    const component = await browser.call<Record<string, unknown>>('cardFromReadme', '---\nlicense: mit\npipeline_tag: fill-mask\n---\n');
    expect(component).toMatchObject({
      type: 'machine-learning-model',
      licenses: [{ license: { id: 'MIT' } }],
      modelCard: { modelParameters: { task: 'fill-mask' } },
    });
    expect(await browser.call('cardFromReadme', '---\nlicense: [mit\n---\n')).toBe('BAD_MODEL_CARD');
  });
});
