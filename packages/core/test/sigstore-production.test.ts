import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { KeyVerifier, SigstoreVerifier, isModelSigningError, verifyModel } from '../dist/index.js';
import { readBundle } from '../dist/internal-node.js';
import { HISTORICAL, SPEC_VECTORS } from './helpers.js';

// Real bundles signed by the reference against the public-good production
// instance; verified here against the production root shipped with the package.
const OMS_SIGSTORE_BUNDLE = path.join(SPEC_VECTORS, 'valid/sigstore.bundle.json');
const IDENTITY = 'stefanb@us.ibm.com';
const ISSUER = 'https://sigstore.verify.ibm.com/oauth2';

interface Vector {
  name: string;
  modelDir: string;
  signature: string;
  ignorePaths: string[];
}

// The OMS spec's sigstore vector is the v1.1.0 reference bundle re-indented:
// its statement names subject 'v1.1.0-sigstore' and the digests of that
// folder's signme-1/signme-2 (not the elliptic-key folder's signme-1).
const vectors: Vector[] = [
  ...['v0.3.1', 'v1.0.0', 'v1.0.1', 'v1.1.0'].map((v) => ({
    name: `${v}-sigstore`,
    modelDir: path.join(HISTORICAL, `${v}-sigstore`),
    signature: path.join(HISTORICAL, `${v}-sigstore`, 'model.sig'),
    ignorePaths: v === 'v1.0.1' ? ['ignore-me'] : [],
  })),
  {
    name: 'oms-spec sigstore.bundle.json',
    modelDir: path.join(HISTORICAL, 'v1.1.0-sigstore'),
    signature: OMS_SIGSTORE_BUNDLE,
    ignorePaths: [],
  },
];

const offlineVerifier = (overrides: { identity?: string; identityRegExp?: string; identityProvider?: string } = {}) =>
  SigstoreVerifier.create({
    ...(overrides.identityRegExp ? { identityRegExp: overrides.identityRegExp } : { identity: overrides.identity ?? IDENTITY }),
    identityProvider: overrides.identityProvider ?? ISSUER,
    offline: true,
  });

const scratch: string[] = [];
afterAll(async () => {
  await Promise.all(scratch.map((d) => fs.rm(d, { recursive: true, force: true })));
});

/** A copy of the vector's model (without its signature) to modify. */
async function copyModel(v: Vector): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sigstore-prod-'));
  scratch.push(dir);
  const model = path.join(dir, 'model');
  await fs.cp(v.modelDir, model, { recursive: true, filter: (src) => path.basename(src) !== 'model.sig' });
  return model;
}

describe.each(vectors)('production bundle $name (offline)', (v) => {
  it('verifies with the signer identity and issuer', async () => {
    const result = await verifyModel({
      modelPath: v.modelDir,
      signaturePath: v.signature,
      ignorePaths: v.ignorePaths,
      verifier: await offlineVerifier(),
    });
    expect(result.signer).toEqual({ method: 'sigstore', identity: IDENTITY, issuer: ISSUER, trustRoot: 'production (bundled)' });
    expect(result.files.sort()).toEqual(['signme-1', 'signme-2']);
  });

  it('verifies with an identity regular expression', async () => {
    const result = await verifyModel({
      modelPath: v.modelDir,
      signaturePath: v.signature,
      ignorePaths: v.ignorePaths,
      verifier: await offlineVerifier({ identityRegExp: '[a-z]+@us\\.ibm\\.com' }),
    });
    expect(result.signer.identity).toBe(IDENTITY);
  });

  it.each([
    ['a wrong identity', { identity: 'someone@us.ibm.com' }],
    ['an identity that only contains the real one', { identityRegExp: 'stefanb@us\\.ibm\\.co' }],
    ['a wrong issuer', { identityProvider: 'https://accounts.google.com' }],
  ])('fails with %s', async (_label, overrides) => {
    const verifier = await offlineVerifier(overrides);
    const error = await verifyModel({ modelPath: v.modelDir, signaturePath: v.signature, ignorePaths: v.ignorePaths, verifier }).catch(
      (e: unknown) => e,
    );
    expect(isModelSigningError(error, 'IDENTITY_MISMATCH')).toBe(true);
    expect((error as Error).message).toContain(`'${IDENTITY}'`);
  });

  it('fails after one byte of the model changes', async () => {
    const model = await copyModel(v);
    const file = path.join(model, 'signme-2');
    const bytes = await fs.readFile(file);
    bytes[0] = bytes[0] ^ 0x01;
    await fs.writeFile(file, bytes);
    const error = await verifyModel({
      modelPath: model,
      signaturePath: v.signature,
      ignorePaths: v.ignorePaths,
      verifier: await offlineVerifier(),
    }).catch((e: unknown) => e);
    expect(isModelSigningError(error, 'DIGEST_MISMATCH')).toBe(true);
    expect((error as Error).message).toContain('signme-2');
  });
});

