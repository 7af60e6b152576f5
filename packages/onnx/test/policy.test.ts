// createVerifiedSession under a trust policy, with real onnxruntime: a model
// folder signed by the publisher with the evaluator's claim beside it runs;
// every refusal names the rule and the requirement, and no session is made.
import fs from 'node:fs/promises';
import path from 'node:path';
import { KeySigner, KeyVerifier, attest, loadPolicy, signModel, type Policy } from '@model-signing/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectCode } from '../../../test-fixtures/fixtures.mjs';
import { accuracyCard } from '../../../test-fixtures/model-card.mjs';
import { REFUSALS, policyParties, scenarioPolicies, scenarioSignatures } from '../../../test-fixtures/policy-scenarios.mjs';
import { createVerifiedSession, type VerifiedOnnxModel } from '../src/index.js';
import { EXPECTED, buildModel, runModel, tempDir } from './fixtures.js';

const parties = policyParties();
let work: string;
/** A folder per scenario: the model, its model.sig and, when there is a claim, claims.jsonl. */
const folders: Record<string, string> = {};
let gate: Policy;
let twoOfTwo: Policy;

beforeAll(async () => {
  work = await fs.realpath(await tempDir('onnx-policy-'));
  const modelDir = path.join(work, 'source');
  await fs.mkdir(modelDir);
  await fs.writeFile(path.join(modelDir, 'model.onnx'), buildModel());
  const signatures = await scenarioSignatures({ core: { signModel, attest, KeySigner }, parties, modelDir, work });
  for (const [name, files] of Object.entries(signatures)) {
    const dir = path.join(work, 'models', name);
    await fs.cp(modelDir, dir, { recursive: true });
    for (const [file, bytes] of Object.entries(files)) await fs.writeFile(path.join(dir, file), bytes);
    folders[name] = dir;
  }
  const policies = scenarioPolicies(parties, { path: `${work}/models/**` });
  await fs.writeFile(path.join(work, 'gate.json'), policies.gate);
  await fs.writeFile(path.join(work, 'two-of-two.json'), policies.twoOfTwo);
  gate = await loadPolicy(path.join(work, 'gate.json'));
  twoOfTwo = await loadPolicy(path.join(work, 'two-of-two.json'));
});
afterAll(() => fs.rm(work, { recursive: true, force: true }));

describe('createVerifiedSession({ policy })', () => {
  it("runs the model signed by the publisher with the evaluator's claim, reporting the claim and the decision", async () => {
    let verified: VerifiedOnnxModel | undefined;
    const session = await createVerifiedSession({ modelPath: folders['accepted'], policy: gate, onVerified: (m) => void (verified = m) });
    expect(await runModel(session)).toEqual(EXPECTED);
    expect(verified?.policy?.decision).toMatchObject({ allowed: true, model: { kind: 'path', path: folders['accepted'] } });
    expect(verified?.claims).toEqual([
      expect.objectContaining({ requirement: 'evaluation', authority: 'evaluator', predicate: accuracyCard(0.93) }),
    ]);
  });

  const refusals: [string, string, () => Policy, RegExp][] = [
    ['the claim is removed', 'noClaim', () => gate, REFUSALS.noClaim],
    ['the score is below the threshold', 'belowThreshold', () => gate, REFUSALS.belowThreshold],
    ['another key signed', 'otherKey', () => gate, REFUSALS.otherKey],
    ['1 of 2 signed where 2 of 2 are required', 'accepted', () => twoOfTwo, REFUSALS.oneOfTwo],
  ];
  for (const [what, folder, policy, refusal] of refusals) {
    it(`refuses when ${what}, naming the rule and the requirement`, async () => {
      let called = false;
      const error = await expectCode(
        createVerifiedSession({ modelPath: folders[folder], policy: policy(), onVerified: () => void (called = true) }),
        'POLICY_DENIED',
      );
      expect(error.message).toMatch(refusal);
      expect(called).toBe(false);
    });
  }

  it('refuses a model no rule matches: its real path, or the identity given', async () => {
    const elsewhere = path.join(work, 'elsewhere');
    await fs.cp(folders['accepted'], elsewhere, { recursive: true });
    expect((await expectCode(createVerifiedSession({ modelPath: elsewhere, policy: gate }), 'POLICY_DENIED')).message).toMatch(
      REFUSALS.unmatched,
    );
    // A link into the matched folder is judged by where it leads.
    const link = path.join(work, 'link');
    await fs.symlink(folders['accepted'], link);
    expect(await runModel(await createVerifiedSession({ modelPath: link, policy: gate, allowSymlinks: true }))).toEqual(EXPECTED);
    const model = { kind: 'huggingface' as const, repo: 'someone/model', revision: 'main' };
    expect(
      (await expectCode(createVerifiedSession({ modelPath: folders['accepted'], policy: gate, model }), 'POLICY_DENIED')).message,
    ).toMatch(REFUSALS.unmatched);
  });

  it("with a verifier, reports the signer's own claims only", async () => {
    const verifier = await KeyVerifier.create({ publicKey: parties.publisher.publicKey });
    let verified: VerifiedOnnxModel | undefined;
    await createVerifiedSession({ modelPath: folders['accepted'], verifier, onVerified: (m) => void (verified = m) });
    expect(verified?.claims).toEqual([]);
    expect(verified?.policy).toBeUndefined();
    await expectCode(createVerifiedSession({ modelPath: folders['accepted'], verifier, policy: gate }), 'INVALID_ARGUMENT');
  });
});
