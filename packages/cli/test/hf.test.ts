import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeHub } from '@model-signing/hf-hub/testing';
import { KeySigner, attest, signModel } from '@model-signing/core';
import { REFUSALS, policyParties, scenarioPolicies, scenarioSignatures } from '../../../test-fixtures/policy-scenarios.mjs';
import { cleanupTempDirs, makeTrickyModel, ours, tempDir, writeKeyPair } from './helpers.js';

// `model-signing hf …` end to end: the real @huggingface/hub client, through
// our CLI, against a Hub-compatible server on loopback.

const TOKEN = 'hf_cli_test_token';
let hub: FakeHub;
let work: string;
let keys: { privateKey: string; publicKey: string };

beforeAll(async () => {
  hub = await FakeHub.start();
  work = await tempDir('oms-cli-hf-');
  keys = await writeKeyPair(work, 'P-256');
});
afterAll(async () => {
  await hub.close();
  await cleanupTempDirs();
});

const hubArgs = () => ['--token', TOKEN, '--endpoint', hub.url];

describe('model-signing hf', () => {
  it('uploads signed, verifies remotely, downloads verified, re-verifies the cache, and refuses a tampered repo', async () => {
    const model = await makeTrickyModel(work);
    const cache = path.join(work, 'cache');
    const upload = await ours([
      'hf',
      'upload',
      'key',
      model,
      'org/tricky',
      '--private-key',
      keys.privateKey,
      '--create-repo',
      ...hubArgs(),
      '--json',
    ]);
    expect(upload.code, upload.stderr).toBe(0);
    expect(JSON.parse(upload.stdout).files).toContain('config.json');
    expect([...hub.files('org/tricky').keys()]).toContain('model.sig');

    const remote = await ours(['hf', 'verify', 'key', 'org/tricky', '--public-key', keys.publicKey, ...hubArgs(), '--json']);
    expect(remote.code, remote.stderr).toBe(0);
    expect(JSON.parse(remote.stdout)).toMatchObject({ ok: true, bytesChecked: true, metadataOnly: [], unchecked: [] });

    const download = await ours([
      'hf',
      'download',
      'key',
      'org/tricky',
      '--public-key',
      keys.publicKey,
      '--cache-dir',
      cache,
      ...hubArgs(),
    ]);
    expect(download.code, download.stderr).toBe(0);
    const snapshot = download.stdout.trim();
    expect(await fs.readFile(path.join(snapshot, 'config.json'), 'utf8')).toBe(await fs.readFile(path.join(model, 'config.json'), 'utf8'));

    const cached = await ours(['hf', 'verify', 'key', 'org/tricky', '--public-key', keys.publicKey, '--cached', '--cache-dir', cache]);
    expect(cached.code, cached.stderr).toBe(0);

    hub.pushCommit('org/tricky', { put: { 'weights/model-00001-of-00002.safetensors': Buffer.from('A'.repeat(4999) + 'X') } });
    const refused = await ours([
      'hf',
      'download',
      'key',
      'org/tricky',
      '--public-key',
      keys.publicKey,
      '--cache-dir',
      path.join(work, 'cache2'),
      ...hubArgs(),
    ]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('[DIGEST_MISMATCH]');
    expect(refused.stderr).toContain('weights/model-00001-of-00002.safetensors');
    // Refused before download: not one file of the repo reached the cache.
    const left = await fs.readdir(path.join(work, 'cache2'), { recursive: true, withFileTypes: true }).catch(() => []);
    expect(left.filter((e) => !e.isDirectory()).map((e) => e.name)).toEqual([]);
  });

  it('says which option a method needs (exit 2)', async () => {
    const result = await ours(['hf', 'download', 'key', 'org/tricky', ...hubArgs()]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--public-key');
  });

  it('hf verify: exits 0 only when every file was hashed, or with --metadata-only when the hub has a SHA-256 for every file; 3 when it cannot check some', async () => {
    const model = await makeTrickyModel(work, 'metadata-model');
    const upload = await ours([
      'hf',
      'upload',
      'key',
      model,
      'org/metadata',
      '--private-key',
      keys.privateKey,
      '--create-repo',
      ...hubArgs(),
    ]);
    expect(upload.code, upload.stderr).toBe(0);

    const full = await ours(['hf', 'verify', 'key', 'org/metadata', '--public-key', keys.publicKey, ...hubArgs()]);
    expect(full.code, full.stderr).toBe(0);
    expect(full.stdout).toMatch(/^Verified org\/metadata at commit [0-9a-f]{40}\.\n/);
    // The fake hub stores files of 1 KiB or more in LFS (with a SHA-256), the rest in git.
    const modelFiles = (await fs.readdir(model, { recursive: true, withFileTypes: true })).filter((e) => e.isFile());
    const names = modelFiles.map((e) => path.relative(model, path.join(e.parentPath, e.name)).split(path.sep).join('/'));
    const sizes = await Promise.all(names.map(async (n) => (await fs.stat(path.join(model, n))).size));
    const inGit = names.filter((_, i) => sizes[i] < 1024).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    expect(inGit.length).toBeGreaterThan(0);
    expect(inGit.length).toBeLessThan(names.length);
    expect(full.stdout).toContain(`All ${names.length} files were downloaded, hashed and match the signature`);

    // Small files are stored in git, without a SHA-256: --metadata-only cannot vouch for them.
    const partial = await ours(['hf', 'verify', 'key', 'org/metadata', '--public-key', keys.publicKey, '--metadata-only', ...hubArgs()]);
    expect(partial.code, partial.stderr).toBe(3);
    expect(partial.stdout).toMatch(/^Metadata check incomplete for org\/metadata/);
    expect(partial.stdout).toContain('No file bytes were downloaded, so this does not prove the hub serves those bytes.');
    expect(partial.stdout).toContain(
      `${inGit.length} files could not be checked (the hub has no SHA-256 for them):\n${inGit.map((n) => `  ${n}\n`).join('')}`,
    );
    const partialJson = JSON.parse(
      (await ours(['hf', 'verify', 'key', 'org/metadata', '--public-key', keys.publicKey, '--metadata-only', ...hubArgs(), '--json']))
        .stdout,
    );
    expect(partialJson).toMatchObject({ ok: false, bytesChecked: false });
    expect(partialJson.unchecked).toContain('config.json');

    // Bytes that differ from honest-looking metadata: only the default check sees them.
    const weight = 'weights/model-00001-of-00002.safetensors';
    const lfsHub = await FakeHub.start({ lfsThreshold: 0 });
    try {
      const args = ['--token', TOKEN, '--endpoint', lfsHub.url];
      expect(
        (await ours(['hf', 'upload', 'key', model, 'org/all-lfs', '--private-key', keys.privateKey, '--create-repo', ...args])).code,
      ).toBe(0);
      lfsHub.replaceBytesKeepingMetadata('org/all-lfs', weight, Buffer.from('A'.repeat(4999) + 'X'));
      const metadataOnly = await ours(['hf', 'verify', 'key', 'org/all-lfs', '--public-key', keys.publicKey, '--metadata-only', ...args]);
      expect(metadataOnly.code, metadataOnly.stderr).toBe(0);
      expect(metadataOnly.stdout).toMatch(/^Metadata check passed for org\/all-lfs/);
      expect(metadataOnly.stdout).toContain('does not prove the hub serves those bytes');
      const bytes = await ours(['hf', 'verify', 'key', 'org/all-lfs', '--public-key', keys.publicKey, ...args]);
      expect(bytes.code).toBe(1);
      expect(bytes.stderr).toContain('[DIGEST_MISMATCH]');
      expect(bytes.stderr).toContain(weight);
    } finally {
      await lfsHub.close();
    }
  });

  it('hf download --include fetches only the selected signed files, and refuses a name the signature does not cover', async () => {
    const model = await makeTrickyModel(work, 'include-model');
    expect(
      (await ours(['hf', 'upload', 'key', model, 'org/include', '--private-key', keys.privateKey, '--create-repo', ...hubArgs()])).code,
    ).toBe(0);
    const cache = path.join(work, 'cache-include');
    const base = ['hf', 'download', 'key', 'org/include', '--public-key', keys.publicKey, '--cache-dir', cache, ...hubArgs()];
    const result = await ours([...base, '--include', 'config.json', 'weights/*-00002-*', '--json']);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout).downloaded).toEqual(['config.json', 'weights/model-00002-of-00002.safetensors']);
    const missing = await ours([...base, '--include', 'model.onnx']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("[MISSING_FILE]: No signed file of the repo matches 'model.onnx'");
  });

  it('hf upload takes the claims along: appended to with --signature claims.jsonl, beside model.sig as they are; verify --claims checks them on the download', async () => {
    const model = path.join(work, 'claims-model');
    await fs.mkdir(model);
    await fs.writeFile(path.join(model, 'config.json'), '{"hidden_size": 8}');
    await fs.writeFile(path.join(model, 'model.safetensors'), Buffer.alloc(4096, 7));
    await fs.mkdir(path.join(work, 'claims-evaluator'));
    const evaluator = await writeKeyPair(path.join(work, 'claims-evaluator'), 'P-256');
    const results = path.join(work, 'claims-results.json');
    await fs.writeFile(
      results,
      JSON.stringify({ result: 'PASSED', configuration: [{ name: 'eval.yaml', digest: { sha256: 'b'.repeat(64) } }] }),
    );
    const claimsFile = path.join(model, 'claims.jsonl');
    const attested = await ours([
      'attest',
      'key',
      model,
      '--private-key',
      evaluator.privateKey,
      '--signature',
      claimsFile,
      '--eval',
      results,
    ]);
    expect(attested.code, attested.stderr).toBe(0);
    const local = await fs.readFile(claimsFile);

    const upload = await ours([
      'hf',
      'upload',
      'key',
      model,
      'org/claims',
      '--private-key',
      keys.privateKey,
      '--signature',
      'claims.jsonl',
      '--create-repo',
      ...hubArgs(),
    ]);
    expect(upload.code, upload.stderr).toBe(0);
    expect(upload.stdout).toMatch(
      /^Upload succeeded: 2 files and claims\.jsonl \(2 claims, the new signature last\) in commit [0-9a-f]{40}\n$/,
    );
    expect(hub.files('org/claims').get('claims.jsonl')!.data.subarray(0, local.length)).toEqual(local);
    expect(await fs.readFile(claimsFile)).toEqual(local);

    const cache = path.join(work, 'cache-claims');
    const download = await ours([
      'hf',
      'download',
      'key',
      'org/claims',
      '--public-key',
      keys.publicKey,
      '--signature',
      'claims.jsonl',
      '--cache-dir',
      cache,
      ...hubArgs(),
    ]);
    expect(download.code, download.stderr).toBe(0);
    const snapshot = download.stdout.trim();
    // The snapshot links into the cache's blobs, as huggingface_hub lays it out: copy it to check it as a folder.
    const copy = path.join(work, 'claims-copy');
    await fs.cp(snapshot, copy, { recursive: true, dereference: true });
    const verified = await ours([
      'verify',
      'key',
      copy,
      '--public-key',
      keys.publicKey,
      '--signature',
      path.join(copy, 'claims.jsonl'),
      '--claims',
      '--claims-public-key',
      evaluator.publicKey,
    ]);
    expect(verified.code, verified.stderr).toBe(0);
    expect(verified.stdout).toContain('matched line 2 of');
    expect(verified.stdout).toContain('2 (2 verified)');

    // model.sig: the claims file beside it goes up unchanged; a claim about other files is reported on stderr.
    await fs.writeFile(path.join(model, 'config.json'), '{"hidden_size": 16}');
    const beside = await ours(['hf', 'upload', 'key', model, 'org/claims', '--private-key', keys.privateKey, ...hubArgs(), '--json']);
    expect(beside.code, beside.stderr).toBe(0);
    expect(JSON.parse(beside.stdout)).toMatchObject({
      signature: 'model.sig',
      claims: { path: 'claims.jsonl', claims: 1, otherSubjects: [1], warnings: [] },
    });
    expect(hub.files('org/claims').get('claims.jsonl')!.data).toEqual(local);
    const human = await ours(['hf', 'upload', 'key', model, 'org/claims', '--private-key', keys.privateKey, ...hubArgs()]);
    expect(human.stdout).toMatch(/^Upload succeeded: 2 files and model\.sig and claims\.jsonl \(1 claim\) in commit/);
    expect(human.stderr).toContain(
      'claims.jsonl: line 1 is a claim about other files than those uploaded (uploaded as they are; verifiers will not count them for this model)',
    );
  });
});

// `hf download|verify --policy`: one trust policy in place of the method, matched on the repo.
describe('model-signing hf with --policy', () => {
  const parties = policyParties();
  let gate: string;
  let twoOfTwo: string;

  beforeAll(async () => {
    const modelDir = path.join(work, 'policy-model');
    const model: Record<string, Buffer> = { 'config.json': Buffer.from('{"labels": 2}'), 'model.onnx': Buffer.from('ONNX weights') };
    await fs.mkdir(modelDir, { recursive: true });
    for (const [name, data] of Object.entries(model)) await fs.writeFile(path.join(modelDir, name), data);
    const signatures = await scenarioSignatures({ core: { signModel, attest, KeySigner }, parties, modelDir, work });
    for (const [name, files] of Object.entries(signatures)) {
      hub.createRepo(`org/${name}`);
      hub.pushCommit(`org/${name}`, { put: { ...model, ...files } });
    }
    hub.createRepo('someone/accepted');
    hub.pushCommit('someone/accepted', { put: { ...model, ...signatures.accepted } });
    const policies = scenarioPolicies(parties, { huggingface: 'org/*' });
    gate = path.join(work, 'gate.json');
    twoOfTwo = path.join(work, 'two-of-two.json');
    await fs.writeFile(gate, policies.gate);
    await fs.writeFile(twoOfTwo, policies.twoOfTwo);
  });

  it("downloads and re-verifies a repo with the publisher's signature and the evaluator's claim, showing the claim", async () => {
    const cache = path.join(work, 'cache-policy');
    const download = await ours(['hf', 'download', '--policy', gate, 'org/accepted', '--cache-dir', cache, ...hubArgs(), '--json']);
    expect(download.code, download.stderr).toBe(0);
    const result = JSON.parse(download.stdout);
    expect(result.decision).toMatchObject({ allowed: true, rule: { name: 'evaluated models' } });
    expect(result.claims).toMatchObject([{ requirement: 'evaluation', authority: 'evaluator', file: 'claims.jsonl' }]);
    const cached = await ours(['hf', 'verify', '--policy', gate, 'org/accepted', '--cached', '--cache-dir', cache]);
    expect(cached.code, cached.stderr).toBe(0);
    expect(cached.stdout).toMatch(/Allowed by the policy: rule 'evaluated models': every requirement is met/);
  });

  const refusals: [string, string, () => string, RegExp][] = [
    ['the claim is removed', 'org/noClaim', () => gate, REFUSALS.noClaim],
    ['the score is below the threshold', 'org/belowThreshold', () => gate, REFUSALS.belowThreshold],
    ['another key signed', 'org/otherKey', () => gate, REFUSALS.otherKey],
    ['1 of 2 signed where 2 of 2 are required', 'org/accepted', () => twoOfTwo, REFUSALS.oneOfTwo],
    ['no rule matches the repo', 'someone/accepted', () => gate, REFUSALS.unmatched],
  ];
  for (const [what, repo, policy, refusal] of refusals) {
    it(`refuses when ${what}: exit 1, the decision naming the rule and the requirement`, async () => {
      const r = await ours(['hf', 'verify', '--policy', policy(), repo, ...hubArgs()]);
      expect(r.code, r.stdout + r.stderr).toBe(1);
      expect(r.stderr).toMatch(/^DENIED: /m);
      expect(r.stderr).toMatch(refusal);
      expect(r.stderr).toMatch(/^Verification failed \[POLICY_DENIED\]: /m);
    });
  }

  it('refuses a method or verifier options with --policy', async () => {
    const method = await ours(['hf', 'download', 'key', 'org/accepted', '--policy', gate, ...hubArgs()]);
    expect(method.code).toBe(2);
    expect(method.stderr).toMatch(/--policy takes the place of the method: drop 'key'/);
    const key = await ours(['hf', 'verify', '--policy', gate, 'org/accepted', '--public-key', 'k.pub', ...hubArgs()]);
    expect(key.code).toBe(2);
    expect(key.stderr).toMatch(/--public-key cannot be used with --policy/);
  });
});
