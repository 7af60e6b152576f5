// Models in OCI registries through the CLI, against go-containerregistry's
// registry and the ORAS CLI on loopback: sign the manifest ORAS fetched and
// the oci:// reference (the signature stored in the registry), verify the
// folder ORAS pulled and the manifest file, the verified pull with --output,
// the refusals with their codes and exit statuses, the options that do
// not belong to the target named; `verify --policy` over oci://….
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { KeySigner, attest, signModel } from '@model-signing/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REFUSALS, policyParties, scenarioPolicies, scenarioSignatures } from '../../../test-fixtures/policy-scenarios.mjs';
import { oras, startRegistry, startTokenService, writeDockerConfig, type RunningRegistry } from '../../../test-fixtures/oci-registry.mjs';
import { cleanupTempDirs, ours, tempDir, writeKeyPair } from './helpers.js';

let work: string;
let registry: RunningRegistry;
let keys: { privateKey: string; publicKey: string };
const savedDockerConfig = process.env['DOCKER_CONFIG'];

const MODEL = { 'model.safetensors': randomBytes(200_000), 'config.json': '{"hidden_size": 8}', 'tokenizer/vocab.txt': 'hello\n' };

async function push(reference: string, files: Record<string, string | Uint8Array>): Promise<void> {
  const dir = await fs.mkdtemp(path.join(work, 'push-'));
  for (const [name, data] of Object.entries(files)) {
    await fs.mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await fs.writeFile(path.join(dir, name), data);
  }
  await oras(['push', '--plain-http', `${registry.host}/${reference}`, ...Object.keys(files)], { cwd: dir });
}

beforeAll(async () => {
  work = await tempDir('oms-cli-oci-');
  // The CLI reads registry credentials from the Docker config only when a registry asks; never from the user's here.
  process.env['DOCKER_CONFIG'] = path.join(work, 'no-docker-config');
  [registry, keys] = await Promise.all([startRegistry({ dir: work }), writeKeyPair(work, 'P-256')]);
  await push('m/tiny:v1', MODEL);
});

afterAll(async () => {
  if (savedDockerConfig === undefined) delete process.env['DOCKER_CONFIG'];
  else process.env['DOCKER_CONFIG'] = savedDockerConfig;
  await registry?.stop();
  await cleanupTempDirs();
});

