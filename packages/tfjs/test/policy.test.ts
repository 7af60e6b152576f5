// TF.js under a trust policy: a graph model signed by the publisher with the
// evaluator's claim beside it loads and computes; each refusal names the rule
// and the requirement, and no model is built.
import fs from 'node:fs/promises';
import path from 'node:path';
import { KeySigner, KeyVerifier, attest, loadPolicy, signModel, type Policy } from '@model-signing/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectCode } from '../../../test-fixtures/fixtures.mjs';
import { REFUSALS, REFUSAL_CASES, policyParties, scenarioFolders } from '../../../test-fixtures/policy-scenarios.mjs';
import { loadVerifiedArtifacts, verifiedLoadHandler } from '../src/index.js';
import { useTempDirs } from './helpers/dirs.js';
import { GRAPH_INPUT, GRAPH_OUTPUT, writeGraphModel } from './helpers/graph-model-fixture.js';
import { tf } from './helpers/tf.js';

const newDir = useTempDirs();
const parties = policyParties();
let work: string;
let folders: Record<string, string>;
let policies: Record<'gate' | 'twoOfTwo', Policy>;

beforeAll(async () => {
  work = await fs.realpath(await newDir());
  const scenarios = await scenarioFolders({
    core: { signModel, attest, KeySigner, loadPolicy },
    parties,
    work,
    writeModel: writeGraphModel,
  });
  folders = scenarios.folders;
  policies = { gate: scenarios.gate, twoOfTwo: scenarios.twoOfTwo };
});

describe('TF.js loaders with a policy', () => {
  it("load the graph model signed by the publisher with the evaluator's claim, returning the claim", async () => {
    const model = await tf.loadGraphModel(verifiedLoadHandler({ modelDir: folders['accepted'], policy: policies.gate }));
    expect(await (model.predict(tf.tensor2d(GRAPH_INPUT)) as tf.Tensor).array()).toEqual(GRAPH_OUTPUT);
    const loaded = await loadVerifiedArtifacts({ modelDir: folders['accepted'], policy: policies.gate });
    expect(loaded.policy?.decision).toMatchObject({ allowed: true, model: { kind: 'path', path: folders['accepted'] } });
    expect(loaded.claims.map((c) => [c.requirement, c.authority])).toEqual([['evaluation', 'evaluator']]);
  });

  for (const [what, folder, policy, refusal] of REFUSAL_CASES) {
    it(`refuse when ${what}, naming the rule and the requirement`, async () => {
      const error = await expectCode(
        tf.loadGraphModel(verifiedLoadHandler({ modelDir: folders[folder], policy: policies[policy] })),
        'POLICY_DENIED',
      );
      expect(error.message).toMatch(refusal);
    });
  }

  it('refuse a model no rule matches, and take a verifier or a policy, not both', async () => {
    const elsewhere = path.join(work, 'elsewhere');
    await fs.cp(folders['accepted'], elsewhere, { recursive: true });
    expect((await expectCode(loadVerifiedArtifacts({ modelDir: elsewhere, policy: policies.gate }), 'POLICY_DENIED')).message).toMatch(
      REFUSALS.unmatched,
    );
    const verifier = await KeyVerifier.create({ publicKey: parties.publisher.publicKey });
    await expectCode(loadVerifiedArtifacts({ modelDir: folders['accepted'], verifier, policy: policies.gate }), 'INVALID_ARGUMENT');
    expect((await loadVerifiedArtifacts({ modelDir: folders['accepted'], verifier })).claims).toEqual([]);
  });
});

describe('registerSignedScheme({ policy })', () => {
  it('loads through the scheme only what the policy accepts', async () => {
    const { registerSignedScheme } = await import('../src/index.js');
    const unregister = registerSignedScheme({ scheme: 'gated', policy: policies.gate });
    try {
      const model = await tf.loadGraphModel(`gated://${folders['accepted']}`);
      expect(await (model.predict(tf.tensor2d(GRAPH_INPUT)) as tf.Tensor).array()).toEqual(GRAPH_OUTPUT);
      const error = await expectCode(tf.loadGraphModel(`gated://${folders['belowThreshold']}`), 'POLICY_DENIED');
      expect(error.message).toMatch(REFUSALS.belowThreshold);
    } finally {
      unregister();
    }
  });
});
