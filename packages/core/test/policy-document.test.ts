// The trust policy document: parsing (JSON, YAML), the shipped JSON Schema,
// and every problem compilePolicy finds, each with its JSON path and line.
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PolicyInvalidError, loadPolicy, type PolicyProblem } from '../dist/index.js';
import { parsePolicy } from '../dist/internal.js';
import { VECTORS, cleanupTempDirs, ecKeyPair, expectCode, tempDir } from './helpers.js';

let dir: string;
let publicKey: string;

beforeAll(async () => {
  dir = await tempDir('oms-policy-doc-');
  publicKey = ecKeyPair().publicKey;
  await fs.writeFile(path.join(dir, 'publisher.pub'), publicKey);
});
afterAll(cleanupTempDirs);

let counter = 0;
/** Writes `text` as a policy file beside the keys and loads it. */
async function load(text: string | Uint8Array, extension = 'yaml') {
  const file = path.join(dir, `policy-${++counter}.${extension}`);
  await fs.writeFile(file, text);
  return loadPolicy(file);
}

/** The problems a policy text has (it must be refused with POLICY_INVALID). */
async function problems(text: string | Uint8Array, extension = 'yaml'): Promise<PolicyProblem[]> {
  const err = await expectCode(load(text, extension), 'POLICY_INVALID');
  expect(err).toBeInstanceOf(PolicyInvalidError);
  return (err as PolicyInvalidError).problems;
}

const VALID = `version: 1
authorities:
  publisher:
    key: { file: publisher.pub }
rules:
  - name: org models
    match: { huggingface: "my-org/*" }
    require:
      signatures: { by: [publisher] }
`;