describe('sign and verify models in a registry', () => {
  it('signs the manifest ORAS fetched (none of its layers), and the signature verifies the folder ORAS pulls and the manifest', async () => {
    const dir = await tempDir('oms-cli-oci-manifest-');
    const { stdout: manifest } = await oras(['manifest', 'fetch', '--plain-http', `${registry.host}/m/tiny:v1`], { cwd: dir });
    await fs.writeFile(path.join(dir, 'oci-manifest.json'), manifest);
    const signed = await ours(['sign', 'key', 'oci-manifest.json', '--private-key', keys.privateKey, '--signature', 'tiny.sig'], dir);
    expect(signed.code, signed.stderr).toBe(0);
    expect(signed.stdout).toMatch(
      /^Signing succeeded: wrote tiny\.sig for the OCI manifest oci-manifest\.json \(sha256:\w{64}\): 3 layers, \d+ bytes, none downloaded/,
    );

    await fs.mkdir(path.join(dir, 'pulled'));
    await oras(['pull', '--plain-http', `${registry.host}/m/tiny:v1`], { cwd: path.join(dir, 'pulled') });
    const verified = await ours(['verify', 'key', 'pulled', '--signature', 'tiny.sig', '--public-key', keys.publicKey], dir);
    expect(verified.code, verified.stderr).toBe(0);
    const checked = await ours(
      ['verify', 'key', 'oci-manifest.json', '--signature', 'tiny.sig', '--public-key', keys.publicKey, '--json'],
      dir,
    );
    expect(checked.code, checked.stderr).toBe(0);
    expect(JSON.parse(checked.stdout)).toMatchObject({
      ok: true,
      model: 'oci-manifest',
      files: ['config.json', 'model.safetensors', 'tokenizer/vocab.txt'],
    });

    // --no-oci-manifest: the file is a model file like any other.
    const asFile = await ours(
      ['sign', 'key', 'oci-manifest.json', '--no-oci-manifest', '--private-key', keys.privateKey, '--signature', 'file.sig', '--json'],
      dir,
    );
    expect(JSON.parse(asFile.stdout)).toMatchObject({ ok: true, resources: 1 });
  });

  it('signs oci://… (stored in the registry) and pulls it verified with --output; without --output nothing is kept', async () => {
    const dir = await tempDir('oms-cli-oci-ref-');
    const reference = `oci://${registry.host}/m/tiny:v1`;
    const signed = await ours(['sign', 'key', reference, '--private-key', keys.privateKey, '--plain-http', '--json'], dir);
    expect(signed.code, signed.stderr).toBe(0);
    const json = JSON.parse(signed.stdout) as {
      signature: string;
      model: string;
      oci: { reference: string; pushed: { digest: string; referrersApi: boolean; fallbackTag: string } };
    };
    expect(json).toMatchObject({ ok: true, signature: 'model.sig', model: 'tiny', oci: { pushed: { referrersApi: false } } });
    expect(json.oci.reference).toMatch(new RegExp(`^oci://${registry.host}/m/tiny:v1@sha256:\\w{64}$`));

    const pulled = await ours(['verify', 'key', reference, '--public-key', keys.publicKey, '--plain-http', '--output', 'out'], dir);
    expect(pulled.code, pulled.stderr).toBe(0);
    expect(pulled.stdout).toContain(
      `Verification succeeded: ${json.oci.reference}: 3 files, each hashed as it arrived; signature from the registry (${json.oci.pushed.digest}`,
    );
    expect(pulled.stdout).toContain('pulled into out (signature: out/model.sig)');
    expect((await fs.readdir(path.join(dir, 'out'))).sort()).toEqual(['config.json', 'model.safetensors', 'model.sig', 'tokenizer']);
    const again = await ours(['verify', 'key', 'out', '--signature', 'out/model.sig', '--public-key', keys.publicKey], dir);
    expect(again.code, again.stderr).toBe(0);

    const streamed = await ours(['verify', 'key', reference, '--public-key', keys.publicKey, '--plain-http'], dir);
    expect(streamed.code, streamed.stderr).toBe(0);
    expect(streamed.stdout).toContain('nothing was kept (--output DIR keeps the verified files)');
    expect((await fs.readdir(dir)).sort()).toEqual(['model.sig', 'out']);
  });

  it('refuses a tampered model (exit 1, its code) and leaves no output; a registry that is not there; a private one without credentials', async () => {
    const dir = await tempDir('oms-cli-oci-bad-');
    const reference = `oci://${registry.host}/m/victim:v1`;
    await push('m/victim:v1', MODEL);
    const signed = await ours(
      ['sign', 'key', reference, '--private-key', keys.privateKey, '--plain-http', '--signature', 'victim.sig'],
      dir,
    );
    expect(signed.code, signed.stderr).toBe(0);
    // The signed model, refused as a whole: a signature over --max-bundle-size, another key.
    const verify = (...args: string[]) => ours(['verify', 'key', reference, '--plain-http', ...args], dir);
    const tooLarge = await verify('--public-key', keys.publicKey, '--max-bundle-size', '100');
    expect(tooLarge.code).toBe(1);
    expect(tooLarge.stderr).toContain('[BUNDLE_TOO_LARGE]');
    await fs.mkdir(path.join(dir, 'other'));
    const other = await writeKeyPair(path.join(dir, 'other'), 'P-256');
    const wrongKey = await verify('--public-key', other.publicKey);
    expect(wrongKey.code).toBe(1);
    expect(wrongKey.stderr).toContain('[KEY_MISMATCH]');
    // Another signature pushed as a layer is left out (the session's attestation-file rule), or with --no-ignore-att-paths unsigned.
    await push('m/victim:v1', { ...MODEL, 'extra.sig': 'x' });
    const beside = await verify('--public-key', keys.publicKey, '--signature', 'victim.sig');
    expect(beside.code, beside.stderr).toBe(0);
    expect(beside.stdout).toContain('not checked: extra.sig');
    const strict = await verify('--public-key', keys.publicKey, '--signature', 'victim.sig', '--no-ignore-att-paths');
    expect(strict.code).toBe(1);
    expect(strict.stderr).toContain('[UNSIGNED_FILE]');
    await push('m/victim:v1', { ...MODEL, 'config.json': '{"hidden_size": 9}' });
    const tampered = await ours(
      ['verify', 'key', reference, '--public-key', keys.publicKey, '--plain-http', '--signature', 'victim.sig', '--output', 'out'],
      dir,
    );
    expect(tampered.code).toBe(1);
    expect(tampered.stderr).toMatch(/^Verification failed \[DIGEST_MISMATCH\]: .*config\.json.*nothing was left in out\n$/);
    await expect(fs.stat(path.join(dir, 'out'))).rejects.toThrow();
    const unsigned = await ours(['verify', 'key', reference, '--public-key', keys.publicKey, '--plain-http', '--json'], dir);
    expect(JSON.parse(unsigned.stdout)).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });

    const gone = await ours(['verify', 'key', 'oci://127.0.0.1:9/m/tiny:v1', '--public-key', keys.publicKey, '--plain-http'], dir);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain('[NETWORK_ERROR]');

    const tokens = await startTokenService({ registryHost: registry.host, username: 'bob', password: 'pw' });
    try {
      const privateRef = `oci://${tokens.host}/m/tiny:v1`;
      const denied = await ours(['verify', 'key', privateRef, '--public-key', keys.publicKey, '--plain-http'], dir);
      expect(denied.code).toBe(1);
      expect(denied.stderr).toContain('[ACCESS_DENIED]');
      const config = writeDockerConfig(path.join(dir, 'docker'), tokens.host, 'bob', 'pw');
      const allowed = await ours(
        ['verify', 'key', privateRef, '--public-key', keys.publicKey, '--plain-http', '--registry-config', config],
        dir,
      );
      expect(allowed.code, allowed.stderr).toBe(0);
    } finally {
      await tokens.stop();
    }
  });

  it('refuses options that do not belong to the model named (exit 2)', async () => {
    const dir = await tempDir('oms-cli-oci-usage-');
    await fs.mkdir(path.join(dir, 'folder'));
    await fs.writeFile(path.join(dir, 'folder', 'w.bin'), 'w');
    const reference = `oci://${registry.host}/m/tiny:v1`;
    const cases: [string[], string][] = [
      [
        ['sign', 'key', reference, '--private-key', keys.privateKey, '--plain-http', '--hash', 'blake2b'],
        '--hash does not apply to an OCI manifest',
      ],
      [
        ['sign', 'key', reference, '--private-key', keys.privateKey, '--plain-http', '--method', 'shards'],
        '--method does not apply to an OCI manifest',
      ],
      [
        ['sign', 'key', 'folder', '--private-key', keys.privateKey, '--include-config'],
        '--include-config applies only to OCI manifests and oci://… references',
      ],
      [['verify', 'key', 'folder', '--public-key', keys.publicKey, '--output', 'x'], '--output applies only to oci://… references'],
      [
        ['verify', 'key', reference, '--public-key', keys.publicKey, '--plain-http', '--trust-cache'],
        '--trust-cache applies to a model on disk',
      ],
      [
        ['verify', 'key', reference, '--public-key', keys.publicKey, '--plain-http', '--no-ignore-git-paths'],
        '--no-ignore-git-paths applies to a model on disk',
      ],
      [
        ['verify', 'key', reference, '--public-key', keys.publicKey, '--plain-http', '--ignore-git-paths'],
        ': --ignore-git-paths applies to a model on disk',
      ],
    ];
    for (const [args, message] of cases) {
      const result = await ours(args, dir);
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).toContain(message);
    }
    const help = await ours(['verify', 'key', '--help']);
    for (const flag of ['--output <dir>', '--plain-http', '--registry-config <path>', '--oci-manifest'])
      expect(help.stdout).toContain(flag);
  });
});

