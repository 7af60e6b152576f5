// The trust policy deciding: which rule matches how a model was addressed,
// then its requirements over real signatures and claims (keys, a certificate
// chain, Sigstore bundles from the public-good instance, offline), with the
// explanation a person reads.
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CYCLONEDX_PREDICATE_TYPE,
  CertificateVerifier,
  KeySigner,
  PolicyDeniedError,
  attest,
  createClaim,
  formatDecision,
  signModel,
  verifyModel,
  type ModelIdentity,
  type Policy,
  type PolicyDecision,
} from '../dist/index.js';
import { compilePolicy, evaluatePolicy, explainPolicy, type AuthorityVerifiers, type PolicyDocument } from '../dist/internal.js';
import { appendClaim, nodeAuthorityVerifiers, readSignatureBytes as readSignatureFile } from '../dist/internal-node.js';
import { accuracyAtLeast, accuracyCard } from '../../../test-fixtures/model-card.mjs';
import { HISTORICAL, REFERENCE_KEYS, cleanupTempDirs, ecKeyPair, expectCode, tempDir, writeTree } from './helpers.js';

const ACCURACY = accuracyAtLeast(0.9);
const card = (accuracy: number) => accuracyCard(accuracy);

interface Party {
  publicKey: string;
  signer: KeySigner;
}

let work: string;
let model: string;
const parties: Record<string, Party> = {};

async function party(name: string): Promise<Party> {
  if (!parties[name]) {
    const pair = ecKeyPair();
    parties[name] = { publicKey: pair.publicKey, signer: await KeySigner.create({ privateKey: pair.privateKey }) };
  }
  return parties[name];
}

beforeAll(async () => {
  work = await tempDir('oms-policy-');
  model = path.join(work, 'tiny');
  await writeTree(model, { 'model.safetensors': 'weights v1', 'config.json': '{"layers": 2}' });
});
afterAll(cleanupTempDirs);

let files = 0;
/** A fresh claims file; each step appends to it: `sign` an OMS signature, `attest` a claim. */
function claimsFile() {
  const file = path.join(work, `claims-${++files}.jsonl`);
  const steps = {
    file,
    async sign(who: string, of = model) {
      await signModel({ modelPath: of, signaturePath: file, signer: (await party(who)).signer, cacheDir: path.join(work, 'cache') });
      return steps;
    },
    async attest(who: string, accuracy: number, of = model) {
      await attest({
        modelPath: of,
        claimsPath: file,
        signer: (await party(who)).signer,
        predicateType: CYCLONEDX_PREDICATE_TYPE,
        predicate: card(accuracy),
      });
      return steps;
    },
    async bytes() {
      return new Uint8Array(await fs.readFile(file));
    },
  };
  return steps;
}

/** A policy over key authorities (inline PEM) with one rule for the test model's folder, or the rules given. */
async function policyOf(
  authorities: string[],
  rule: Partial<PolicyDocument['rules'][number]>,
  more: PolicyDocument['rules'] = [],
  verifiers: AuthorityVerifiers = nodeAuthorityVerifiers(),
): Promise<Policy> {
  const document: PolicyDocument = {
    version: 1,
    authorities: Object.fromEntries(
      await Promise.all(authorities.map(async (a) => [a, { key: { pem: (await party(a.replace(/-again$/, ''))).publicKey } }])),
    ),
    rules: [{ name: 'tiny', match: { path: `${work}/**` }, ...rule }, ...more],
  };
  return compilePolicy(JSON.stringify(document), { name: 'policy.json', verifiers });
}

async function decide(
  policy: Policy,
  claims: { bytes(): Promise<Uint8Array>; file: string },
  identity?: ModelIdentity,
): Promise<PolicyDecision> {
  const { decision } = await explainPolicy({
    policy,
    model: identity ?? { kind: 'path', path: model },
    bytes: await claims.bytes(),
    name: claims.file,
  });
  return decision;
}

const evaluation = (by: string[] = ['evaluator'], extra: object = {}) => ({
  name: 'evaluation',
  predicateType: CYCLONEDX_PREDICATE_TYPE,
  by,
  condition: ACCURACY,
  ...extra,
});

