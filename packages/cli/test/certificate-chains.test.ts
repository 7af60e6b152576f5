// The certificate-path matrix: chains made with Python's `cryptography`
// (test-fixtures/make_chains.py), each signed once by the reference (its
// Python API, all in one process), then verified by the reference and by our
// CLI. Our verdict must be the expected one,
// with CERT_CHAIN_INVALID and a message naming the certificate and the rule;
// the reference's verdict is recorded beside it, and where the two differ the
// case says why.
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REFERENCE_PYTHON, REPO_ROOT, cleanupTempDirs, ours, tempDir, type RunResult } from './helpers.js';

interface Case {
  /** Our refusal (a pattern naming the certificate and the rule), or null when we accept. */
  ours: RegExp | null;
  /** The reference's refusal (its OpenSSL or usage message), or null when it accepts. */
  reference: RegExp | null;
  /** Why the verdicts differ, when they do. */
  differs?: string;
}

const INTERMEDIATE_1 = "'O=OMS Test, CN=OMS Test Intermediate 1'";
const SIGNER = "'O=OMS Test, CN=OMS Test Signer'";
const ROOT = "'O=OMS Test, CN=OMS Test Root'";
const ESCAPED = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const naming = (cert: string, rule: string) => new RegExp(`${ESCAPED(cert)}.*${rule}`);
const LEAF_RULES =
  'the reference accepts any leaf with key usage digitalSignature or extended key usage codeSigning; we require a key that may not certify, whose key usage, if present, includes digitalSignature and whose extended key usage, if present, includes codeSigning (RFC 5280, CA/Browser Forum code signing requirements)';
const REFERENCE_CHECKS_AT_NOT_BEFORE =
  "the reference validates the chain at the leaf's notBefore and so ignores expiry; we require every certificate to be valid now";

const CASES: Record<string, Case> = {
  good: { ours: null, reference: null },
  'two-intermediates': { ours: null, reference: null },
  // PKI.js alone cannot check an Ed25519 issuer signature; certificate-path.ts teaches it.
  'ed25519-root': { ours: null, reference: null },
  'intermediate-path-length-exceeded': {
    ours: naming(INTERMEDIATE_1, 'pathLenConstraint 0\\) but the path has 1'),
    reference: /path length constraint exceeded/,
  },
  'root-path-length-exceeded': {
    ours: naming(ROOT, 'pathLenConstraint 0\\) but the path has 1'),
    reference: /path length constraint exceeded/,
  },
  'intermediate-not-ca': {
    ours: naming(INTERMEDIATE_1, 'is not a CA \\(basicConstraints cA is not set\\)'),
    reference: /invalid CA certificate/,
  },
  'intermediate-without-key-cert-sign': {
    ours: naming(INTERMEDIATE_1, 'does not include keyCertSign'),
    reference: /invalid CA certificate/,
  },
  'expired-intermediate': { ours: naming(INTERMEDIATE_1, 'has expired'), reference: null, differs: REFERENCE_CHECKS_AT_NOT_BEFORE },
  'expired-leaf': { ours: naming(SIGNER, 'has expired'), reference: null, differs: REFERENCE_CHECKS_AT_NOT_BEFORE },
  'not-yet-valid-leaf': { ours: naming(SIGNER, 'is not valid yet'), reference: null, differs: REFERENCE_CHECKS_AT_NOT_BEFORE },
  'unknown-critical-extension': {
    ours: naming(SIGNER, 'critical extension .*1\\.3\\.6\\.1\\.4\\.1\\.55555\\.1'),
    reference: /unhandled critical extension/,
  },
  'leaf-without-signing-usage': { ours: naming(SIGNER, 'may not be used for signing'), reference: /cannot be used for signing/ },
  // What a model-signing leaf must be (docs/hsm-kms.md, "What a signing certificate must be"): stricter than the reference,
  // which asks only for key usage digitalSignature or extended key usage codeSigning.
  'leaf-without-extended-key-usage': { ours: null, reference: null },
  'leaf-code-signing-without-key-usage': { ours: null, reference: null },
  'leaf-server-auth-only': {
    ours: naming(SIGNER, 'may not be used for signing: its extended key usage \\(serverAuth\\) does not include codeSigning'),
    reference: null,
    differs: LEAF_RULES,
  },
  'leaf-any-extended-key-usage': {
    ours: naming(SIGNER, 'extended key usage \\(anyExtendedKeyUsage\\) does not include codeSigning'),
    reference: null,
    differs: LEAF_RULES,
  },
  'leaf-code-signing-without-digital-signature': {
    ours: naming(SIGNER, 'its key usage does not include digitalSignature'),
    reference: null,
    differs: LEAF_RULES,
  },
  'leaf-ca': { ours: naming(SIGNER, "keyCertSign or cRLSign: it is a CA's key"), reference: null, differs: LEAF_RULES },
  'leaf-ca-without-key-usage': {
    ours: naming(SIGNER, 'it is a CA certificate \\(basicConstraints cA\\) and no key usage keeps its key from certifying'),
    reference: null,
    differs: LEAF_RULES,
  },
  // cA, but a key usage without keyCertSign: it cannot certify anything. The reference's test signing certificate is
  // such a certificate, and so the OMS spec's valid certificate vector and every historical certificate signature.
  'leaf-ca-whose-key-usage-excludes-cert-sign': { ours: null, reference: null },
  'leaf-key-cert-sign': { ours: naming(SIGNER, 'keyCertSign or cRLSign'), reference: null, differs: LEAF_RULES },
  'name-constraints-violated': { ours: naming(SIGNER, 'permitted sub-trees" name constraint'), reference: /permitted subtree violation/ },
  'wrong-issuer-signature': {
    ours: naming(SIGNER, `names ${ESCAPED(INTERMEDIATE_1)} as its issuer, but its signature does not verify`),
    reference: /certificate signature failure/,
  },
  'cross-signed-loop': { ours: naming(SIGNER, 'loop of cross-signed certificates'), reference: /unable to get local issuer certificate/ },
  'cross-signed-loop-beside-path': { ours: null, reference: null },
  'cross-signed-intermediate': {
    ours: null,
    reference: /unable to get local issuer certificate/,
    differs:
      "the reference's OpenSSL follows the first issuer candidate in the chain (cross-signed by a root it lacks) and does not go back; RFC 5280 path building finds the second",
  },
};