describe('production bundles: tampering and method checks', () => {
  it('rejects a bundle whose payload was changed after signing', async () => {
    const json = JSON.parse(await fs.readFile(OMS_SIGSTORE_BUNDLE, 'utf8'));
    const statement = JSON.parse(Buffer.from(json.dsseEnvelope.payload, 'base64').toString('utf8'));
    statement.predicate.resources[0].digest = '0'.repeat(64);
    json.dsseEnvelope.payload = Buffer.from(JSON.stringify(statement)).toString('base64');
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sigstore-prod-'));
    scratch.push(dir);
    const signature = path.join(dir, 'model.sig');
    await fs.writeFile(signature, JSON.stringify(json));
    const error = await verifyModel({
      modelPath: path.join(HISTORICAL, 'v1.1.0-sigstore'),
      signaturePath: signature,
      verifier: await offlineVerifier(),
    }).catch((e: unknown) => e);
    expect(isModelSigningError(error, 'SIGNATURE_INVALID')).toBe(true);
  });

  it('refuses a key bundle and names the method to use', async () => {
    const error = await (
      await offlineVerifier()
    )
      .verify(await readBundle(path.join(HISTORICAL, 'v1.1.0-elliptic-key/model.sig')))
      .catch((e: unknown) => e);
    expect(isModelSigningError(error, 'WRONG_METHOD')).toBe(true);
    expect((error as Error).message).toMatch(/'key' method/);
  });

  it('refuses a certificate bundle', async () => {
    const error = await (
      await offlineVerifier()
    )
      .verify(await readBundle(path.join(HISTORICAL, 'v1.1.0-certificate/model.sig')))
      .catch((e: unknown) => e);
    expect(isModelSigningError(error, 'WRONG_METHOD')).toBe(true);
  });

  it('is refused by the key verifier', async () => {
    const { publicKey } = await import('node:crypto').then((c) => c.generateKeyPairSync('ec', { namedCurve: 'P-256' }));
    const keyVerifier = await KeyVerifier.create({ publicKey: publicKey.export({ type: 'spki', format: 'pem' }) });
    const error = await keyVerifier.verify(await readBundle(OMS_SIGSTORE_BUNDLE)).catch((e: unknown) => e);
    expect(isModelSigningError(error, 'WRONG_METHOD')).toBe(true);
  });

  it('needs exactly one identity form and an issuer', async () => {
    await expect(SigstoreVerifier.create({ identityProvider: ISSUER, offline: true })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(
      SigstoreVerifier.create({ identity: IDENTITY, identityRegExp: '.*', identityProvider: ISSUER, offline: true }),
    ).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    await expect(SigstoreVerifier.create({ identity: IDENTITY, identityProvider: '', offline: true })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    await expect(SigstoreVerifier.create({ identityRegExp: '(', identityProvider: ISSUER, offline: true })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
  });
});
