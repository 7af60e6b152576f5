// The trust policy end to end through the CLI, as a user runs it: a model
// signed by its publisher with an evaluator's claim (accuracy 0.93), checked
// with `policy check`, explained with `policy explain`, and verified with
// `verify --policy`; every way it must be refused names the rule and the
// requirement that failed.
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accuracyCard } from '../../../test-fixtures/model-card.mjs';
import { REPO_ROOT, cleanupTempDirs, ours, tempDir, writeKeyPair, type RunResult } from './helpers.js';

let work: string;
const keys: Record<string, { privateKey: string; publicKey: string }> = {};

/** An evaluator's CycloneDX model card holding one accuracy. */
async function metrics(accuracy: string): Promise<string> {
  const file = path.join(work, `metrics-${accuracy}.json`);
  await fs.writeFile(file, JSON.stringify(accuracyCard(accuracy)));
  return file;
}

const ok = (r: RunResult, what: string) => expect(r.code, `${what}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`).toBe(0);

let models = 0;
/** A copy of the tiny model in its own folder under `parent`, signed and attested as the steps say. */
async function model(parent: string, steps: { sign?: string[]; claim?: [string, string] } = {}): Promise<{ dir: string; claims: string }> {
  const dir = path.join(work, parent, `tiny-${++models}`);
  await fs.mkdir(dir, { recursive: true });
  await fs.writeFile(path.join(dir, 'model.onnx'), 'ONNX weights');
  await fs.writeFile(path.join(dir, 'config.json'), '{"labels": 2}');
  const claims = path.join(dir, 'claims.jsonl');
  for (const [i, who] of (steps.sign ?? ['publisher']).entries()) {
    // Each signature is appended to claims.jsonl as `sign --signature claims.jsonl` does; written first to a file
    // of its own, because the test helper checks the resource order of the one bundle a `sign` writes.
    const own = path.join(work, parent, `signature-${models}-${i}.jsonl`);
    ok(await ours(['sign', 'key', dir, '--private-key', keys[who].privateKey, '--signature', own]), `sign by ${who}`);
    await fs.appendFile(claims, await fs.readFile(own));
  }
  if (steps.claim) {
    const [who, accuracy] = steps.claim;
    ok(
      await ours([
        'attest',
        'key',
        dir,
        '--private-key',
        keys[who].privateKey,
        '--signature',
        claims,
        '--model-card',
        await metrics(accuracy),
      ]),
      `attest by ${who}`,
    );
  }
  return { dir, claims };
}

const POLICY = (root: string) => `# Models our team publishes: signed by the publisher, evaluated at 0.9 accuracy or better.
version: 1
authorities:
  publisher: { key: { file: keys/publisher.pub } }
  evaluator: { key: { file: keys/evaluator.pub } }
  alice: { key: { file: keys/alice.pub } }
  bob: { key: { file: keys/bob.pub } }
rules:
  - name: evaluated models
    match: { path: "${root}/evaluated/**" }
    require:
      signatures: { by: [publisher] }
      claims:
        - name: accuracy
          predicateType: https://cyclonedx.org/bom
          by: [evaluator]
          condition: >-
            predicate.metadata.component.modelCard.quantitativeAnalysis.performanceMetrics
              .exists(m, m.type == "accuracy" && double(m.value) >= 0.9)
  - name: release
    match: { path: "${root}/release/**" }
    require:
      signatures: { by: [alice, bob], count: 2 }
  - name: hub
    match: { huggingface: "my-org/*" }
    require:
      signatures: { by: [publisher] }
`;

let policy: string;

beforeAll(async () => {
  work = await fs.realpath(await tempDir('oms-cli-policy-'));
  // Hash records go here, not to the user's cache.
  process.env['XDG_CACHE_HOME'] = path.join(work, 'cache');
  for (const who of ['publisher', 'evaluator', 'alice', 'bob', 'mallory']) {
    const dir = path.join(work, 'keys', who);
    await fs.mkdir(dir, { recursive: true });
    keys[who] = await writeKeyPair(dir, 'P-256');
    await fs.copyFile(keys[who].publicKey, path.join(work, 'keys', `${who}.pub`));
  }
  policy = path.join(work, 'policy.yaml');
  await fs.writeFile(policy, POLICY(work));
});
afterAll(cleanupTempDirs);