describe('policy document', () => {
  it('reads YAML and the same policy as JSON, with the key file relative to the policy', async () => {
    const yaml = await load(VALID);
    expect(yaml.rules.map((r) => r.name)).toEqual(['org models']);
    expect([...yaml.authorities.keys()]).toEqual(['publisher']);
    const json = await load(
      JSON.stringify({
        version: 1,
        authorities: { publisher: { key: { pem: publicKey } } },
        rules: [{ name: 'org models', match: { huggingface: 'my-org/*' }, require: { signatures: { by: ['publisher'] } } }],
      }),
      'json',
    );
    expect(json.rules[0].matcher.description).toBe('huggingface my-org/*');
  });

  it('refuses what is not JSON or YAML, naming the line', async () => {
    const [p] = await problems('version: 1\nrules: [\n');
    expect(p.message).toMatch(/is not valid JSON or YAML/);
    expect(p.line).toBeGreaterThan(0);
    expect((await problems('{"version": 1, "version": 1}', 'json'))[0].message).toMatch(/unique/);
    expect((await problems(new Uint8Array([0xff, 0xfe, 0x0a])))[0].message).toBe('is not UTF-8 text');
  });

  it('gives every schema error its JSON path and line', async () => {
    const found = await problems(`version: 2
authorities:
  publisher:
    key: { file: publisher.pub }
    sigstore: { identity: a, issuer: b }
rules:
  - name: r
    match: { repo: "my-org/*" }
    require:
      signatures: { by: [publisher], count: 0 }
`);
    const byPath = Object.fromEntries(found.map((p) => [p.path, p]));
    expect(byPath['/version'].message).toBe('must be 1');
    expect(byPath['/authorities/publisher'].message).toBe('needs exactly one of key, certificate, sigstore (has key and sigstore)');
    expect(byPath['/rules/0/match/repo'].message).toBe('is not a known property');
    expect(byPath['/rules/0/match'].message).toMatch(/needs exactly one of huggingface, path, url, oci/);
    expect(byPath['/rules/0/require/signatures/count'].message).toBe('must be >= 1');
    expect(byPath['/rules/0/match/repo']).toMatchObject({ line: 8 });
    expect(byPath['/version']).toMatchObject({ line: 1, column: 10 });
  });

  it('refuses names the policy does not define, thresholds larger than their lists, twin rules', async () => {
    const found = await problems(`version: 1
authorities:
  publisher: { key: { file: publisher.pub } }
rules:
  - name: a
    match: { huggingface: "my-org/*" }
    require:
      signatures: { by: [publisher, bob], count: 3 }
      claims:
        - { predicateType: "https://in-toto.io/attestation/test-result/v0.1", by: [evaluator] }
  - name: a
    match: { huggingface: "MY-ORG/*" }
    require: { signatures: { by: [publisher] } }
`);
    expect(found.map((p) => [p.path, p.message])).toEqual([
      ['/rules/0/require/signatures/by/1', "unknown authority 'bob' (the policy defines publisher)"],
      ['/rules/0/require/signatures/count', 'requires 3 distinct signers but names only 2 authorities'],
      ['/rules/0/require/claims/0/by/0', "unknown authority 'evaluator' (the policy defines publisher)"],
      ['/rules/1/name', "rule name 'a' is also rules[0]'s"],
    ]);
    const twins = await problems(`version: 1
authorities:
  publisher: { key: { file: publisher.pub } }
rules:
  - { name: a, match: { huggingface: "my-org/*" }, require: { signatures: { by: [publisher] } } }
  - { name: b, match: { huggingface: "MY-ORG/*" }, deny: no }
`);
    expect(twins).toEqual([
      expect.objectContaining({ path: '/rules/1/match', message: expect.stringMatching(/matches exactly the models rule 'a'/) }),
    ]);
  });

  it('refuses a CEL condition that does not compile, at its path', async () => {
    const found = await problems(`version: 1
authorities:
  publisher: { key: { file: publisher.pub } }
rules:
  - name: r
    match: { path: "/srv/**" }
    require:
      signatures: { by: [publisher] }
      claims:
        - predicateType: https://example.com/eval
          by: [publisher]
          condition: predicate.accuracy >=
`);
    expect(found).toEqual([
      expect.objectContaining({ path: '/rules/0/require/claims/0/condition', message: expect.stringMatching(/does not parse/), line: 12 }),
    ]);
  });

  it('refuses a regular expression RE2 cannot run, and takes a catastrophic one (RE2 runs it in linear time)', async () => {
    const sigstore = (identityRegExp: string) => `version: 1
authorities:
  ci:
    sigstore:
      identityRegExp: '${identityRegExp}'
      issuer: https://token.actions.githubusercontent.com
rules:
  - { name: r, match: { path: "/srv/**" }, require: { signatures: { by: [ci] } } }
`;
    const [p] = await problems(sigstore('^https://github\\.com/(a)\\1$'));
    expect(p).toMatchObject({ path: '/authorities/ci/sigstore', message: expect.stringMatching(/RE2 cannot run the regular expression/) });
    expect((await problems(sigstore('(?<=x)a')))[0].message).toMatch(/RE2 cannot run/);
    await expect(load(sigstore('^(a+)+$'))).resolves.toBeDefined();
  });

  it('refuses a key file that is missing or not a key, naming the authority', async () => {
    const found = await problems(`version: 1
authorities:
  publisher: { key: { file: missing.pub } }
  other: { key: { pem: "not a key" } }
rules:
  - { name: r, match: { path: "/srv/**" }, require: { signatures: { by: [publisher, other] } } }
`);
    expect(found.map((p) => p.path)).toEqual(['/authorities/publisher/key', '/authorities/other/key']);
    expect(found[0].message).toMatch(/missing\.pub' cannot be read: ENOENT/);
    expect(found[1].message).toMatch(/PEM|key/i);
  });

  it('reads a private Sigstore instance’s trust config when the policy loads, refusing a broken one', async () => {
    await fs.copyFile(path.join(VECTORS, 'model-transparency/custom_trust_config.json'), path.join(dir, 'trust.json'));
    await fs.writeFile(path.join(dir, 'broken.json'), '{"mediaType": "not a trust config"}');
    const policy = (file: string) => `version: 1
authorities:
  ci: { sigstore: { identity: ci@example.com, issuer: https://issuer.example.com, trustConfig: { file: ${file} } } }
rules:
  - { name: r, match: { path: "/srv/**" }, require: { signatures: { by: [ci] } } }
`;
    await expect(load(policy('trust.json'))).resolves.toBeDefined();
    const [p] = await problems(policy('broken.json'));
    expect(p.path).toBe('/authorities/ci/sigstore');
    expect((await problems(policy('absent.json')))[0].message).toMatch(/absent\.json' cannot be read/);
  });

  it('refuses useSystemRoots without an identity pin, and glob syntax it does not know', async () => {
    const found = await problems(`version: 1
authorities:
  corp: { certificate: { useSystemRoots: true } }
  publisher: { key: { file: publisher.pub } }
rules:
  - { name: r, match: { huggingface: "my-org/[ab]*" }, require: { signatures: { by: [publisher] } } }
  - { name: s, match: { url: "https://h/x?y=1" }, require: { signatures: { by: [publisher] } } }
  - { name: t, match: { path: "relative/**" }, require: { signatures: { by: [publisher] } } }
`);
    expect(found.map((p) => p.path)).toEqual([
      '/authorities/corp/certificate',
      '/rules/0/match/huggingface',
      '/rules/1/match/url',
      '/rules/2/match/path',
    ]);
  });

  it('reads at most 1 MiB of a policy: a 10 MB file is refused without being read whole', async () => {
    const file = path.join(dir, 'huge.yaml');
    await fs.writeFile(file, `${VALID}# ${'x'.repeat(10 * 1024 * 1024)}\n`);
    const err = await expectCode(loadPolicy(file), 'POLICY_INVALID');
    expect(err.message).toMatch(/larger than 1048576 bytes/);
    await expectCode(parsePolicy('#'.repeat(2 * 1024 * 1024)), 'POLICY_INVALID');
    await expectCode(loadPolicy(path.join(dir, 'no-such-policy.yaml')), 'NOT_FOUND');
    await expectCode(loadPolicy(dir), 'SPECIAL_FILE');
  });
});