/** Runs `jobs` with at most `limit` at a time. */
async function pool<T>(jobs: Array<() => Promise<T>>, limit: number): Promise<T[]> {
  const results: T[] = new Array(jobs.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < jobs.length; i = next++) results[i] = await jobs[i]();
  };
  await Promise.all(Array.from({ length: limit }, worker));
  return results;
}

/** Per case: the reference's error message (null: it accepted) and our CLI's result. */
const verdicts = new Map<string, { ours: RunResult; reference: string | null }>();

beforeAll(async () => {
  const work = await tempDir('oms-chains-');
  const chains = path.join(work, 'chains');
  const model = path.join(work, 'model');
  await fs.mkdir(model);
  await fs.writeFile(path.join(model, 'weights.bin'), 'weights');
  await fs.writeFile(path.join(model, 'config.json'), '{}');
  // Makes the chains, then signs each with the reference and records its verdict (one Python process).
  await promisify(execFile)(REFERENCE_PYTHON, [path.join(REPO_ROOT, 'test-fixtures/make_chains.py'), chains, '--reference-sign', model]);
  const referenceVerdicts = JSON.parse(await fs.readFile(path.join(chains, 'cases.json'), 'utf8')) as Record<string, string | null>;
  expect(Object.keys(referenceVerdicts).sort()).toEqual(Object.keys(CASES).sort());
  const names = Object.keys(referenceVerdicts);
  const results = await pool(
    names.map(
      (name) => () =>
        ours([
          'verify',
          'certificate',
          model,
          '--signature',
          path.join(chains, name, 'model.sig'),
          '--certificate-chain',
          path.join(chains, name, 'root.pem'),
          '--json',
        ]),
    ),
    2,
  );
  names.forEach((name, i) => verdicts.set(name, { reference: referenceVerdicts[name]!, ours: results[i] }));
}, 120_000);

afterAll(cleanupTempDirs);

describe('certificate path validation matrix (reference-signed chains)', () => {
  for (const [name, expected] of Object.entries(CASES)) {
    const title = expected.differs
      ? `${name}: ours ${expected.ours ? 'refuses' : 'accepts'}, the reference ${expected.reference ? 'refuses' : 'accepts'} (${expected.differs})`
      : name;
    it(title, () => {
      const { ours: mine, reference: theirs } = verdicts.get(name)!;
      if (expected.reference) expect(theirs).toMatch(expected.reference);
      else expect(theirs).toBeNull();
      const result = JSON.parse(mine.stdout) as { ok: boolean; error?: { code: string; message: string } };
      if (expected.ours) {
        expect(mine.code).toBe(1);
        expect(result.ok).toBe(false);
        expect(result.error?.code).toBe('CERT_CHAIN_INVALID');
        expect(result.error?.message).toMatch(expected.ours);
      } else {
        expect(result, mine.stderr).toMatchObject({ ok: true });
        expect(mine.code).toBe(0);
      }
    });
  }
});