const verify = (dir: string, claims: string, ...more: string[]) =>
  ours(['verify', '--policy', policy, dir, '--signature', claims, ...more]);

/** A refusal: exit 1, the decision on stderr naming the rule, and the one-line failure. */
function refused(r: RunResult, rule: string, requirement: RegExp): void {
  expect(r.code, r.stdout + r.stderr).toBe(1);
  expect(r.stderr).toMatch(new RegExp(`rule '${rule}'`));
  expect(r.stderr).toMatch(requirement);
  expect(r.stderr).toMatch(/^Verification failed \[POLICY_DENIED\]: The policy .* refused /m);
}

describe('verify --policy, end to end', () => {
  it('accepts the publisher’s signature with the evaluator’s claim of 0.93 ≥ 0.9', async () => {
    const { dir, claims } = await model('evaluated', { claim: ['evaluator', '0.93'] });
    const r = await verify(dir, claims);
    ok(r, 'verify --policy');
    expect(r.stdout).toMatch(/^Verification succeeded under policy .*policy\.yaml \(matched line 1 of .*claims\.jsonl\)$/m);
    expect(r.stdout).toMatch(/ok {2}signatures: signed by publisher/);
    expect(r.stdout).toMatch(/ok {2}claim 'accuracy'/);
    expect(r.stdout).toMatch(/^ALLOWED: rule 'evaluated models': every requirement is met$/m);
    const json = JSON.parse((await verify(dir, claims, '--json')).stdout) as Record<string, unknown>;
    expect(json).toMatchObject({
      ok: true,
      files: 2,
      signers: [{ authority: 'publisher', line: 1 }],
      claims: [{ requirement: 'accuracy', authority: 'evaluator', line: 2 }],
    });
  });

  it('refuses without the claim', async () => {
    const { dir, claims } = await model('evaluated');
    refused(
      await verify(dir, claims),
      'evaluated models',
      /requires claim 'accuracy': no claim of type <https:\/\/cyclonedx\.org\/bom> is present/,
    );
  });

  it('refuses a score below the threshold, showing the value it saw', async () => {
    const { dir, claims } = await model('evaluated', { claim: ['evaluator', '0.85'] });
    const r = await verify(dir, claims);
    refused(r, 'evaluated models', /requires claim 'accuracy': .*line 2 by evaluator: the condition is false; it saw .*"value": "0\.85"/);
    expect(r.stderr).toMatch(/FAILED {2}claim 'accuracy'/);
  });

  it('refuses a model signed by another key', async () => {
    const { dir, claims } = await model('evaluated', { sign: ['mallory'], claim: ['evaluator', '0.93'] });
    const r = await verify(dir, claims);
    refused(r, 'evaluated models', /requires signed by publisher: no OMS signature is by publisher/);
    expect(r.stderr).toMatch(/line 1: signed by key [0-9a-f]{16}… \(unverified\), not by publisher/);
  });

  it('refuses 1 of 2 where 2 of 2 is required, and accepts 2 of 2', async () => {
    const one = await model('release', { sign: ['alice'] });
    refused(
      await verify(one.dir, one.claims),
      'release',
      /requires 2 distinct signers among alice and bob: only 1 of the 2 distinct signers required: alice/,
    );
    const both = await model('release', { sign: ['alice', 'bob'] });
    ok(await verify(both.dir, both.claims), 'two of two');
  });

  it('refuses a model no rule matches, and a hub repo no rule matches', async () => {
    const { dir, claims } = await model('elsewhere', { claim: ['evaluator', '0.93'] });
    const r = await verify(dir, claims);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/DENIED: no rule matches local path .*elsewhere\/tiny-\d+, and what no rule allows is refused/);
    const hub = await verify(dir, claims, '--repo', 'someone/tiny', '--revision', 'main');
    expect(hub.stderr).toMatch(/no rule matches Hugging Face repo someone\/tiny at revision main/);
    ok(await verify(dir, claims, '--repo', 'My-Org/tiny'), 'the hub rule, by repo');
  });

  it('gives a refusal as JSON with the decision', async () => {
    const { dir, claims } = await model('evaluated');
    const r = await verify(dir, claims, '--json');
    expect(r.code).toBe(1);
    const json = JSON.parse(r.stdout) as {
      ok: boolean;
      error: { code: string };
      decision: { rule: { name: string }; requirements: { name: string; satisfied: boolean }[] };
    };
    expect(json.ok).toBe(false);
    expect(json.error.code).toBe('POLICY_DENIED');
    expect(json.decision.rule.name).toBe('evaluated models');
    expect(json.decision.requirements.map((q) => [q.name, q.satisfied])).toEqual([
      ['signatures', true],
      ['accuracy', false],
    ]);
  });

  it('still checks every file after the policy accepts', async () => {
    const { dir, claims } = await model('evaluated', { claim: ['evaluator', '0.93'] });
    await fs.writeFile(path.join(dir, 'model.onnx'), 'ONNX weights, changed');
    const r = await verify(dir, claims);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Verification failed \[DIGEST_MISMATCH\]/);
  });

  it('reads claims.jsonl beside a model.sig', async () => {
    const { dir, claims } = await model('evaluated', { sign: [], claim: ['evaluator', '0.93'] });
    const sig = path.join(dir, 'model.sig');
    ok(await ours(['sign', 'key', dir, '--private-key', keys['publisher'].privateKey, '--signature', sig]), 'sign model.sig');
    ok(await verify(dir, sig), 'model.sig with claims.jsonl beside it');
    const other = path.join(work, 'empty-claims.jsonl');
    await fs.writeFile(other, '');
    expect((await verify(dir, sig, '--claims-file', other)).code).toBe(1);
    void claims;
  });

  it('refuses a method or verifier options with --policy, and two ways of addressing a model', async () => {
    const { dir, claims } = await model('evaluated');
    const method = await ours(['verify', 'key', '--policy', policy, dir, '--signature', claims]);
    expect(method.code).toBe(2);
    expect(method.stderr).toMatch(/--policy takes the place of the method: drop 'key'/);
    const key = await verify(dir, claims, '--public-key', keys['publisher'].publicKey);
    expect(key.code).toBe(2);
    expect(key.stderr).toMatch(/--public-key cannot be used with --policy/);
    const both = await verify(dir, claims, '--repo', 'my-org/x', '--url', 'https://example.com/x');
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/--repo and --url cannot be used together/);
  });
});

