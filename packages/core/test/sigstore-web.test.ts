// The runtime-neutral Sigstore verifier (WebSigstoreVerifier) against the
// Node one (SigstoreVerifier, sigstore-js): the reference's production
// bundles and bundles signed against a loopback Sigstore instance must get
// the same verdict and, when refused, the same error code from both.
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  SigstoreSigner,
  SigstoreVerifier,
  WebSigstoreVerifier,
  isModelSigningError,
  signModel,
  verifyModel,
  type Verifier,
} from '../dist/index.js';
import { HISTORICAL, SPEC_VECTORS, cleanupTempDirs, tempDir } from './helpers.js';
import { startMockInstance, testIdentityToken, type MockInstance } from './sigstore/mock-instance.js';
import { TAMPER_CASES, verdictOf, type BundleJson } from './sigstore-web/cases.js';

const PROD_IDENTITY = 'stefanb@us.ibm.com';
const PROD_ISSUER = 'https://sigstore.verify.ibm.com/oauth2';

const vectors = [
  ...['v0.3.1', 'v1.0.0', 'v1.0.1', 'v1.1.0'].map((v) => ({
    name: `${v}-sigstore`,
    modelDir: path.join(HISTORICAL, `${v}-sigstore`),
    signature: path.join(HISTORICAL, `${v}-sigstore`, 'model.sig'),
    ignorePaths: v === 'v1.0.1' ? ['ignore-me'] : [],
  })),
  // The OMS spec's vector is the v1.1.0 reference bundle re-indented.
  { name: 'oms-spec sigstore.bundle.json', modelDir: path.join(HISTORICAL, 'v1.1.0-sigstore'), signature: path.join(SPEC_VECTORS, 'valid/sigstore.bundle.json'), ignorePaths: [] },
];

interface Identity {
  identity?: string;
  identityRegExp?: string;
  identityProvider: string;
}

/** Both verifiers for one identity and trust root. */
type Pair = { web: Verifier; node: Verifier };

const production = async (id: Identity): Promise<Pair> => ({
  web: await WebSigstoreVerifier.create(id),
  node: await SigstoreVerifier.create({ ...id, offline: true }),
});

/** Verifies with both and checks they agree; returns the shared verdict. */
async function agreedVerdict(pair: Pair, bundle: string) {
  const [web, node] = await Promise.all([verdictOf(pair.web, bundle), verdictOf(pair.node, bundle)]);
  if (web.ok && node.ok) expect(web.signer).toEqual(node.signer);
  else expect({ ok: web.ok, code: web.ok ? undefined : web.code }).toEqual({ ok: node.ok, code: node.ok ? undefined : node.code });
  return web;
}

async function tampered(bundle: string, tamper: (b: BundleJson) => void | Promise<void>): Promise<string> {
  const json = JSON.parse(bundle) as BundleJson;
  await tamper(json);
  return JSON.stringify(json);
}

afterAll(cleanupTempDirs);

