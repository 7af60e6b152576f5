// createVerifiedSession under a trust policy, with real onnxruntime: a model
// folder signed by the publisher with the evaluator's claim beside it runs;
// every refusal names the rule and the requirement, and no session is made.
import fs from 'node:fs/promises';
import path from 'node:path';
import { KeySigner, KeyVerifier, attest, loadPolicy, signModel, type Policy } from '@model-signing/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectCode } from '../../../test-fixtures/fixtures.mjs';
import { accuracyCard } from '../../../test-fixtures/model-card.mjs';
import { REFUSALS, REFUSAL_CASES, policyParties, scenarioFolders } from '../../../test-fixtures/policy-scenarios.mjs';
import { createVerifiedSession, type VerifiedOnnxModel } from '../src/index.js';
import { EXPECTED, buildModel, runModel, tempDir } from './fixtures.js';

const parties = policyParties();
let work: string;
/** A folder per scenario: the model, its model.sig and, when there is a claim, claims.jsonl. */
let folders: Record<string, string>;
let policies: Record<'gate' | 'twoOfTwo', Policy>;

beforeAll(async () => {
  work = await fs.realpath(await tempDir('onnx-policy-'));
  const scenarios = await scenarioFolders({
    core: { signModel, attest, KeySigner, loadPolicy },
    parties,
    work,
    writeModel: (dir) => fs.writeFile(path.join(dir, 'model.onnx'), buildModel()),
  });
  folders = scenarios.folders;
  policies = { gate: scenarios.gate, twoOfTwo: scenarios.twoOfTwo };
});
afterAll(() => fs.rm(work, { recursive: true, force: true }));

describe('createVerifiedSession({ policy })', () => {
  it("runs the model signed by the publisher with the evaluator's claim, reporting the claim and the decision", async () => {
    let verified: VerifiedOnnxModel | undefined;
    const session = await createVerifiedSession({
      modelPath: folders['accepted'],
      policy: policies.gate,
      onVerified: (m) => void (verified = m),
    });
    expect(await runModel(session)).toEqual(EXPECTED);
    expect(verified?.policy?.decision).toMatchObject({ allowed: true, model: { kind: 'path', path: folders['accepted'] } });
    expect(verified?.claims).toEqual([
      expect.objectContaining({ requirement: 'evaluation', authority: 'evaluator', predicate: accuracyCard(0.93) }),
    ]);
  });

  for (const [what, folder, policy, refusal] of REFUSAL_CASES) {
    it(`refuses when ${what}, naming the rule and the requirement`, async () => {
      let called = false;
      const error = await expectCode(
        createVerifiedSession({ modelPath: folders[folder], policy: policies[policy], onVerified: () => void (called = true) }),
        'POLICY_DENIED',
      );
      expect(error.message).toMatch(refusal);
      expect(called).toBe(false);
    });
  }

  it('refuses a model no rule matches: its real path, or the identity given', async () => {
    const elsewhere = path.join(work, 'elsewhere');
    await fs.cp(folders['accepted'], elsewhere, { recursive: true });
    expect((await expectCode(createVerifiedSession({ modelPath: elsewhere, policy: policies.gate }), 'POLICY_DENIED')).message).toMatch(
      REFUSALS.unmatched,
    );
    // A link into the matched folder is judged by where it leads.
    const link = path.join(work, 'link');
    await fs.symlink(folders['accepted'], link);
    expect(await runModel(await createVerifiedSession({ modelPath: link, policy: policies.gate, allowSymlinks: true }))).toEqual(EXPECTED);
    const model = { kind: 'huggingface' as const, repo: 'someone/model', revision: 'main' };
    expect(
      (await expectCode(createVerifiedSession({ modelPath: folders['accepted'], policy: policies.gate, model }), 'POLICY_DENIED')).message,
    ).toMatch(REFUSALS.unmatched);
  });

  it("with a verifier, reports the signer's own claims only", async () => {
    const verifier = await KeyVerifier.create({ publicKey: parties.publisher.publicKey });
    let verified: VerifiedOnnxModel | undefined;
    await createVerifiedSession({ modelPath: folders['accepted'], verifier, onVerified: (m) => void (verified = m) });
    expect(verified?.claims).toEqual([]);
    expect(verified?.policy).toBeUndefined();
    await expectCode(createVerifiedSession({ modelPath: folders['accepted'], verifier, policy: policies.gate }), 'INVALID_ARGUMENT');
  });
});
