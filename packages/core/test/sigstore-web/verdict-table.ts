// The one list of Sigstore verification cases that both the Node test
// (sigstore-web.test.ts: WebSigstoreVerifier and SigstoreVerifier in Node)
// and the Chromium test (browser/sigstore-in-browser.test.ts) run, each
// with the verdict every verifier must give: the reference's production
// bundles, bundles signed in the test against two loopback Sigstore
// instances, and every way such a bundle, its trusted root or the identity
// policy can be wrong. The instances: real Fulcio, Rekor v2 and TSA servers
// (test-fixtures/sigstore-instance.mjs), and @sigstore/mock
// (sigstore/mock-instance.ts) for Rekor v1 bundles, which no real server
// here writes.
import { createHash, generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { SigstoreSigner, SigstoreVerifier, signModel } from '../../dist/index.js';
import { HISTORICAL, SPEC_VECTORS, tempDir } from '../helpers.js';
import { startSigstoreInstance } from '../../../../test-fixtures/sigstore-instance.mjs';
import { startMockInstance, testIdentityToken } from '../sigstore/mock-instance.js';
import { STRUCTURE_CASES, TAMPER_CASES, withV03MediaTypeAlias, type BundleJson, type SigstoreCase, type SigstoreOptions } from './cases.js';
import { withRekorV2Entry, type RekorV2Form } from './rekor-v2.js';

export const PROD_IDENTITY = 'stefanb@us.ibm.com';
export const PROD_ISSUER = 'https://sigstore.verify.ibm.com/oauth2';
export const MOCK_IDENTITY = 'alice@example.com';
export const MOCK_ISSUER = 'https://issuer.test.example';

/** The reference's production-signed bundles (model-signing 0.3.1 to 1.1.0) and the OMS spec's copy of the 1.1.0 one. */
export const PRODUCTION_VECTORS = [
  ...['v0.3.1', 'v1.0.0', 'v1.0.1', 'v1.1.0'].map((v) => ({
    name: `${v}-sigstore`,
    modelDir: path.join(HISTORICAL, `${v}-sigstore`),
    signature: path.join(HISTORICAL, `${v}-sigstore`, 'model.sig'),
    ignorePaths: v === 'v1.0.1' ? ['ignore-me'] : [],
  })),
  {
    name: 'oms-spec sigstore.bundle.json',
    modelDir: path.join(HISTORICAL, 'v1.1.0-sigstore'),
    signature: path.join(SPEC_VECTORS, 'valid/sigstore.bundle.json'),
    ignorePaths: [],
  },
];

/** The Node verifier for a case's options; a custom root goes through a trust config file, as the CLI takes it. */
export async function nodeSigstoreVerifier(options: SigstoreOptions): Promise<SigstoreVerifier> {
  const { trustedRoot, ...rest } = options;
  if (trustedRoot === undefined) return SigstoreVerifier.create({ ...rest, offline: true });
  const file = path.join(await tempDir('sigweb-trust-'), 'trust_config.json');
  await fs.writeFile(file, JSON.stringify(trustedRoot));
  return SigstoreVerifier.create({ ...rest, trustConfig: file });
}

/** The production Fulcio CAs, for a root that trusts another CA than the one that issued. */
async function productionFulcio(): Promise<BundleJson> {
  const seeds = JSON.parse(await fs.readFile(new URL(import.meta.resolve('@sigstore/tuf/seeds.json')), 'utf8')) as Record<
    string,
    { targets: Record<string, string> }
  >;
  const root = Buffer.from(seeds['https://tuf-repo-cdn.sigstore.dev'].targets['trusted_root.json'], 'base64').toString('utf8');
  return JSON.parse(root).certificateAuthorities;
}

async function tampered(bundle: string, tamper: (b: BundleJson) => void | Promise<void>): Promise<string> {
  const json = JSON.parse(bundle);
  await tamper(json);
  return JSON.stringify(json);
}

/** A checkpoint signature whose name is the log's name written as a regular expression: sigstore-js matches names as patterns. */
function nameAsPattern(bundle: BundleJson): void {
  const checkpoint = bundle.verificationMaterial.tlogEntries[0].inclusionProof.checkpoint;
  checkpoint.envelope = checkpoint.envelope.replace(
    /\u2014 (\S+) /,
    (_: string, name: string) => `\u2014 ${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} `,
  );
}

/** The bundles and verdicts shared by both runtimes, and the loopback-signed models for tests that load files. */
export interface SigstoreTable {
  cases: SigstoreCase[];
  /** The model signed against the @sigstore/mock instance (Rekor v1), its signature, and the instance's trust config. */
  mock: { modelDir: string; signaturePath: string; trustConfig: BundleJson };
  /** The same model signed against the real instance (Rekor v2), its signature, the instance's trust config and OIDC issuer. */
  real: { modelDir: string; signaturePath: string; trustConfig: BundleJson; issuer: string };
  close(): Promise<void>;
}

export const REAL_IDENTITY = 'alice@example.com';

/**
 * Signs `modelDir` twice against the real instance (Rekor v2, a TSA) and
 * lists its cases: the verdicts on the bundle, the tampering that applies to
 * a Rekor v2 bundle, the log entry and the timestamp of the other signature
 * (a log or TSA that answered for other bytes), and roots that do not vouch
 * for its log, TSA or CA. The instance is stopped once both are signed.
 */
async function realInstanceCases(modelDir: string): Promise<{ cases: SigstoreCase[]; real: SigstoreTable['real'] }> {
  const instance = await startSigstoreInstance();
  const dir = await tempDir('sigweb-real-');
  const signed: string[] = [];
  try {
    for (const name of ['model.sig', 'other.sig']) {
      const signer = await SigstoreSigner.create({
        identityToken: instance.identityToken({ email: REAL_IDENTITY }),
        trustConfig: instance.trustConfigPath,
      });
      await signModel({ modelPath: modelDir, signer, signaturePath: path.join(dir, name) });
      signed.push(await fs.readFile(path.join(dir, name), 'utf8'));
    }
  } finally {
    await instance.close();
  }
  const [bundle, other] = signed as [string, string];
  const trustConfig = instance.trustConfig();
  const issuer = instance.urls.oidc;
  const real = { identity: REAL_IDENTITY, identityProvider: issuer, trustedRoot: trustConfig };
  const withRoot = (alter: (root: BundleJson) => void): BundleJson => {
    const config = structuredClone(trustConfig);
    alter(config.trustedRoot);
    return config;
  };
  const otherMaterial = JSON.parse(other).verificationMaterial;
  const fulcio = await productionFulcio();
  const named = (name: string) => `real instance, Rekor v2: ${name}`;
  const cases: SigstoreCase[] = [
    { name: named("the signer's identity and issuer"), bundle, options: real, expected: 'ok' },
    {
      name: named('an identity regular expression'),
      bundle,
      options: { identityRegExp: 'alice@example\\.(com|org)', identityProvider: issuer, trustedRoot: trustConfig },
      expected: 'ok',
    },
    { name: named('another identity'), bundle, options: { ...real, identity: 'mallory@example.com' }, expected: 'IDENTITY_MISMATCH' },
    {
      name: named('another issuer'),
      bundle,
      options: { ...real, identityProvider: 'https://accounts.google.com' },
      expected: 'IDENTITY_MISMATCH',
    },
    {
      name: named('the production trusted root'),
      bundle,
      options: { identity: REAL_IDENTITY, identityProvider: issuer },
      expected: 'CERT_CHAIN_INVALID',
    },
    {
      name: named('a chain to a CA the trusted root does not hold (production Fulcio instead)'),
      bundle,
      options: { ...real, trustedRoot: withRoot((root) => (root.certificateAuthorities = fulcio)) },
      expected: 'CERT_CHAIN_INVALID',
    },
    {
      name: named('a checkpoint the log key of the trusted root did not sign (another Ed25519 key for the log)'),
      bundle,
      options: {
        ...real,
        trustedRoot: withRoot(
          (root) =>
            (root.tlogs[0].publicKey.rawBytes = generateKeyPairSync('ed25519')
              .publicKey.export({ type: 'spki', format: 'der' })
              .toString('base64')),
        ),
      },
      expected: 'SIGNATURE_INVALID',
    },
    {
      name: named('an RFC 3161 timestamp by an authority the root does not hold'),
      bundle,
      options: { ...real, trustedRoot: withRoot((root) => (root.timestampAuthorities = [])) },
      expected: 'CERT_CHAIN_INVALID',
    },
    {
      name: named("the log's entry for other bytes (another signature's)"),
      bundle: await tampered(bundle, (b) => (b.verificationMaterial.tlogEntries = otherMaterial.tlogEntries)),
      options: real,
      expected: 'SIGNATURE_INVALID',
    },
    {
      name: named("a timestamp over other bytes (another signature's)"),
      bundle: await tampered(bundle, (b) => (b.verificationMaterial.timestampVerificationData = otherMaterial.timestampVerificationData)),
      options: real,
      expected: 'CERT_CHAIN_INVALID',
    },
    {
      name: named('no RFC 3161 timestamp, so no verified time'),
      bundle: await tampered(bundle, (b) => {
        b.verificationMaterial.timestampVerificationData.rfc3161Timestamps = [];
      }),
      options: real,
      expected: 'CERT_CHAIN_INVALID',
    },
  ];
  for (const c of [...TAMPER_CASES.filter((c) => !c.rekorV1Only), ...STRUCTURE_CASES])
    cases.push({ name: named(c.name), bundle: await tampered(bundle, c.tamper), options: real, expected: c.code });
  return { cases, real: { modelDir, signaturePath: path.join(dir, 'model.sig'), trustConfig, issuer } };
}

/** Signs a small model against a loopback Sigstore instance and lists every case. */
export async function sigstoreTable(): Promise<SigstoreTable> {
  const cases: SigstoreCase[] = [];
  const prod = { identity: PROD_IDENTITY, identityProvider: PROD_ISSUER };

  for (const v of PRODUCTION_VECTORS) {
    const bundle = await fs.readFile(v.signature, 'utf8');
    cases.push(
      { name: `${v.name}: the signer's identity and issuer`, bundle, options: prod, expected: 'ok' },
      {
        name: `${v.name}: an identity regular expression`,
        bundle,
        options: { identityRegExp: '[a-z]+@us\\.ibm\\.com', identityProvider: PROD_ISSUER },
        expected: 'ok',
      },
      { name: `${v.name}: another identity`, bundle, options: { ...prod, identity: 'someone@us.ibm.com' }, expected: 'IDENTITY_MISMATCH' },
      {
        name: `${v.name}: another issuer`,
        bundle,
        options: { ...prod, identityProvider: 'https://accounts.google.com' },
        expected: 'IDENTITY_MISMATCH',
      },
      {
        name: `${v.name}: a regular expression matching only part of the identity`,
        bundle,
        options: { identityRegExp: 'stefanb@us\\.ibm\\.co', identityProvider: PROD_ISSUER },
        expected: 'IDENTITY_MISMATCH',
      },
      { name: `${v.name}: the staging trusted root`, bundle, options: { ...prod, useStaging: true }, expected: 'CERT_CHAIN_INVALID' },
      {
        name: `${v.name}: the other spelling of the v0.3 media type`,
        bundle: await tampered(bundle, withV03MediaTypeAlias),
        options: prod,
        expected: 'ok',
      },
    );
    for (const c of STRUCTURE_CASES)
      cases.push({ name: `${v.name}: ${c.name}`, bundle: await tampered(bundle, c.tamper), options: prod, expected: c.code });
  }
  const v110 = await fs.readFile(PRODUCTION_VECTORS[3].signature, 'utf8');
  for (const c of TAMPER_CASES)
    cases.push({ name: `v1.1.0-sigstore: ${c.name}`, bundle: await tampered(v110, c.tamper), options: prod, expected: c.code });
  cases.push({
    name: 'v1.1.0-sigstore: a checkpoint signature naming the log by a pattern',
    bundle: await tampered(v110, nameAsPattern),
    options: prod,
    expected: 'ok',
  });

  const instance = await startMockInstance();
  try {
    const trustConfig = JSON.parse(await fs.readFile(instance.trustConfigPath, 'utf8'));
    const dir = await tempDir('sigweb-');
    const modelDir = path.join(dir, 'model');
    await fs.mkdir(modelDir);
    await fs.writeFile(path.join(modelDir, 'weights.bin'), Buffer.from(Array.from({ length: 4096 }, (_, i) => i % 251)));
    await fs.writeFile(path.join(modelDir, 'config.json'), '{"layers": 2}');
    const signer = await SigstoreSigner.create({
      identityToken: testIdentityToken({ iss: MOCK_ISSUER, email: MOCK_IDENTITY }),
      trustConfig: instance.trustConfigPath,
    });
    const signaturePath = path.join(dir, 'model.sig');
    await signModel({ modelPath: modelDir, signer, signaturePath });
    const bundle = await fs.readFile(signaturePath, 'utf8');

    const mock = { identity: MOCK_IDENTITY, identityProvider: MOCK_ISSUER, trustedRoot: trustConfig };
    const withRoot = (alter: (root: BundleJson) => void): BundleJson => {
      const config = structuredClone(trustConfig);
      alter(config.trustedRoot);
      return config;
    };
    const fulcio = await productionFulcio();
    cases.push(
      { name: "loopback instance: the signer's identity and issuer", bundle, options: mock, expected: 'ok' },
      {
        name: 'loopback instance: an identity regular expression',
        bundle,
        options: { identityRegExp: 'alice@example\\.(com|org)', identityProvider: MOCK_ISSUER, trustedRoot: trustConfig },
        expected: 'ok',
      },
      {
        name: 'loopback instance: another identity',
        bundle,
        options: { ...mock, identity: 'mallory@example.com' },
        expected: 'IDENTITY_MISMATCH',
      },
      {
        name: 'loopback instance: another issuer',
        bundle,
        options: { ...mock, identityProvider: 'https://accounts.google.com' },
        expected: 'IDENTITY_MISMATCH',
      },
      {
        name: 'loopback instance: a regular expression that does not match',
        bundle,
        options: { identityRegExp: 'bob@example\\.com', identityProvider: MOCK_ISSUER, trustedRoot: trustConfig },
        expected: 'IDENTITY_MISMATCH',
      },
      {
        name: 'loopback instance: the production trusted root',
        bundle,
        options: { identity: MOCK_IDENTITY, identityProvider: MOCK_ISSUER },
        expected: 'CERT_CHAIN_INVALID',
      },
      {
        name: 'loopback instance: a chain to a CA the trusted root does not hold (production Fulcio instead)',
        bundle,
        options: { ...mock, trustedRoot: withRoot((root) => (root.certificateAuthorities = fulcio)) },
        expected: 'CERT_CHAIN_INVALID',
      },
      {
        name: 'loopback instance: an SCT that does not verify with the CT log key of the root',
        bundle,
        options: { ...mock, trustedRoot: withRoot((root) => (root.ctlogs[0].publicKey.rawBytes = root.tlogs[0].publicKey.rawBytes)) },
        expected: 'CERT_CHAIN_INVALID',
      },
      {
        name: 'loopback instance: an SET and checkpoint by a Rekor key the root does not hold',
        bundle,
        options: { ...mock, trustedRoot: withRoot((root) => (root.tlogs[0].publicKey.rawBytes = root.ctlogs[0].publicKey.rawBytes)) },
        expected: 'SIGNATURE_INVALID',
      },
      {
        name: 'loopback instance: an RFC 3161 timestamp by an authority the root does not hold',
        bundle,
        options: { ...mock, trustedRoot: withRoot((root) => (root.timestampAuthorities = [])) },
        expected: 'CERT_CHAIN_INVALID',
      },
      {
        name: 'loopback instance: a checkpoint signature naming the log by a pattern',
        bundle: await tampered(bundle, nameAsPattern),
        options: mock,
        expected: 'ok',
      },
    );
    for (const c of [...TAMPER_CASES, ...STRUCTURE_CASES])
      cases.push({ name: `loopback instance: ${c.name}`, bundle: await tampered(bundle, c.tamper), options: mock, expected: c.code });

    // Rekor v2: a checkpoint and inclusion proof, no SET, the time from the RFC 3161 timestamp.
    const rekorV2 = (
      name: string,
      expected: SigstoreCase['expected'],
      form: RekorV2Form,
      change?: { body?: (body: BundleJson) => void; bundle?: (bundle: BundleJson) => void },
    ): SigstoreCase => {
      const v2 = withRekorV2Entry(JSON.parse(bundle), trustConfig, form, change?.body);
      change?.bundle?.(v2.bundle);
      return {
        name: `loopback instance, Rekor v2: ${name}`,
        bundle: JSON.stringify(v2.bundle),
        options: { ...mock, trustedRoot: v2.trustConfig },
        expected,
      };
    };
    const v2spec = (body: BundleJson) => body.spec.hashedRekordV002;
    const v2entry = (b: BundleJson) => b.verificationMaterial.tlogEntries[0];
    const flip = (encoded: string) => {
      const bytes = Buffer.from(encoded, 'base64');
      bytes[0] = bytes[0] ^ 0x01;
      return bytes.toString('base64');
    };
    const caCertificate = trustConfig.trustedRoot.certificateAuthorities[0].certChain.certificates[0].rawBytes as string;
    cases.push(
      rekorV2('a hashedrekord/0.0.2 entry of the PAE, as the reference logs a DSSE envelope', 'ok', 'hashedrekord/0.0.2'),
      rekorV2('a dsse/0.0.2 entry, as sigstore-js logs one (the reference refuses it)', 'SIGNATURE_INVALID', 'dsse/0.0.2'),
      rekorV2('a logged hashedrekord whose digest is of the payload, not the PAE', 'SIGNATURE_INVALID', 'hashedrekord/0.0.2', {
        body: (body) =>
          (v2spec(body).data.digest = createHash('sha256')
            .update(Buffer.from(JSON.parse(bundle).dsseEnvelope.payload, 'base64'))
            .digest('base64')),
      }),
      rekorV2('a logged hashedrekord naming another certificate as its verifier', 'SIGNATURE_INVALID', 'hashedrekord/0.0.2', {
        body: (body) => (v2spec(body).signature.verifier.x509Certificate.rawBytes = caCertificate),
      }),
      rekorV2('a logged hashedrekord naming other key details', 'SIGNATURE_INVALID', 'hashedrekord/0.0.2', {
        body: (body) => (v2spec(body).signature.verifier.keyDetails = 'PKIX_ECDSA_P384_SHA_384'),
      }),
      rekorV2('an inclusion proof with a changed hash', 'SIGNATURE_INVALID', 'hashedrekord/0.0.2', {
        bundle: (b) => (v2entry(b).inclusionProof.hashes[0] = flip(v2entry(b).inclusionProof.hashes[0])),
      }),
      rekorV2('a checkpoint with another root hash', 'SIGNATURE_INVALID', 'hashedrekord/0.0.2', {
        bundle: (b) => {
          const checkpoint = v2entry(b).inclusionProof.checkpoint;
          const lines: string[] = checkpoint.envelope.split('\n');
          lines[2] = flip(lines[2]);
          checkpoint.envelope = lines.join('\n');
        },
      }),
      rekorV2('no RFC 3161 timestamp, so no verified time', 'CERT_CHAIN_INVALID', 'hashedrekord/0.0.2', {
        bundle: (b) => (b.verificationMaterial.timestampVerificationData.rfc3161Timestamps = []),
      }),
      // Two entries, as the reference refuses any bundle with other than one.
      rekorV2('a Rekor v1 and a Rekor v2 entry together', 'BAD_BUNDLE', 'hashedrekord/0.0.2', {
        bundle: (b) => b.verificationMaterial.tlogEntries.push(JSON.parse(bundle).verificationMaterial.tlogEntries[0]),
      }),
    );
    for (const c of STRUCTURE_CASES) cases.push(rekorV2(c.name, c.code, 'hashedrekord/0.0.2', { bundle: (b) => void c.tamper(b) }));
    const otherIdentity = rekorV2('another identity', 'IDENTITY_MISMATCH', 'hashedrekord/0.0.2');
    cases.push({ ...otherIdentity, options: { ...otherIdentity.options, identity: 'mallory@example.com' } });
    const onReal = await realInstanceCases(modelDir);
    cases.push(...onReal.cases);
    return { cases, mock: { modelDir, signaturePath, trustConfig }, real: onReal.real, close: () => instance.close() };
  } catch (err) {
    await instance.close();
    throw err;
  }
}
