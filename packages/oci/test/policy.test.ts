// A trust policy over a real OCI registry (go-containerregistry's, on
// loopback, the model pushed by the real ORAS CLI): the verified pull, the
// remote check and the manifest check take one policy in place of a
// verifier; its `oci` rules match the reference (registry/repository, tag,
// digest); the evaluator's claim counts from the claims file beside the
// signature file (or given), the signers from the signatures stored in the
// registry. Each refusal names the rule and the requirement, before a layer
// is fetched, and the pull leaves nothing on disk.
import fs from 'node:fs/promises';
import path from 'node:path';
import { KeySigner, KeyVerifier, attest, loadPolicy, signModel, type Policy } from '@model-signing/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accuracyCard } from '../../../test-fixtures/model-card.mjs';
import { oras, startRegistry, type RunningRegistry } from '../../../test-fixtures/oci-registry.mjs';
import { REFUSALS, policyParties, scenarioPolicies, scenarioSignatures } from '../../../test-fixtures/policy-scenarios.mjs';
import { pullVerifiedModel, signOciManifest, verifyOciManifest, verifyOciModel } from '../src/index.js';
import { countingFetch, expectCode, listTree, orasPush, removeTempDirs, tempDir } from './helpers.js';

const parties = policyParties();
/** Anonymous registries on loopback: no credentials are read, from anywhere. */
const LOOPBACK = { plainHttp: true, dockerConfig: false } as const;

let registry: RunningRegistry;
let work: string;
let gate: Policy;
let twoOfTwo: Policy;
/** Where each scenario's signature files are: `model.sig`, and `claims.jsonl` beside it when it has a claim. */
let signatureDir: (scenario: string) => string;
/** The manifest's digest of `org/model:v1` (and of `else/model:v1`, the same model). */
let manifestDigest: string;
let layerDigests: string[];

const reference = (repository: string) => `oci://${registry.host}/${repository}`;

async function policyFile(name: string, text: string): Promise<Policy> {
  const file = path.join(work, name);
  await fs.writeFile(file, text);
  return loadPolicy(file);
}

beforeAll(async () => {
  work = await tempDir('policy');
  registry = await startRegistry({ dir: work, referrers: true });
  const files = { 'model.safetensors': new Uint8Array(50_000).fill(7), 'config.json': '{"hidden_size": 8}' };
  const modelDir = await orasPush(registry.host, 'org/model:v1', files, work);
  // The same model under a repository no rule names, and under two tags that hold the signers' signatures.
  for (const repo of ['else/model:v1', 'org/two-signers:v1', 'org/one-signer:v1']) {
    await oras(['push', '--plain-http', `${registry.host}/${repo}`, ...Object.keys(files)], { cwd: modelDir });
  }
  await scenarioSignatures({ core: { signModel, attest, KeySigner }, parties, modelDir, work });
  signatureDir = (scenario) => path.join(work, `signatures-${scenario}`);
  const store = async (repo: string, signer: 'publisher' | 'releaser') =>
    signOciManifest({
      reference: reference(repo),
      signer: await KeySigner.create({ privateKey: parties[signer].privateKey }),
      ...LOOPBACK,
    });
  const signed = await store('org/two-signers:v1', 'publisher');
  await store('org/two-signers:v1', 'releaser');
  await store('org/one-signer:v1', 'publisher');
  manifestDigest = signed.subject.digest;
  layerDigests = signed.files.map((f) => f.descriptor.digest);
  const policies = scenarioPolicies(parties, { oci: `${registry.host}/org/*` });
  gate = await policyFile('gate.json', policies.gate);
  twoOfTwo = await policyFile('two-of-two.json', policies.twoOfTwo);
});

afterAll(async () => {
  await registry?.stop();
  await removeTempDirs();
});