describe('which rule decides', () => {
  const selected = (policy: Policy, identity: ModelIdentity) => {
    const s = policy.select(identity);
    return s.kind === 'rule' ? s.rule.name : s.kind === 'ambiguous' ? `ambiguous: ${s.rules.map((r) => r.name).join(', ')}` : 'none';
  };
  let policy: Policy;
  beforeAll(async () => {
    const allow = { require: { signatures: { by: ['publisher'] } } };
    policy = await policyOf(['publisher'], { name: 'org', match: { huggingface: 'my-org/*' }, ...allow }, [
      { name: 'org models', match: { huggingface: 'my-org/model-*' }, ...allow },
      { name: 'model-x', match: { huggingface: 'my-org/model-x' }, ...allow },
      { name: 'model-x pinned', match: { huggingface: 'my-org/model-x', revision: 'abc123' }, ...allow },
      { name: 'a-prefix', match: { huggingface: 'other/a*' }, ...allow },
      { name: 'a-suffix', match: { huggingface: 'other/*a' }, ...allow },
      { name: 'untrusted', match: { huggingface: 'my-org/scratch-*' }, deny: 'scratch models are never loaded' },
      { name: 'models', match: { path: '/srv/models/**' }, ...allow },
      { name: 'team-a', match: { path: '/srv/models/team-a/**' }, ...allow },
      { name: 'one level', match: { path: '/opt/*/model' }, ...allow },
      { name: 'site', match: { url: 'https://models.example.com/org' }, ...allow },
      { name: 'oci', match: { oci: 'ghcr.io/my-org/*' }, ...allow },
      { name: 'oci tag', match: { oci: 'ghcr.io/my-org/*', tag: 'v1' }, ...allow },
      { name: 'oci digest', match: { oci: 'ghcr.io/my-org/*', digest: `sha256:${'a'.repeat(64)}` }, ...allow },
      { name: 'docker hub', match: { oci: 'ubuntu' }, ...allow },
    ]);
  });

  it('takes the most specific: a pinned revision, then an exact name, then more literal characters', () => {
    const hf = (repo: string, revision?: string): ModelIdentity => ({ kind: 'huggingface', repo, ...(revision ? { revision } : {}) });
    expect(selected(policy, hf('my-org/model-x', 'abc123'))).toBe('model-x pinned');
    expect(selected(policy, hf('my-org/model-x', 'main'))).toBe('model-x');
    expect(selected(policy, hf('my-org/model-y'))).toBe('org models');
    expect(selected(policy, hf('my-org/other'))).toBe('org');
    // Hub names are case-insensitive: a deny rule cannot be dodged by spelling.
    expect(selected(policy, hf('My-Org/Scratch-1'))).toBe('untrusted');
    expect(selected(policy, hf('someone/else'))).toBe('none');
  });

  it('matches globs in linear time: a pattern that makes a backtracking matcher explode does not', async () => {
    const nasty = await policyOf(['publisher'], {
      name: 'nasty',
      match: { huggingface: `x/${'*a'.repeat(12)}*c` },
      require: { signatures: { by: ['publisher'] } },
    });
    // 12 stars against 20,000 'a's without the final 'c': a backtracking glob tries ~20,000^12 splits; RE2 reads the name once.
    expect(selected(nasty, { kind: 'huggingface', repo: `x/${'a'.repeat(20_000)}` })).toBe('none');
    expect(selected(nasty, { kind: 'huggingface', repo: `x/${'a'.repeat(20_000)}c` })).toBe('nasty');
  });

  it('refuses two equally specific rules that both match, whatever their order', () => {
    expect(selected(policy, { kind: 'huggingface', repo: 'other/aa' })).toBe('ambiguous: a-prefix, a-suffix');
    expect(selected(policy, { kind: 'huggingface', repo: 'other/ab' })).toBe('a-prefix');
  });

  it('matches paths by glob: ** crosses folders and covers the folder itself, * does not', () => {
    expect(selected(policy, { kind: 'path', path: '/srv/models/team-a/bert' })).toBe('team-a');
    expect(selected(policy, { kind: 'path', path: '/srv/models/team-a' })).toBe('team-a');
    expect(selected(policy, { kind: 'path', path: '/srv/models/team-b/x/y' })).toBe('models');
    expect(selected(policy, { kind: 'path', path: '/srv/models/../secrets/x' })).toBe('none');
    expect(selected(policy, { kind: 'path', path: '/opt/bert/model' })).toBe('one level');
    expect(selected(policy, { kind: 'path', path: '/opt/a/b/model' })).toBe('none');
  });

  it('matches URL prefixes at a path-segment boundary, after normalising the URL', () => {
    expect(selected(policy, { kind: 'url', url: 'https://models.example.com/org/tiny/model.onnx' })).toBe('site');
    expect(selected(policy, { kind: 'url', url: 'https://MODELS.example.com:443/org/%74iny?x=1' })).toBe('site');
    expect(selected(policy, { kind: 'url', url: 'https://models.example.com/organisation/tiny' })).toBe('none');
    expect(selected(policy, { kind: 'url', url: 'https://models.example.com.evil.test/org/tiny' })).toBe('none');
    expect(() => policy.select({ kind: 'url', url: 'https://user:pw@models.example.com/org/x' })).toThrow(/credentials/);
  });

  it('matches OCI references with Docker’s defaults, a digest pin over a tag pin over none', () => {
    expect(selected(policy, { kind: 'oci', reference: 'ghcr.io/my-org/tiny' })).toBe('oci');
    expect(selected(policy, { kind: 'oci', reference: 'GHCR.io/my-org/tiny:v1' })).toBe('oci tag');
    expect(selected(policy, { kind: 'oci', reference: `ghcr.io/my-org/tiny:v1@sha256:${'a'.repeat(64)}` })).toBe('oci digest');
    expect(selected(policy, { kind: 'oci', reference: 'ubuntu:24.04' })).toBe('docker hub');
    expect(selected(policy, { kind: 'oci', reference: 'docker.io/library/ubuntu' })).toBe('docker hub');
  });

  it('explains a model no rule matches, a deny rule and an ambiguous match as refusals', async () => {
    const claims = await claimsFile().sign('publisher');
    const none = await decide(policy, claims, { kind: 'huggingface', repo: 'someone/else', revision: 'main' });
    expect(none).toMatchObject({
      allowed: false,
      reason: 'no rule matches Hugging Face repo someone/else at revision main, and what no rule allows is refused',
    });
    const denied = await decide(policy, claims, { kind: 'huggingface', repo: 'my-org/scratch-2' });
    expect(denied).toMatchObject({
      allowed: false,
      rule: { name: 'untrusted' },
      reason: "rule 'untrusted' denies it: scratch models are never loaded",
    });
    expect(denied.alsoMatched.map((r) => r.name)).toEqual(['org']);
    const ambiguous = await decide(policy, claims, { kind: 'huggingface', repo: 'other/aa' });
    expect(ambiguous.reason).toMatch(
      /rules 'a-prefix' \(huggingface other\/a\*\) and 'a-suffix' \(huggingface other\/\*a\) both match with the same specificity/,
    );
  });
});

