// transformers.js under a trust policy: one configureVerifiedLoading call with
// one policy for every repo the app loads, each repo judged by the rule for it
// (at the revision loaded) with the evaluator's claim from claims.jsonl beside
// model.sig; a real pipeline runs only on an accepted repo, and every refusal
// names the rule and the requirement before transformers.js sees a byte.
import fs from 'node:fs/promises';
import path from 'node:path';
import { env, pipeline } from '@huggingface/transformers';
import { KeySigner, KeyVerifier, attest, loadPolicy, signModel, type Policy } from '@model-signing/core';
import { FakeHub } from '@model-signing/hf-hub/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { accuracyCard } from '../../../test-fixtures/model-card.mjs';
import { REFUSALS, policyParties, scenarioPolicies, scenarioSignatures } from '../../../test-fixtures/policy-scenarios.mjs';
import { configureVerifiedLoading, type VerifiedLoading } from '../src/index.js';
import { VOCAB, expectedEmbedding, tinyBertFiles } from './fixtures/tiny-bert.js';
import { expectCode, removeTempDirs, tempDir, writeFiles } from './helpers.js';

const SENTENCE = 'Hello signed models.';
const TOKENS = ['[CLS]', 'hello', 'signed', 'model', '##s', '.', '[SEP]'].map((t) => VOCAB.indexOf(t));
const parties = policyParties();
let hub: FakeHub;
let work: string;
let gate: Policy;
let twoOfTwo: Policy;
let active: VerifiedLoading | undefined;

async function policyFile(name: string, text: string): Promise<Policy> {
  const file = path.join(work, name);
  await fs.writeFile(file, text);
  return loadPolicy(file);
}

beforeAll(async () => {
  hub = await FakeHub.start();
  work = await tempDir('policy');
  env.cacheDir = await tempDir('fs-cache');
  const modelDir = path.join(work, 'tiny-bert');
  const files = tinyBertFiles();
  await writeFiles(modelDir, files);
  const signatures = await scenarioSignatures({ core: { signModel, attest, KeySigner }, parties, modelDir, work });
  const push = (repo: string, sigs: Record<string, Buffer>) => {
    hub.createRepo(repo);
    hub.pushCommit(repo, { put: { ...files, ...sigs } });
  };
  for (const [name, sigs] of Object.entries(signatures)) push(`org/${name}`, sigs);
  push('org/second', signatures.accepted);
  push('someone/accepted', signatures.accepted);
  const policies = scenarioPolicies(parties, { huggingface: 'org/*' });
  gate = await policyFile('gate.json', policies.gate);
  twoOfTwo = await policyFile('two-of-two.json', policies.twoOfTwo);
});
afterEach(() => {
  active?.restore();
  active = undefined;
});
afterAll(async () => {
  await hub.close();
  await removeTempDirs();
});

async function embed(repo: string): Promise<number[]> {
  const extractor = await pipeline('feature-extraction', repo);
  try {
    const output = await extractor(SENTENCE, { pooling: 'mean', normalize: true });
    return (output.tolist() as number[][])[0];
  } finally {
    await extractor.dispose();
  }
}

describe('configureVerifiedLoading({ policy })', () => {
  it('runs pipelines of two accepted repos configured in one call, each with its claim and decision', async () => {
    active = await configureVerifiedLoading({
      env,
      repo: ['org/accepted', 'org/second'],
      policy: gate,
      cacheDir: await tempDir('cache'),
      hubUrl: hub.url,
    });
    expect(active.repos.map((r) => [r.repo, r.policy?.decision.allowed])).toEqual([
      ['org/accepted', true],
      ['org/second', true],
    ]);
    expect(active.claims).toEqual([
      expect.objectContaining({ requirement: 'evaluation', authority: 'evaluator', file: 'claims.jsonl', predicate: accuracyCard(0.93) }),
    ]);
    expect(active.policy?.decision.model).toEqual({ kind: 'huggingface', repo: 'org/accepted', revision: 'main' });
    const expected = expectedEmbedding(TOKENS);
    for (const repo of ['org/accepted', 'org/second']) {
      const embedding = await embed(repo);
      embedding.forEach((v, i) => expect(v).toBeCloseTo(expected[i], 4));
    }
    expect(active.repos[1].loadedFiles).toContain('onnx/model.onnx');
  });

  const refusals: [string, string, () => Policy, RegExp][] = [
    ['the claim is removed', 'org/noClaim', () => gate, REFUSALS.noClaim],
    ['the score is below the threshold', 'org/belowThreshold', () => gate, REFUSALS.belowThreshold],
    ['another key signed', 'org/otherKey', () => gate, REFUSALS.otherKey],
    ['1 of 2 signed where 2 of 2 are required', 'org/accepted', () => twoOfTwo, REFUSALS.oneOfTwo],
    ['no rule matches the repo', 'someone/accepted', () => gate, REFUSALS.unmatched],
  ];
  for (const [what, repo, policy, refusal] of refusals) {
    it(`refuses when ${what}, naming the rule and the requirement, before any model file is read`, async () => {
      hub.resetCounters();
      const before = { fetch: env.fetch, remoteHost: env.remoteHost };
      const error = await expectCode(
        configureVerifiedLoading({ env, repo, policy: policy(), cacheDir: await tempDir('cache'), hubUrl: hub.url }),
        'POLICY_DENIED',
      );
      expect(error.message).toMatch(refusal);
      expect(hub.bytesServed(repo, 'onnx/model.onnx')).toBe(0);
      expect({ fetch: env.fetch, remoteHost: env.remoteHost }).toEqual(before);
    });
  }

  it('refuses the whole call when one of its repos is refused', async () => {
    const error = await expectCode(
      configureVerifiedLoading({
        env,
        repo: ['org/accepted', 'org/belowThreshold'],
        policy: gate,
        cacheDir: await tempDir('cache'),
        hubUrl: hub.url,
      }),
      'POLICY_DENIED',
    );
    expect(error.message).toMatch(/refused Hugging Face repo org\/belowthreshold at revision main/);
  });

  it("with a verifier, returns the signer's own claims only: the evaluator's claim is not the publisher's", async () => {
    const verifier = await KeyVerifier.create({ publicKey: parties.publisher.publicKey });
    active = await configureVerifiedLoading({ env, repo: 'org/accepted', verifier, cacheDir: await tempDir('cache'), hubUrl: hub.url });
    expect(active.claims).toEqual([]);
    expect(active.policy).toBeUndefined();
    await expectCode(
      configureVerifiedLoading({ env, repo: 'org/accepted', verifier, policy: gate, cacheDir: await tempDir('cache'), hubUrl: hub.url }),
      'INVALID_ARGUMENT',
    );
  });
});