describe('pullVerifiedModel({ policy })', () => {
  it("pulls a model signed by the publisher with the evaluator's claim beside the signature, returning the decision and the claim", async () => {
    const output = path.join(await tempDir('accepted'), 'out');
    const result = await pullVerifiedModel({
      reference: reference('org/model:v1'),
      policy: gate,
      signaturePath: path.join(signatureDir('accepted'), 'model.sig'),
      outputDir: output,
      ...LOOPBACK,
    });
    expect(result.policy?.decision).toMatchObject({
      allowed: true,
      rule: expect.objectContaining({ name: 'evaluated models' }),
      model: { kind: 'oci', reference: `${registry.host}/org/model:v1@${manifestDigest}` },
    });
    expect(result.policy?.signers.map((s) => s.authority)).toEqual(['publisher']);
    expect(result.claims).toEqual([
      expect.objectContaining({
        requirement: 'evaluation',
        authority: 'evaluator',
        file: path.join(signatureDir('accepted'), 'claims.jsonl'),
        line: 1,
        predicate: accuracyCard(0.93),
      }),
    ]);
    expect(await listTree(output)).toEqual(['config.json', 'model.safetensors', 'model.sig']);
  });

  it('counts the signatures stored in the registry as distinct signers: 2 of 2 stored is allowed, with the claims file given', async () => {
    const result = await verifyOciModel({
      reference: reference('org/two-signers:v1'),
      policy: twoOfTwo,
      claimsPath: path.join(signatureDir('accepted'), 'claims.jsonl'),
      ...LOOPBACK,
    });
    expect(result.policy?.decision.allowed).toBe(true);
    expect(result.policy?.signers.map((s) => s.authority).sort()).toEqual(['publisher', 'releaser']);
    expect(result.claims.map((c) => c.requirement)).toEqual(['evaluation']);
    expect(result.files).toEqual(['config.json', 'model.safetensors']);
  });

  it("matches a rule's tag and digest against the reference as addressed and pinned", async () => {
    const rule = (match: Record<string, string>) =>
      policyFile(`pinned-${Object.keys(match).join('-')}.json`, scenarioPolicies(parties, match).gate);
    const params = { signaturePath: path.join(signatureDir('accepted'), 'model.sig'), ...LOOPBACK };
    // Addressed by tag, the manifest read is pinned by its digest: a rule pinning the digest selects it.
    const byDigest = await rule({ oci: `${registry.host}/org/model`, digest: manifestDigest });
    expect((await verifyOciModel({ reference: reference('org/model:v1'), policy: byDigest, ...params })).policy?.decision.allowed).toBe(
      true,
    );
    const otherTag = await rule({ oci: `${registry.host}/org/model`, tag: 'v2' });
    const error = await expectCode(
      () => verifyOciModel({ reference: reference('org/model:v1'), policy: otherTag, ...params }),
      'POLICY_DENIED',
    );
    expect(error.message).toMatch(REFUSALS.unmatched);
  });

  const refusals: [string, string, () => Policy, { signaturePath?: string; claimsPath?: string }, RegExp][] = [
    ['the claim is removed', 'org/model:v1', () => gate, { signaturePath: 'noClaim' }, REFUSALS.noClaim],
    ['the score is below the threshold', 'org/model:v1', () => gate, { signaturePath: 'belowThreshold' }, REFUSALS.belowThreshold],
    ['another key signed', 'org/model:v1', () => gate, { signaturePath: 'otherKey' }, REFUSALS.otherKey],
    [
      '1 of 2 signed where 2 of 2 are required (a signature file)',
      'org/model:v1',
      () => twoOfTwo,
      { signaturePath: 'accepted' },
      REFUSALS.oneOfTwo,
    ],
    [
      '1 of 2 stored in the registry where 2 of 2 are required',
      'org/one-signer:v1',
      () => twoOfTwo,
      { claimsPath: 'accepted' },
      REFUSALS.oneOfTwo,
    ],
    ['no rule matches the reference', 'else/model:v1', () => gate, { signaturePath: 'accepted' }, REFUSALS.unmatched],
  ];
  for (const [what, repo, policy, given, refusal] of refusals) {
    it(`refuses when ${what}, naming the rule and the requirement, before a layer is fetched; the pull writes nothing`, async () => {
      const output = path.join(await tempDir('refused'), 'out');
      const counting = countingFetch(layerDigests);
      const error = await expectCode(
        () =>
          pullVerifiedModel({
            reference: reference(repo),
            policy: policy(),
            ...(given.signaturePath !== undefined ? { signaturePath: path.join(signatureDir(given.signaturePath), 'model.sig') } : {}),
            ...(given.claimsPath !== undefined ? { claimsPath: path.join(signatureDir(given.claimsPath), 'claims.jsonl') } : {}),
            outputDir: output,
            ...LOOPBACK,
            fetch: counting.fetch,
          }),
        'POLICY_DENIED',
      );
      expect(error.message).toMatch(refusal);
      expect((error as { decision?: { allowed: boolean } }).decision?.allowed).toBe(false);
      expect(counting.layersFetched()).toBe(0);
      await expect(fs.stat(output)).rejects.toThrow();
    });
  }

  it('takes a verifier or a policy: both, or neither, is INVALID_ARGUMENT before anything is fetched or written', async () => {
    const verifier = await KeyVerifier.create({ publicKey: parties.publisher.publicKey });
    const signaturePath = path.join(signatureDir('accepted'), 'model.sig');
    for (const trust of [{ verifier, policy: gate }, {}]) {
      const output = path.join(await tempDir('both'), 'out');
      const counting = countingFetch(layerDigests);
      await expectCode(
        () =>
          pullVerifiedModel({
            reference: reference('org/model:v1'),
            ...trust,
            signaturePath,
            outputDir: output,
            ...LOOPBACK,
            fetch: counting.fetch,
          }),
        'INVALID_ARGUMENT',
      );
      expect(counting.layersFetched()).toBe(0);
      await expect(fs.stat(output)).rejects.toThrow();
      await expectCode(
        () => verifyOciModel({ reference: reference('org/model:v1'), ...trust, signaturePath, ...LOOPBACK }),
        'INVALID_ARGUMENT',
      );
    }
  });
});