describe.each(vectors)('production bundle $name, offline', (v) => {
  it('verifies the model with the real identity and issuer, as the Node verifier does', async () => {
    const pair = await production({ identity: PROD_IDENTITY, identityProvider: PROD_ISSUER });
    const result = await verifyModel({ modelPath: v.modelDir, signaturePath: v.signature, ignorePaths: [...v.ignorePaths, 'model.sig'], verifier: pair.web });
    expect(result.signer).toEqual({ method: 'sigstore', identity: PROD_IDENTITY, issuer: PROD_ISSUER, trustRoot: 'production (bundled)' });
    expect(await agreedVerdict(pair, await fs.readFile(v.signature, 'utf8'))).toMatchObject({ ok: true });
  });

  it('verifies with an identity regular expression', async () => {
    const pair = await production({ identityRegExp: '[a-z]+@us\\.ibm\\.com', identityProvider: PROD_ISSUER });
    expect(await agreedVerdict(pair, await fs.readFile(v.signature, 'utf8'))).toMatchObject({ ok: true, signer: { identity: PROD_IDENTITY } });
  });

  it.each([
    ['another identity', { identity: 'someone@us.ibm.com', identityProvider: PROD_ISSUER }],
    ['another issuer', { identity: PROD_IDENTITY, identityProvider: 'https://accounts.google.com' }],
    ['a regular expression that only matches part of the identity', { identityRegExp: 'stefanb@us\\.ibm\\.co', identityProvider: PROD_ISSUER }],
  ] as const)('refuses %s with IDENTITY_MISMATCH', async (_, id) => {
    expect(await agreedVerdict(await production(id), await fs.readFile(v.signature, 'utf8'))).toMatchObject({ ok: false, code: 'IDENTITY_MISMATCH' });
  });

  it('refuses the bundle against the staging trusted root', async () => {
    const id = { identity: PROD_IDENTITY, identityProvider: PROD_ISSUER, useStaging: true };
    const pair = { web: await WebSigstoreVerifier.create(id), node: await SigstoreVerifier.create({ ...id, offline: true }) };
    expect(await agreedVerdict(pair, await fs.readFile(v.signature, 'utf8'))).toMatchObject({ ok: false, code: 'CERT_CHAIN_INVALID' });
  });

  it('refuses the model after one byte changes', async () => {
    const dir = await tempDir('sigweb-');
    const model = path.join(dir, 'model');
    await fs.cp(v.modelDir, model, { recursive: true, filter: (src) => path.basename(src) !== 'model.sig' });
    const file = path.join(model, 'signme-2');
    const bytes = await fs.readFile(file);
    bytes[0] = bytes[0]! ^ 0x01;
    await fs.writeFile(file, bytes);
    const { web } = await production({ identity: PROD_IDENTITY, identityProvider: PROD_ISSUER });
    const error = await verifyModel({ modelPath: model, signaturePath: v.signature, ignorePaths: v.ignorePaths, verifier: web }).catch((e: unknown) => e);
    expect(isModelSigningError(error, 'DIGEST_MISMATCH')).toBe(true);
  });
});

describe('production bundle v1.1.0, tampered', () => {
  it.each(TAMPER_CASES)('refuses $name with $code, as the Node verifier does', async ({ tamper, code }) => {
    const bundle = await tampered(await fs.readFile(vectors[3]!.signature, 'utf8'), tamper);
    const pair = await production({ identity: PROD_IDENTITY, identityProvider: PROD_ISSUER });
    expect(await agreedVerdict(pair, bundle)).toMatchObject({ ok: false, code });
  });
});

