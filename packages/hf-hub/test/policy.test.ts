// A trust policy on the hub: the download, the remote check and the cached
// check take one policy in place of a verifier, match its rules on the repo
// (and revision), count the evaluator's claim from claims.jsonl beside
// model.sig, and return the verified claims. Each refusal names the rule and
// the requirement, and leaves nothing in the cache.
import fs from 'node:fs/promises';
import path from 'node:path';
import { KeySigner, attest, loadPolicy, signModel, type Policy } from '@model-signing/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accuracyCard } from '../../../test-fixtures/model-card.mjs';
import {
  REFUSALS,
  policyParties,
  scenarioPolicies,
  scenarioSignatures,
  type ScenarioFiles,
} from '../../../test-fixtures/policy-scenarios.mjs';
import { downloadVerifiedModel, verifyCachedModel, verifyHubRepo } from '../src/index.js';
import { FakeHub } from '../src/testing.js';
import { TOKEN, expectCode, removeTempDirs, tempDir, writeModel } from './helpers.js';

const parties = policyParties();
let hub: FakeHub;
let work: string;
let gate: Policy;
let twoOfTwo: Policy;

const connection = () => ({ hubUrl: hub.url, accessToken: TOKEN });

async function policyFile(name: string, text: string): Promise<Policy> {
  const file = path.join(work, name);
  await fs.writeFile(file, text);
  return loadPolicy(file);
}

beforeAll(async () => {
  hub = await FakeHub.start({ token: TOKEN });
  work = await tempDir('policy-hub');
  const modelDir = path.join(work, 'model');
  const model = await writeModel(modelDir);
  const signatures = await scenarioSignatures({ core: { signModel, attest, KeySigner }, parties, modelDir, work });
  const push = (repo: string, files: ScenarioFiles) => {
    hub.createRepo(repo);
    hub.pushCommit(repo, { put: { ...model, ...files } });
  };
  for (const [name, files] of Object.entries(signatures)) push(`org/${name}`, files);
  push('else/accepted', signatures.accepted);
  const policies = scenarioPolicies(parties, { huggingface: 'org/*' });
  gate = await policyFile('gate.json', policies.gate);
  twoOfTwo = await policyFile('two-of-two.json', policies.twoOfTwo);
});
afterAll(async () => {
  await hub.close();
  await removeTempDirs();
});

describe('downloadVerifiedModel({ policy })', () => {
  it("downloads a repo signed by the publisher with the evaluator's claim, returning the claim, and keeps claims.jsonl for the cached check", async () => {
    const cacheDir = await tempDir('policy-cache');
    const result = await downloadVerifiedModel({ ...connection(), repo: 'org/accepted', policy: gate, cacheDir });
    expect(result.policy?.decision).toMatchObject({
      allowed: true,
      model: { kind: 'huggingface', repo: 'org/accepted', revision: 'main' },
    });
    expect(result.policy?.signers.map((s) => s.authority)).toEqual(['publisher']);
    expect(result.claims).toEqual([
      expect.objectContaining({
        requirement: 'evaluation',
        authority: 'evaluator',
        file: 'claims.jsonl',
        line: 1,
        predicate: accuracyCard(0.93),
      }),
    ]);
    expect(await fs.readFile(path.join(result.snapshotPath, 'claims.jsonl'))).toEqual(hub.files('org/accepted').get('claims.jsonl')!.data);

    const cached = await verifyCachedModel({ repo: 'org/accepted', policy: gate, cacheDir });
    expect(cached.policy?.decision.allowed).toBe(true);
    expect(cached.claims.map((c) => c.requirement)).toEqual(['evaluation']);
    // The cached check matches the repo, not the cache folder: a policy for other repos refuses it.
    const elsewhere = await policyFile('elsewhere.json', scenarioPolicies(parties, { huggingface: 'someone/*' }).gate);
    expect((await expectCode(verifyCachedModel({ repo: 'org/accepted', policy: elsewhere, cacheDir }), 'POLICY_DENIED')).message).toMatch(
      REFUSALS.unmatched,
    );
  });

  const refusals: [string, string, () => Policy, RegExp][] = [
    ['the claim is removed', 'org/noClaim', () => gate, REFUSALS.noClaim],
    ['the score is below the threshold', 'org/belowThreshold', () => gate, REFUSALS.belowThreshold],
    ['another key signed', 'org/otherKey', () => gate, REFUSALS.otherKey],
    ['1 of 2 signed where 2 of 2 are required', 'org/accepted', () => twoOfTwo, REFUSALS.oneOfTwo],
    ['no rule matches the repo', 'else/accepted', () => gate, REFUSALS.unmatched],
  ];
  for (const [what, repo, policy, refusal] of refusals) {
    it(`refuses when ${what}, naming the rule and the requirement, and writes nothing`, async () => {
      const cacheDir = await tempDir('policy-cache');
      hub.resetCounters();
      const error = await expectCode(downloadVerifiedModel({ ...connection(), repo, policy: policy(), cacheDir }), 'POLICY_DENIED');
      expect(error.message).toMatch(refusal);
      expect((error as { decision?: { allowed: boolean } }).decision?.allowed).toBe(false);
      expect(hub.bytesServed(repo, 'model.safetensors')).toBe(0);
      expect(await fs.readdir(cacheDir)).toEqual([]);
    });
  }

  it('takes a verifier or a policy, not both', async () => {
    const { KeyVerifier } = await import('@model-signing/core');
    const verifier = await KeyVerifier.create({ publicKey: parties.publisher.publicKey });
    await expectCode(downloadVerifiedModel({ ...connection(), repo: 'org/accepted', policy: gate, verifier }), 'INVALID_ARGUMENT');
  });
});

describe('verifyHubRepo({ policy })', () => {
  it('accepts the evaluated repo with its claim, and refuses the one below the threshold', async () => {
    const result = await verifyHubRepo({ ...connection(), repo: 'org/accepted', policy: gate });
    expect(result.bytesChecked).toBe(true);
    expect(result.claims.map((c) => [c.requirement, c.authority])).toEqual([['evaluation', 'evaluator']]);
    const error = await expectCode(verifyHubRepo({ ...connection(), repo: 'org/belowThreshold', policy: gate }), 'POLICY_DENIED');
    expect(error.message).toMatch(REFUSALS.belowThreshold);
  });

  it('matches a rule pinned to a revision only at that revision', async () => {
    const commit = hub.head('org/accepted');
    const pinned = await policyFile('pinned.json', scenarioPolicies(parties, { huggingface: 'org/accepted', revision: commit }).gate);
    expect(
      (await verifyHubRepo({ ...connection(), repo: 'org/accepted', revision: commit, policy: pinned, hashFiles: 'none' })).commit,
    ).toBe(commit);
    const error = await expectCode(
      verifyHubRepo({ ...connection(), repo: 'org/accepted', policy: pinned, hashFiles: 'none' }),
      'POLICY_DENIED',
    );
    expect(error.message).toMatch(/no rule matches Hugging Face repo org\/accepted at revision main/);
  });
});