describe('verifyOciManifest({ policy })', () => {
  let manifestPath: string;
  beforeAll(async () => {
    manifestPath = path.join(work, 'manifest.json');
    const { stdout } = await oras(['manifest', 'fetch', '--plain-http', `${registry.host}/org/model:v1`], { cwd: work });
    await fs.writeFile(manifestPath, stdout);
  });

  it('checks the manifest under the policy, matching the identity given; without one it is INVALID_ARGUMENT', async () => {
    const signaturePath = path.join(signatureDir('accepted'), 'model.sig');
    const model = { kind: 'oci', reference: `${registry.host}/org/model:v1` } as const;
    const result = await verifyOciManifest({ manifestPath, signaturePath, policy: gate, model });
    expect(result.policy?.decision).toMatchObject({ allowed: true, rule: { name: 'evaluated models' } });
    expect(result.claims.map((c) => c.requirement)).toEqual(['evaluation']);
    expect(result.subject.digest).toBe(manifestDigest);
    const error = await expectCode(
      () => verifyOciManifest({ manifestPath, signaturePath: path.join(signatureDir('belowThreshold'), 'model.sig'), policy: gate, model }),
      'POLICY_DENIED',
    );
    expect(error.message).toMatch(REFUSALS.belowThreshold);
    const unaddressed = await expectCode(() => verifyOciManifest({ manifestPath, signaturePath, policy: gate }), 'INVALID_ARGUMENT');
    expect(unaddressed.message).toContain('give the model option');
    const verifier = await KeyVerifier.create({ publicKey: parties.publisher.publicKey });
    await expectCode(() => verifyOciManifest({ manifestPath, signaturePath, policy: gate, model, verifier }), 'INVALID_ARGUMENT');
  });
});