describe('policy explain', () => {
  it('prints the decision tree without reading the model’s files, exit 0 or 1', async () => {
    const { dir, claims } = await model('evaluated', { claim: ['evaluator', '0.93'] });
    await fs.writeFile(path.join(dir, 'model.onnx'), 'changed, and explain does not care');
    const r = await ours(['policy', 'explain', policy, dir, '--signature', claims]);
    ok(r, 'explain');
    expect(r.stdout.split('\n')[0]).toBe(`Policy ${policy}: local path ${dir}`);
    expect(r.stdout).toMatch(
      /- .*claims\.jsonl line 2 by evaluator: verified, about these files, and the condition holds: counts for evaluator/,
    );
    const denied = await ours(['policy', 'explain', policy, dir, '--signature', claims, '--repo', 'someone/else', '--json']);
    expect(denied.code).toBe(1);
    expect(JSON.parse(denied.stdout)).toMatchObject({
      ok: false,
      decision: { allowed: false, model: { kind: 'huggingface', repo: 'someone/else' } },
    });
  });
});

describe('policy check', () => {
  it('says a valid policy is valid and what its rules require', async () => {
    const r = await ours(['policy', 'check', policy]);
    ok(r, 'check');
    expect(r.stdout).toMatch(/^Policy .*policy\.yaml is valid: 4 authorities, 3 rules$/m);
    expect(r.stdout).toMatch(/rule 'release': path .*\/release\/\*\*: 2 of alice, bob/);
  });

  it('lists every problem with its JSON path and line, and exits 1', async () => {
    const bad = path.join(work, 'bad.yaml');
    await fs.writeFile(
      bad,
      `version: 1
authorities:
  publisher: { key: { file: keys/publisher.pub } }
  ci: { sigstore: { identityRegExp: "(a)\\\\1", issuer: https://token.actions.githubusercontent.com } }
  gone: { key: { file: keys/missing.pub } }
rules:
  - name: r
    match: { huggingface: "my-org/*", tag: v1 }
    require:
      signatures: { by: [publisher, nobody] }
      claims:
        - { predicateType: "https://cyclonedx.org/bom", by: [publisher], condition: "predicate.x >" }
`,
    );
    const r = await ours(['policy', 'check', bad]);
    expect(r.code).toBe(1);
    expect(r.stderr.split('\n')[0]).toMatch(/^Policy check failed \[POLICY_INVALID\]: .*bad\.yaml has 1 problem$/);
    expect(r.stderr).toMatch(/bad\.yaml:8:\d+ \/rules\/0\/match: must have property oci when property tag is present/);
    // Schema errors first; fixed, the rest shows.
    await fs.writeFile(bad, (await fs.readFile(bad, 'utf8')).replace(', tag: v1', ''));
    const rest = await ours(['policy', 'check', bad]);
    expect(rest.code).toBe(1);
    const lines = rest.stderr.split('\n');
    expect(lines[0]).toMatch(/has 4 problems$/);
    expect(rest.stderr).toMatch(/bad\.yaml:4:\d+ \/authorities\/ci\/sigstore: RE2 cannot run the regular expression/);
    expect(rest.stderr).toMatch(/bad\.yaml:5:\d+ \/authorities\/gone\/key: The file '.*missing\.pub' cannot be read: ENOENT/);
    expect(rest.stderr).toMatch(/bad\.yaml:10:\d+ \/rules\/0\/require\/signatures\/by\/1: unknown authority 'nobody'/);
    expect(rest.stderr).toMatch(/bad\.yaml:12:\d+ \/rules\/0\/require\/claims\/0\/condition: the condition does not parse/);
    const json = JSON.parse((await ours(['policy', 'check', bad, '--json'])).stdout) as { error: { problems: { path: string }[] } };
    expect(json.error.problems.map((p) => p.path)).toEqual([
      '/authorities/ci/sigstore',
      '/authorities/gone/key',
      '/rules/0/require/signatures/by/1',
      '/rules/0/require/claims/0/condition',
    ]);
  });

  it('refuses a 10 MB policy with a code, and a missing file', async () => {
    const huge = path.join(work, 'huge.yaml');
    await fs.writeFile(huge, `${POLICY(work)}#${'x'.repeat(10 * 1024 * 1024)}\n`);
    const r = await ours(['policy', 'check', huge]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/POLICY_INVALID.*larger than 1048576 bytes/s);
    const missing = await ours(['policy', 'check', path.join(work, 'nope.yaml')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/Policy check failed \[NOT_FOUND\]: The policy file '.*nope\.yaml' cannot be read/);
  });

  it('finds the three policies of docs/policy.md valid', async () => {
    const doc = await fs.readFile(path.join(REPO_ROOT, 'docs/policy.md'), 'utf8');
    const section = doc.slice(doc.indexOf('## Three policies'), doc.indexOf('## The document'));
    const policies = [...section.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]);
    expect(policies).toHaveLength(3);
    const dir = path.join(work, 'docs-policies');
    await fs.mkdir(path.join(dir, 'keys'), { recursive: true });
    await fs.mkdir(path.join(dir, 'pki'), { recursive: true });
    for (const who of ['alice', 'bob', 'carol', 'publisher'])
      await fs.copyFile(keys[who === 'carol' ? 'mallory' : who].publicKey, path.join(dir, 'keys', `${who}.pub`));
    await fs.copyFile(
      path.join(REPO_ROOT, 'test-fixtures/vectors/model-transparency/keys/certificate/ca-cert.pem'),
      path.join(dir, 'pki/eval-ca.pem'),
    );
    for (const [i, text] of policies.entries()) {
      const file = path.join(dir, `policy-${i}.yaml`);
      await fs.writeFile(file, text);
      ok(await ours(['policy', 'check', file]), `docs/policy.md policy ${i + 1}`);
    }
  });

  it('has help with examples', async () => {
    const help = await ours(['policy', '--help']);
    expect(help.stdout).toMatch(/model-signing policy check policy\.yaml/);
    const verifyHelp = await ours(['verify', '--policy', policy, '--help']);
    expect(verifyHelp.stdout).toMatch(/--policy takes the place of the method/);
    expect(verifyHelp.stdout).not.toMatch(/^ +--public-key/m);
  });
});