// `verify --policy POLICY oci://…`: the policy in place of the method, its rules matched on the reference.
describe('model-signing verify --policy oci://…', () => {
  const parties = policyParties();
  let policyDir: string;
  let gate: string;
  let twoOfTwo: string;
  const signature = (scenario: string) => path.join(policyDir, `signatures-${scenario}`, 'model.sig');
  const reference = (repo: string) => `oci://${registry.host}/${repo}`;

  beforeAll(async () => {
    policyDir = await tempDir('oms-cli-oci-policy-');
    const model = { 'model.safetensors': randomBytes(20_000), 'config.json': '{"labels": 2}' };
    const modelDir = path.join(policyDir, 'model');
    await fs.mkdir(modelDir);
    for (const [name, data] of Object.entries(model)) await fs.writeFile(path.join(modelDir, name), data);
    for (const repo of ['org/gated:v1', 'org/stored:v1', 'someone/gated:v1']) {
      await oras(['push', '--plain-http', `${registry.host}/${repo}`, ...Object.keys(model)], { cwd: modelDir });
    }
    await scenarioSignatures({ core: { signModel, attest, KeySigner }, parties, modelDir, work: policyDir });
    // The publisher's signature stored in the registry, as `sign key oci://…` stores it.
    await fs.writeFile(path.join(policyDir, 'publisher.pem'), parties.publisher.privateKey);
    const stored = await ours(
      ['sign', 'key', reference('org/stored:v1'), '--private-key', 'publisher.pem', '--plain-http', '--signature', 'stored.sig'],
      policyDir,
    );
    expect(stored.code, stored.stderr).toBe(0);
    const policies = scenarioPolicies(parties, { oci: `${registry.host}/org/*` });
    gate = path.join(policyDir, 'gate.json');
    twoOfTwo = path.join(policyDir, 'two-of-two.json');
    await fs.writeFile(gate, policies.gate);
    await fs.writeFile(twoOfTwo, policies.twoOfTwo);
  });

  it("pulls a model with the publisher's signature and the evaluator's claim, printing the decision; --json gives it as data", async () => {
    const dir = await tempDir('oms-cli-oci-policy-ok-');
    const args = ['verify', '--policy', gate, reference('org/gated:v1'), '--signature', signature('accepted'), '--plain-http'];
    const pulled = await ours([...args, '--output', 'out'], dir);
    expect(pulled.code, pulled.stderr).toBe(0);
    expect(pulled.stdout).toMatch(
      new RegExp(`^Verification succeeded under policy ${gate}: oci://${registry.host}/org/gated:v1@sha256:\\w{64}: 2 files`),
    );
    expect(pulled.stdout).toMatch(/rule 'evaluated models'/);
    expect((await fs.readdir(path.join(dir, 'out'))).sort()).toEqual(['config.json', 'model.safetensors', 'model.sig']);

    const json = await ours([...args, '--json'], dir);
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({
      ok: true,
      decision: { allowed: true, rule: { name: 'evaluated models' }, model: { kind: 'oci' } },
      signers: [{ authority: 'publisher' }],
      claims: [{ requirement: 'evaluation', authority: 'evaluator' }],
      files: ['config.json', 'model.safetensors'],
    });

    // The signature stored in the registry, the claims given with --claims-file.
    const stored = await ours(
      [
        'verify',
        '--policy',
        gate,
        reference('org/stored:v1'),
        '--claims-file',
        path.join(path.dirname(signature('accepted')), 'claims.jsonl'),
        '--plain-http',
      ],
      dir,
    );
    expect(stored.code, stored.stderr).toBe(0);
    expect(stored.stdout).toContain('signature from the registry');
  });

  const refusals: [string, string, string, () => string, RegExp][] = [
    ['the claim is removed', 'org/gated:v1', 'noClaim', () => gate, REFUSALS.noClaim],
    ['the score is below the threshold', 'org/gated:v1', 'belowThreshold', () => gate, REFUSALS.belowThreshold],
    ['another key signed', 'org/gated:v1', 'otherKey', () => gate, REFUSALS.otherKey],
    ['1 of 2 signed where 2 of 2 are required', 'org/gated:v1', 'accepted', () => twoOfTwo, REFUSALS.oneOfTwo],
    ['no rule matches the reference', 'someone/gated:v1', 'accepted', () => gate, REFUSALS.unmatched],
  ];
  for (const [what, repo, scenario, policy, refusal] of refusals) {
    it(`refuses when ${what}: exit 1, the decision naming the rule and the requirement, nothing pulled`, async () => {
      const dir = await tempDir('oms-cli-oci-policy-no-');
      const args = ['verify', '--policy', policy(), reference(repo), '--signature', signature(scenario), '--plain-http', '--output', 'out'];
      const r = await ours(args, dir);
      expect(r.code, r.stdout + r.stderr).toBe(1);
      expect(r.stderr).toMatch(/^DENIED: /m);
      expect(r.stderr).toMatch(refusal);
      expect(r.stderr).toMatch(/^Verification failed \[POLICY_DENIED\]: /m);
      expect(await fs.readdir(dir)).toEqual([]);
      const json = await ours([...args, '--json'], dir);
      expect(json.code).toBe(1);
      expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, error: { code: 'POLICY_DENIED' }, decision: { allowed: false } });
      expect(JSON.parse(json.stdout).error.message).toMatch(refusal);
    });
  }

  it('checks an OCI manifest file under the policy, matched as the reference given with --oci', async () => {
    const dir = await tempDir('oms-cli-oci-policy-manifest-');
    const { stdout } = await oras(['manifest', 'fetch', '--plain-http', `${registry.host}/org/gated:v1`], { cwd: dir });
    await fs.writeFile(path.join(dir, 'manifest.json'), stdout);
    const as = (repo: string, scenario: string) =>
      ours(['verify', '--policy', gate, 'manifest.json', '--signature', signature(scenario), '--oci', `${registry.host}/${repo}`], dir);
    const allowed = await as('org/gated:v1', 'accepted');
    expect(allowed.code, allowed.stderr).toBe(0);
    expect(allowed.stdout).toMatch(/^Verification succeeded under policy .*: the OCI manifest manifest\.json/);
    const denied = await as('org/gated:v1', 'belowThreshold');
    expect(denied.code).toBe(1);
    expect(denied.stderr).toMatch(REFUSALS.belowThreshold);
    const unmatched = await as('someone/gated:v1', 'accepted');
    expect(unmatched.code).toBe(1);
    expect(unmatched.stderr).toMatch(REFUSALS.unmatched);
  });

  it('refuses a method, verifier options, or another identity with an oci://… reference (exit 2)', async () => {
    const ref = reference('org/gated:v1');
    const cases: [string[], RegExp][] = [
      [['verify', 'key', '--policy', gate, ref, '--plain-http'], /--policy takes the place of the method: drop 'key'/],
      [['verify', '--policy', gate, ref, '--public-key', 'k.pub', '--plain-http'], /--public-key cannot be used with --policy/],
      [['verify', '--policy', gate, ref, '--repo', 'org/x', '--plain-http'], /--repo cannot be used with an oci:\/\/… reference/],
      [
        ['verify', '--policy', gate, ref, '--oci', `${registry.host}/org/other`, '--plain-http'],
        /--oci cannot be used with an oci:\/\/… reference/,
      ],
      [['verify', '--policy', gate, ref, '--trust-cache', '--plain-http'], /--trust-cache applies to a model on disk/],
      [['verify', '--policy', gate, policyDir, '--output', 'x'], /--output applies only to oci:\/\/… references/],
    ];
    for (const [args, message] of cases) {
      const r = await ours(args, policyDir);
      expect(r.code, r.stdout + r.stderr).toBe(2);
      expect(r.stderr).toMatch(message);
    }
    const help = await ours(['verify', '--policy', gate, '--help']);
    for (const text of ['--output <dir>', '--plain-http', 'oci://ghcr.io/my-org/my-model:v1']) expect(help.stdout).toContain(text);
  });
});