describe('requirements over signatures and claims', () => {
  it('accepts the publisher’s signature with the evaluator’s claim above the threshold, and says what counted', async () => {
    const policy = await policyOf(['publisher', 'evaluator'], { require: { signatures: { by: ['publisher'] }, claims: [evaluation()] } });
    const claims = await (await claimsFile().sign('publisher')).attest('evaluator', 0.93);
    const accepted = await evaluatePolicy({ policy, model: { kind: 'path', path: model }, bytes: await claims.bytes(), name: claims.file });
    expect(accepted.source).toEqual({ file: claims.file, layout: 'claims', line: 1, lines: 2, warnings: [] });
    expect(accepted.signers).toEqual([
      { authority: 'publisher', signer: expect.objectContaining({ method: 'key' }), file: claims.file, line: 1 },
    ]);
    expect(accepted.claims).toEqual([
      expect.objectContaining({ requirement: 'evaluation', authority: 'evaluator', line: 2, predicate: card(0.93) }),
    ]);
    expect(accepted.decision).toMatchObject({ allowed: true, rule: { name: 'tiny' }, reason: "rule 'tiny': every requirement is met" });
    expect(accepted.manifest.resources.map((r) => r.name).sort()).toEqual(['config.json', 'model.safetensors']);
    expect(formatDecision(accepted.decision).at(-1)).toBe("ALLOWED: rule 'tiny': every requirement is met");
  });

  it('refuses without the claim, below the threshold (showing the value), or with the claim by another key', async () => {
    const policy = await policyOf(['publisher', 'evaluator'], { require: { signatures: { by: ['publisher'] }, claims: [evaluation()] } });
    const missing = await decide(policy, await claimsFile().sign('publisher'));
    expect(missing.reason).toBe(`rule 'tiny' requires claim 'evaluation': no claim of type <${CYCLONEDX_PREDICATE_TYPE}> is present`);

    const low = await decide(policy, await (await claimsFile().sign('publisher')).attest('evaluator', 0.85));
    expect(low.reason).toMatch(
      /^rule 'tiny' requires claim 'evaluation': .*claims-\d+\.jsonl line 2 by evaluator: the condition is false; it saw predicate.metadata.component.modelCard.quantitativeAnalysis.performanceMetrics = \[\{"type": "accuracy", "value": "0.85"\}\]$/,
    );
    const evidence = low.requirements[1].evidence[0];
    expect(evidence).toMatchObject({ outcome: 'condition-false', authority: 'evaluator', line: 2 });
    expect(evidence.seen?.[0]).toEqual({
      expression: 'predicate.metadata.component.modelCard.quantitativeAnalysis.performanceMetrics',
      value: '[{"type": "accuracy", "value": "0.85"}]',
    });

    const impostor = await decide(policy, await (await claimsFile().sign('publisher')).attest('mallory', 0.99));
    expect(impostor.reason).toBe("rule 'tiny' requires claim 'evaluation': no claim of this type is verified as by evaluator");
    expect(impostor.requirements[1].evidence[0]).toMatchObject({
      outcome: 'not-by-authority',
      message: expect.stringMatching(/another key/),
    });
  });

  it('refuses a model signed by another key, naming the rule and the signer it saw', async () => {
    const policy = await policyOf(['publisher'], { require: { signatures: { by: ['publisher'] } } });
    const decision = await decide(policy, await claimsFile().sign('mallory'));
    expect(decision.reason).toBe("rule 'tiny' requires signed by publisher: no OMS signature is by publisher");
    expect(decision.requirements[0].evidence).toEqual([
      expect.objectContaining({
        outcome: 'not-by-authority',
        line: 1,
        message: expect.stringMatching(
          /^signed by key [0-9a-f]{16}… \(unverified\), not by publisher \(publisher: The signature was made by another key/,
        ),
      }),
    ]);
    expect(formatDecision(decision).join('\n')).toMatch(/FAILED {2}signatures: signed by publisher/);
  });

  it('counts distinct signers for k-of-n: 2 of 3 accepts two, refuses one, one signing twice, or one key under two names', async () => {
    const release = await policyOf(['alice', 'bob', 'carol'], { require: { signatures: { by: ['alice', 'bob', 'carol'], count: 2 } } });
    expect((await decide(release, await (await claimsFile().sign('alice')).sign('bob'))).allowed).toBe(true);
    const one = await decide(release, await claimsFile().sign('alice'));
    expect(one.reason).toBe(
      "rule 'tiny' requires 2 distinct signers among alice, bob and carol: only 1 of the 2 distinct signers required: alice",
    );
    const twice = await decide(release, await (await claimsFile().sign('alice')).sign('alice'));
    expect(twice.allowed).toBe(false);
    expect(twice.requirements[0].evidence.map((e) => e.outcome)).toEqual(['counted', 'same-signer']);
    // The same key listed under two names is still one signer (TUF's lesson).
    const aliased = await policyOf(['alice', 'alice-again', 'bob'], {
      require: { signatures: { by: ['alice', 'alice-again', 'bob'], count: 2 } },
    });
    const sneaky = await decide(aliased, await claimsFile().sign('alice'));
    expect(sneaky.allowed).toBe(false);
    expect(sneaky.requirements[0].reason).toMatch(/only 1 of the 2/);
  });

  it('counts only signatures of these exact files: a newer signature of other files leaves the older one deciding', async () => {
    const policy = await policyOf(['publisher', 'evaluator'], { require: { signatures: { by: ['publisher'] }, claims: [evaluation()] } });
    const changed = path.join(work, 'tiny-v2');
    await writeTree(changed, { 'model.safetensors': 'weights v2', 'config.json': '{"layers": 2}' });
    const claims = await (await (await claimsFile().sign('publisher')).attest('evaluator', 0.95)).sign('publisher', changed);
    const { decision, accepted } = await explainPolicy({
      policy,
      model: { kind: 'path', path: model },
      bytes: await claims.bytes(),
      name: claims.file,
    });
    expect(decision.allowed).toBe(true);
    expect(accepted?.source.line).toBe(1); // the v2 signature (line 3) has no evaluation
    expect(decision.requirements[0].evidence.map((e) => [e.line, e.outcome])).toEqual([
      [3, 'other-model'],
      [1, 'counted'],
    ]);
  });

  it('refuses a claim about another model, and a claim whose signature was tampered with', async () => {
    const policy = await policyOf(['publisher', 'evaluator'], { require: { signatures: { by: ['publisher'] }, claims: [evaluation()] } });
    const other = await claimsFile().sign('publisher');
    const claim = await createClaim({
      subject: { name: 'tiny', rootDigest: 'ab'.repeat(32) },
      predicateType: CYCLONEDX_PREDICATE_TYPE,
      predicate: card(0.99),
      signer: (await party('evaluator')).signer,
    });
    await appendClaim(other.file, claim);
    const aboutOther = await decide(policy, other);
    expect(aboutOther.requirements[1].evidence[0]).toMatchObject({
      outcome: 'other-model',
      message: expect.stringMatching(/^it is about sha256:abab/),
    });
    expect(aboutOther.allowed).toBe(false);

    const tampered = await (await claimsFile().sign('publisher')).attest('evaluator', 0.5);
    const lines = (await fs.readFile(tampered.file, 'utf8')).split('\n');
    const bundle = JSON.parse(lines[1]) as { dsseEnvelope: { payload: string } };
    const statement = Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString().replace('"0.5"', '"0.99"');
    bundle.dsseEnvelope.payload = Buffer.from(statement).toString('base64');
    lines[1] = JSON.stringify(bundle);
    await fs.writeFile(tampered.file, lines.join('\n'));
    const forged = await decide(policy, tampered);
    expect(forged.allowed).toBe(false);
    expect(forged.requirements[1].evidence[0]).toMatchObject({
      outcome: 'signature-invalid',
      message: expect.stringMatching(/SIGNATURE_INVALID/),
    });
  });

  it('refuses when a condition runs past its limit or fails, and when the decision’s budget is spent', async () => {
    const runaway =
      'predicate.metadata.component.name.size() > 0 && [1,2,3,4,5,6,7,8,9,10].all(a, [1,2,3,4,5,6,7,8,9,10].all(b, [1,2,3,4,5,6,7,8,9,10].all(c, [1,2,3,4,5,6,7,8,9,10].all(d, [1,2,3,4,5,6,7,8,9,10].all(e, [1,2,3,4,5,6,7,8,9,10].all(f, true))))))';
    const claims = await (await claimsFile().sign('publisher')).attest('evaluator', 0.93);
    const limited = await decide(
      await policyOf(['publisher', 'evaluator'], {
        require: { signatures: { by: ['publisher'] }, claims: [evaluation(['evaluator'], { condition: runaway })] },
      }),
      claims,
    );
    expect(limited.allowed).toBe(false);
    expect(limited.requirements[1].evidence[0]).toMatchObject({
      outcome: 'condition-error',
      message: 'the condition failed: the condition ran past its cost limit (1000000 units)',
    });
    const failing = await decide(
      await policyOf(['publisher', 'evaluator'], {
        require: { signatures: { by: ['publisher'] }, claims: [evaluation(['evaluator'], { condition: 'predicate.nope > 1' })] },
      }),
      claims,
    );
    expect(failing.requirements[1].evidence[0]).toMatchObject({ outcome: 'condition-error', message: expect.stringMatching(/nope/) });
  });

  it('needs k distinct evaluators when a claim requirement says so', async () => {
    const policy = await policyOf(['publisher', 'evaluator', 'evaluator2'], {
      require: { signatures: { by: ['publisher'] }, claims: [evaluation(['evaluator', 'evaluator2'], { count: 2 })] },
    });
    const one = await (await claimsFile().sign('publisher')).attest('evaluator', 0.93);
    expect((await decide(policy, one)).reason).toMatch(/only 1 of the 2 distinct signers required attested/);
    expect((await decide(policy, await one.attest('evaluator2', 0.91))).allowed).toBe(true);
  });

  it('reads claims from a second file beside a model.sig', async () => {
    const policy = await policyOf(['publisher', 'evaluator'], { require: { signatures: { by: ['publisher'] }, claims: [evaluation()] } });
    const sig = path.join(work, 'model.sig');
    await signModel({
      modelPath: model,
      signaturePath: sig,
      signer: (await party('publisher')).signer,
      cacheDir: path.join(work, 'cache'),
    });
    const extra = await claimsFile().attest('evaluator', 0.93);
    const bytes = await readSignatureFile(sig);
    const alone = await explainPolicy({ policy, model: { kind: 'path', path: model }, bytes, name: sig });
    expect(alone.decision.allowed).toBe(false);
    const both = await explainPolicy({
      policy,
      model: { kind: 'path', path: model },
      bytes,
      name: sig,
      claims: { source: await extra.bytes(), name: extra.file },
    });
    expect(both.decision.allowed).toBe(true);
    expect(both.accepted?.source).toEqual({ file: sig, layout: 'bundle', warnings: [] });
  });

  it('never fails open: a verifier that throws something unexpected refuses the model', async () => {
    const base = nodeAuthorityVerifiers();
    const broken: AuthorityVerifiers = {
      ...base,
      key: async (pem) => {
        const verifier = await base.key(pem);
        return { method: verifier.method, verify: () => Promise.reject(new TypeError('a bug in a verifier')) };
      },
    };
    const policy = await policyOf(['publisher'], { require: { signatures: { by: ['publisher'] } } }, [], broken);
    const decision = await decide(policy, await claimsFile().sign('publisher'));
    expect(decision).toMatchObject({ allowed: false, reason: "rule 'tiny' could not be evaluated: a bug in a verifier" });
    const err = await expectCode(
      evaluatePolicy({ policy, model: { kind: 'path', path: model }, bytes: new Uint8Array(), name: 'x.jsonl' }),
      'POLICY_DENIED',
    );
    expect(err).toBeInstanceOf(PolicyDeniedError);
    const aborted = AbortSignal.abort();
    await expectCode(
      explainPolicy({ policy, model: { kind: 'path', path: model }, bytes: new Uint8Array(), abortSignal: aborted }),
      'ABORTED',
    );
  });

  it('verifyModel with a policy: accepted, then every file checked; a changed file still fails', async () => {
    const policy = await policyOf(['publisher', 'evaluator'], { require: { signatures: { by: ['publisher'] }, claims: [evaluation()] } });
    const claims = await (await claimsFile().sign('publisher')).attest('evaluator', 0.93);
    const result = await verifyModel({ modelPath: model, signaturePath: claims.file, policy, cacheDir: path.join(work, 'cache') });
    expect(result.files.sort()).toEqual(['config.json', 'model.safetensors']);
    expect(result.policy?.decision.allowed).toBe(true);
    const copy = path.join(work, 'tiny-copy');
    await fs.cp(model, copy, { recursive: true });
    await fs.writeFile(path.join(copy, 'model.safetensors'), 'weights v1 changed');
    await expectCode(
      verifyModel({ modelPath: copy, signaturePath: claims.file, policy, cacheDir: path.join(work, 'cache') }),
      'DIGEST_MISMATCH',
    );
    await expectCode(verifyModel({ modelPath: model, signaturePath: claims.file, cacheDir: path.join(work, 'cache') }), 'INVALID_ARGUMENT');
  });
});

describe('certificate and Sigstore authorities', () => {
  const certificateDir = path.join(HISTORICAL, 'v1.1.0-certificate');
  const sigstoreDir = path.join(HISTORICAL, 'v1.1.0-sigstore');

  const decideWith = async (authority: object, dir: string) => {
    const policy = await compilePolicy(
      JSON.stringify({
        version: 1,
        authorities: { signer: authority },
        rules: [{ name: 'reference', match: { path: '/**' }, require: { signatures: { by: ['signer'] } } }],
      }),
      { name: 'policy.json', verifiers: nodeAuthorityVerifiers({ offline: true }) },
    );
    const { decision } = await explainPolicy({
      policy,
      model: { kind: 'path', path: dir },
      bytes: await readSignatureFile(path.join(dir, 'model.sig')),
      name: 'model.sig',
    });
    return decision;
  };

  it('pins a certificate signer by subject, refusing another subject', async () => {
    const root = await fs.readFile(path.join(REFERENCE_KEYS, 'ca-cert.pem'), 'utf8');
    const verifier = await CertificateVerifier.create({ certificateChain: [Buffer.from(root)] });
    const { parseBundle } = await import('../dist/internal.js');
    const subject = (await verifier.verify(parseBundle(await readSignatureFile(path.join(certificateDir, 'model.sig')))))
      .certificateSubject!;
    expect((await decideWith({ certificate: { roots: [{ pem: root }], subject } }, certificateDir)).allowed).toBe(true);
    const other = await decideWith({ certificate: { roots: [{ pem: root }], subject: 'CN=someone else' } }, certificateDir);
    expect(other.allowed).toBe(false);
    expect(other.requirements[0].evidence[0].message).toMatch(/is not the required 'CN=someone else'/);
  });

  it('checks Sigstore identities and issuers exactly or by RE2 expression (production bundle, offline)', async () => {
    const issuer = 'https://sigstore.verify.ibm.com/oauth2';
    expect((await decideWith({ sigstore: { identity: 'stefanb@us.ibm.com', issuer } }, sigstoreDir)).allowed).toBe(true);
    expect(
      (
        await decideWith(
          { sigstore: { identityRegExp: '[^@]+@us\\.ibm\\.com', issuerRegExp: 'https://sigstore\\.verify\\.ibm\\.com/.*' } },
          sigstoreDir,
        )
      ).allowed,
    ).toBe(true);
    const wrongIdentity = await decideWith({ sigstore: { identityRegExp: '.*@example\\.com', issuer } }, sigstoreDir);
    expect(wrongIdentity.requirements[0].evidence[0].message).toMatch(
      /made by 'stefanb@us\.ibm\.com', which does not match \/\.\*@example\\\.com\//,
    );
    const wrongIssuer = await decideWith(
      { sigstore: { identity: 'stefanb@us.ibm.com', issuerRegExp: 'https://accounts\\.google\\.com' } },
      sigstoreDir,
    );
    expect(wrongIssuer.requirements[0].evidence[0].message).toMatch(
      /issued for OIDC issuer 'https:\/\/sigstore\.verify\.ibm\.com\/oauth2', which does not match/,
    );
    // A key authority is not a Sigstore identity.
    const key = await decideWith({ key: { pem: ecKeyPair().publicKey } }, sigstoreDir);
    expect(key.requirements[0].evidence[0]).toMatchObject({ outcome: 'not-by-authority' });
  });
});
