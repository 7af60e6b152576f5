/**
 * The trust policy in headless Chromium through `@model-signing/core/browser`:
 * a YAML policy whose key files are fetched beside it, evaluated over a
 * claims file (the publisher's OMS signature and an evaluator's claim with a
 * CEL threshold) with WebCrypto key verifiers; a Sigstore authority by RE2
 * expression over the reference's production bundle with the shipped root;
 * and a runaway condition stopped by its cost limit. The page bundle builds
 * for the browser platform, so nothing the policy code reaches imports a Node
 * built-in (yaml, Ajv, @bufbuild/cel and re2js included).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CYCLONEDX_PREDICATE_TYPE, KeySigner, attest, signModel } from '../../dist/index.js';
import { accuracyAtLeast, accuracyCard } from '../../../../test-fixtures/model-card.mjs';
import { HISTORICAL, cleanupTempDirs, ecKeyPair, tempDir, writeTree } from '../helpers.js';
import { startBrowser, type BrowserHarness } from './harness.js';

let browser: BrowserHarness;
const policy = (condition: string) => `version: 1
authorities:
  publisher: { key: { file: keys/publisher.pub } }
  evaluator: { key: { file: keys/evaluator.pub } }
  reference-signer:
    sigstore: { identityRegExp: '[^@]+@us\\.ibm\\.com', issuer: https://sigstore.verify.ibm.com/oauth2 }
rules:
  - name: tiny
    match: { huggingface: "my-org/*" }
    require:
      signatures: { by: [publisher] }
      claims:
        - name: evaluation
          predicateType: ${CYCLONEDX_PREDICATE_TYPE}
          by: [evaluator]
          condition: '${condition}'
  - name: reference
    match: { url: "https://models.example.com/reference" }
    require: { signatures: { by: [reference-signer] } }
`;

beforeAll(async () => {
  browser = await startBrowser({ entry: path.join(import.meta.dirname, 'page/policy-page.ts') });
  const work = await tempDir('oms-policy-browser-');
  const model = path.join(work, 'tiny');
  await writeTree(model, { 'model.onnx': 'weights', 'config.json': '{}' });
  const publisher = ecKeyPair();
  const evaluator = ecKeyPair();
  const claims = path.join(work, 'claims.jsonl');
  await signModel({
    modelPath: model,
    signaturePath: claims,
    signer: await KeySigner.create({ privateKey: publisher.privateKey }),
    cacheDir: path.join(work, 'cache'),
  });
  await attest({
    modelPath: model,
    claimsPath: claims,
    signer: await KeySigner.create({ privateKey: evaluator.privateKey }),
    predicateType: CYCLONEDX_PREDICATE_TYPE,
    predicate: accuracyCard(0.93),
  });
  const threshold = accuracyAtLeast(0.9);
  browser.serve('policy.yaml', new TextEncoder().encode(policy(threshold)));
  browser.serve('strict.yaml', new TextEncoder().encode(policy(accuracyAtLeast(0.95))));
  browser.serve(
    'runaway.yaml',
    new TextEncoder().encode(
      policy(
        '[1,2,3,4,5,6,7,8,9,10].all(a, [1,2,3,4,5,6,7,8,9,10].all(b, [1,2,3,4,5,6,7,8,9,10].all(c, [1,2,3,4,5,6,7,8,9,10].all(d, [1,2,3,4,5,6,7,8,9,10].all(e, [1,2,3,4,5,6,7,8,9,10].all(f, true))))))',
      ),
    ),
  );
  browser.serve('keys/publisher.pub', new TextEncoder().encode(publisher.publicKey));
  browser.serve('keys/evaluator.pub', new TextEncoder().encode(evaluator.publicKey));
  browser.serve('claims.jsonl', await fs.readFile(claims));
  browser.serve('reference.sig', await fs.readFile(path.join(HISTORICAL, 'v1.1.0-sigstore/model.sig')));
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await cleanupTempDirs();
});

const hf = { kind: 'huggingface', repo: 'my-org/tiny', revision: 'main' };
/** The page's decision on a served signature file under a served policy. */
const decide = (policyName: string, signatureName: string, identity: object) =>
  browser.call<Record<string, unknown>>('decide', `${browser.origin}${policyName}`, `${browser.origin}${signatureName}`, identity);

describe('trust policy in Chromium', () => {
  it('accepts the publisher’s signature with the evaluator’s claim above the threshold', async () => {
    const result = await decide('policy.yaml', 'claims.jsonl', hf);
    expect(result).toMatchObject({
      allowed: true,
      outcomes: [
        ['signatures', true, ['counted']],
        ['evaluation', true, ['counted']],
      ],
      claims: ['evaluation'],
    });
    expect(result['rootDigest']).toMatch(/^[0-9a-f]{64}$/);
  });

  it('refuses below the threshold, for a repo no rule matches, and past the cost limit', async () => {
    const strict = await decide('strict.yaml', 'claims.jsonl', hf);
    expect(strict).toMatchObject({
      allowed: false,
      outcomes: [
        ['signatures', true, ['counted']],
        ['evaluation', false, ['condition-false']],
      ],
    });
    expect((strict['lines'] as string[]).join('\n')).toMatch(/performanceMetrics = \[\{"type": "accuracy", "value": "0\.93"\}\]/);
    const other = await decide('policy.yaml', 'claims.jsonl', {
      kind: 'huggingface',
      repo: 'other/tiny',
    });
    expect(other).toMatchObject({ allowed: false, reason: expect.stringMatching(/^no rule matches Hugging Face repo other\/tiny/) });
    const runaway = await decide('runaway.yaml', 'claims.jsonl', hf);
    expect(runaway).toMatchObject({ allowed: false, reason: expect.stringMatching(/ran past its cost limit/) });
  });

  it('checks a Sigstore identity by RE2 expression with the shipped production root', async () => {
    const url = { kind: 'url', url: 'https://models.example.com/reference/v1.1.0' };
    const result = await decide('policy.yaml', 'reference.sig', url);
    expect(result).toMatchObject({ allowed: true, outcomes: [['signatures', true, ['counted']]] });
  });

  it('refuses a policy whose key file is missing', async () => {
    browser.unserve('keys/evaluator.pub');
    const result = await decide('policy.yaml', 'claims.jsonl', hf);
    expect(result).toMatchObject({
      code: 'POLICY_INVALID',
      message: expect.stringMatching(/\/authorities\/evaluator\/key: keys\/evaluator\.pub: HTTP 404/),
    });
  });
});