describe('bundles signed against a loopback Sigstore instance', () => {
  const ISSUER = 'https://issuer.test.example';
  const IDENTITY = 'alice@example.com';
  let instance: MockInstance;
  let trustConfig: string;
  let bundle: string;
  let model: string;

  beforeAll(async () => {
    instance = await startMockInstance();
    trustConfig = await fs.readFile(instance.trustConfigPath, 'utf8');
    const dir = await tempDir('sigweb-');
    model = path.join(dir, 'model');
    await fs.mkdir(model);
    await fs.writeFile(path.join(model, 'weights.bin'), Buffer.from(Array.from({ length: 4096 }, (_, i) => i % 251)));
    await fs.writeFile(path.join(model, 'config.json'), '{"layers": 2}');
    const signer = await SigstoreSigner.create({ identityToken: testIdentityToken({ iss: ISSUER, email: IDENTITY }), trustConfig: instance.trustConfigPath });
    const signature = path.join(dir, 'model.sig');
    await signModel({ modelPath: model, signer, signaturePath: signature });
    bundle = await fs.readFile(signature, 'utf8');
  });
  afterAll(async () => {
    await instance?.close();
  });

  /** Both verifiers over a (possibly altered) copy of the instance's trust config. */
  async function pair(id: Partial<Identity> = {}, alterRoot?: (root: BundleJson) => void): Promise<Pair> {
    const config = JSON.parse(trustConfig) as BundleJson;
    alterRoot?.(config.trustedRoot);
    const file = path.join(await tempDir('sigweb-trust-'), 'trust_config.json');
    await fs.writeFile(file, JSON.stringify(config));
    const options = { identityProvider: ISSUER, ...(id.identityRegExp ? {} : { identity: IDENTITY }), ...id };
    return {
      web: await WebSigstoreVerifier.create({ ...options, trustedRoot: JSON.stringify(config) }),
      node: await SigstoreVerifier.create({ ...options, trustConfig: file }),
    };
  }

  it('verifies the model with the instance trusted root, as the Node verifier does', async () => {
    const verifiers = await pair();
    const result = await verifyModel({ modelPath: model, signaturePath: path.join(model, '..', 'model.sig'), verifier: verifiers.web });
    expect(result.signer).toEqual({ method: 'sigstore', identity: IDENTITY, issuer: ISSUER, trustRoot: 'custom trust config' });
    expect(await agreedVerdict(verifiers, bundle)).toMatchObject({ ok: true });
  });

  it('takes the bare trusted root as well as the client trust config', async () => {
    const web = await WebSigstoreVerifier.create({ identity: IDENTITY, identityProvider: ISSUER, trustedRoot: JSON.parse(trustConfig).trustedRoot });
    expect(await verdictOf(web, bundle)).toMatchObject({ ok: true });
  });

  it.each([
    ['another identity', { identity: 'mallory@example.com' }],
    ['another issuer', { identityProvider: 'https://accounts.google.com' }],
    ['a regular expression that does not match', { identityRegExp: 'bob@example\\.com' }],
  ] as const)('refuses %s with IDENTITY_MISMATCH', async (_, id) => {
    expect(await agreedVerdict(await pair(id), bundle)).toMatchObject({ ok: false, code: 'IDENTITY_MISMATCH' });
  });

  it.each(TAMPER_CASES)('refuses $name with $code, as the Node verifier does', async ({ tamper, code }) => {
    expect(await agreedVerdict(await pair(), await tampered(bundle, tamper))).toMatchObject({ ok: false, code });
  });

  it("refuses this instance's bundle against the production trusted root", async () => {
    expect(await agreedVerdict(await production({ identity: IDENTITY, identityProvider: ISSUER }), bundle)).toMatchObject({ ok: false, code: 'CERT_CHAIN_INVALID' });
  });

  it.each([
    [
      'a chain to a CA the trusted root does not hold (production Fulcio instead)',
      'CERT_CHAIN_INVALID',
      (root: BundleJson) => {
        root.certificateAuthorities = PRODUCTION_FULCIO;
      },
    ],
    [
      'an SCT that does not verify with the CT log key of the root',
      'CERT_CHAIN_INVALID',
      (root: BundleJson) => {
        root.ctlogs[0].publicKey.rawBytes = root.tlogs[0].publicKey.rawBytes;
      },
    ],
    [
      'an SET and checkpoint by a Rekor key the root does not hold',
      'SIGNATURE_INVALID',
      (root: BundleJson) => {
        root.tlogs[0].publicKey.rawBytes = root.ctlogs[0].publicKey.rawBytes;
      },
    ],
    [
      'an RFC 3161 timestamp by an authority the root does not hold',
      'CERT_CHAIN_INVALID',
      (root: BundleJson) => {
        root.timestampAuthorities = [];
      },
    ],
  ] as const)('refuses %s with %s', async (_, code, alterRoot) => {
    expect(await agreedVerdict(await pair({}, alterRoot), bundle)).toMatchObject({ ok: false, code });
  });
});

/** The production Fulcio CAs, for a root that trusts another CA than the one that issued. */
const PRODUCTION_FULCIO = (
  JSON.parse(
    Buffer.from(
      (JSON.parse(await fs.readFile(new URL(import.meta.resolve('@sigstore/tuf/seeds.json')), 'utf8')) as Record<string, { targets: Record<string, string> }>)[
        'https://tuf-repo-cdn.sigstore.dev'
      ]!.targets['trusted_root.json']!,
      'base64',
    ).toString('utf8'),
  ) as BundleJson
).certificateAuthorities;
