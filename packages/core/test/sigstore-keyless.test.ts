import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CertificateVerifier,
  KeySigner,
  KeyVerifier,
  SigstoreSigner,
  SigstoreVerifier,
  isModelSigningError,
  signModel,
  verifyModel,
} from '../dist/index.js';
import { readBundle } from '../dist/internal-node.js';
import { assertCodePointOrder } from '../../../test-fixtures/order.mjs';
import { startMockInstance, testIdentityToken, type MockInstance } from './sigstore/mock-instance.js';

const ISSUER = 'https://issuer.test.example';
const IDENTITY = 'alice@example.com';

let instance: MockInstance;
let dir: string;
let model: string;
let signature: string;

beforeAll(async () => {
  instance = await startMockInstance();
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sigstore-keyless-'));
  model = path.join(dir, 'model');
  await fs.mkdir(path.join(model, 'sub'), { recursive: true });
  await fs.writeFile(path.join(model, 'weights.bin'), Buffer.from(Array.from({ length: 4096 }, (_, i) => i % 251)));
  await fs.writeFile(path.join(model, 'sub', 'config.json'), '{"layers": 2}');
  signature = path.join(dir, 'model.sig');
  const signer = await SigstoreSigner.create({
    identityToken: testIdentityToken({ iss: ISSUER, email: IDENTITY }),
    trustConfig: instance.trustConfigPath,
  });
  await signModel({ modelPath: model, signer, signaturePath: signature });
});

afterAll(async () => {
  await instance?.close();
  if (dir) await fs.rm(dir, { recursive: true, force: true });
});

const verifier = (o: { identity?: string; identityProvider?: string } = {}) =>
  SigstoreVerifier.create({
    identity: o.identity ?? IDENTITY,
    identityProvider: o.identityProvider ?? ISSUER,
    trustConfig: instance.trustConfigPath,
  });

describe('keyless signing against a loopback Sigstore instance', () => {
  it('writes a v0.3 bundle with the Fulcio certificate, a Rekor dsse entry and an RFC 3161 timestamp', async () => {
    expect(instance.requests).toEqual(['POST /api/v2/signingCert', 'POST /api/v1/log/entries', 'POST /api/v1/timestamp']);
    const json = JSON.parse(await fs.readFile(signature, 'utf8'));
    expect(json.mediaType).toBe('application/vnd.dev.sigstore.bundle.v0.3+json');
    expect(Object.keys(json.verificationMaterial).sort()).toEqual(['certificate', 'timestampVerificationData', 'tlogEntries']);
    expect(json.verificationMaterial.tlogEntries).toHaveLength(1);
    expect(json.verificationMaterial.tlogEntries[0].kindVersion).toEqual({ kind: 'dsse', version: '0.0.1' });
    const body = JSON.parse(Buffer.from(json.verificationMaterial.tlogEntries[0].canonicalizedBody, 'base64').toString('utf8'));
    expect(Object.keys(body.spec).sort()).toEqual(['envelopeHash', 'payloadHash', 'signatures']);
    expect(json.verificationMaterial.timestampVerificationData.rfc3161Timestamps).toHaveLength(1);
    expect(json.dsseEnvelope.payloadType).toBe('application/vnd.in-toto+json');
    expect((await readBundle(signature)).method).toBe('sigstore');
    expect(assertCodePointOrder(signature)).toEqual(['sub/config.json', 'weights.bin']);
  });

  it('verifies with the signer identity and issuer, naming the trust root', async () => {
    const result = await verifyModel({ modelPath: model, signaturePath: signature, verifier: await verifier() });
    expect(result.signer).toEqual({ method: 'sigstore', identity: IDENTITY, issuer: ISSUER, trustRoot: 'custom trust config' });
    expect(result.files.sort()).toEqual(['sub/config.json', 'weights.bin']);
  });

  it('fails with a wrong identity', async () => {
    const error = await verifyModel({
      modelPath: model,
      signaturePath: signature,
      verifier: await verifier({ identity: 'mallory@example.com' }),
    }).catch((e: unknown) => e);
    expect(isModelSigningError(error, 'IDENTITY_MISMATCH')).toBe(true);
    expect((error as Error).message).toContain(`'${IDENTITY}'`);
  });

  it('fails with a wrong issuer', async () => {
    const error = await verifyModel({
      modelPath: model,
      signaturePath: signature,
      verifier: await verifier({ identityProvider: 'https://accounts.google.com' }),
    }).catch((e: unknown) => e);
    expect(isModelSigningError(error, 'IDENTITY_MISMATCH')).toBe(true);
    expect((error as Error).message).toContain(ISSUER);
  });

  it('fails when a model file changed after signing', async () => {
    const copy = path.join(dir, 'tampered');
    await fs.cp(model, copy, { recursive: true });
    await fs.appendFile(path.join(copy, 'sub', 'config.json'), ' ');
    const error = await verifyModel({ modelPath: copy, signaturePath: signature, verifier: await verifier() }).catch((e: unknown) => e);
    expect(isModelSigningError(error, 'DIGEST_MISMATCH')).toBe(true);
    expect((error as Error).message).toContain('sub/config.json');
  });

  it('fails against the production root (another instance)', async () => {
    const production = await SigstoreVerifier.create({ identity: IDENTITY, identityProvider: ISSUER, offline: true });
    const error = await verifyModel({ modelPath: model, signaturePath: signature, verifier: production }).catch((e: unknown) => e);
    expect(isModelSigningError(error, 'CERT_CHAIN_INVALID')).toBe(true);
    expect((error as Error).message).toContain('production (bundled)');
  });

  it('is refused by the key and certificate verifiers', async () => {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const keyVerifier = await KeyVerifier.create({ publicKey: publicKey.export({ type: 'spki', format: 'pem' }) });
    for (const v of [keyVerifier, await CertificateVerifier.create({ useSystemRoots: true })]) {
      const error = await verifyModel({ modelPath: model, signaturePath: signature, verifier: v }).catch((e: unknown) => e);
      expect(isModelSigningError(error, 'WRONG_METHOD')).toBe(true);
      expect((error as Error).message).toContain("'sigstore' method");
    }
  });

  it('refuses a key-signed model', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const keySignature = path.join(dir, 'key.sig');
    await signModel({
      modelPath: model,
      signaturePath: keySignature,
      signer: await KeySigner.create({ privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }) }),
    });
    const error = await verifyModel({ modelPath: model, signaturePath: keySignature, verifier: await verifier() }).catch((e: unknown) => e);
    expect(isModelSigningError(error, 'WRONG_METHOD')).toBe(true);
    expect((error as Error).message).toContain("'key' method");
  });

  it('reports a token Fulcio cannot use', async () => {
    const signer = await SigstoreSigner.create({ identityToken: 'not-a-jwt', trustConfig: instance.trustConfigPath });
    await expect(signModel({ modelPath: model, signer, signaturePath: path.join(dir, 'never.sig') })).rejects.toMatchObject({
      code: 'IDENTITY_TOKEN_ERROR',
    });
    await expect(fs.access(path.join(dir, 'never.sig'))).rejects.toThrow();
  });

  describe('Rekor v2 logs in the signing config', () => {
    // sigstore-js would write a `dsse` 0.0.2 entry on a v2 log, which the reference refuses.
    const withTlogs = async (name: string, edit: (v1: Record<string, unknown>, v2: Record<string, unknown>) => unknown[]) => {
      const config = JSON.parse(await fs.readFile(instance.trustConfigPath, 'utf8'));
      const [v1] = config.signingConfig.rekorTlogUrls;
      // Newer than the v1 log, so the Sigstore client rules would pick it first; nothing listens on port 9.
      const v2 = {
        url: 'http://127.0.0.1:9',
        majorApiVersion: 2,
        validFor: { start: new Date(Date.now() - 1000).toISOString() },
        operator: 'model-signing tests',
      };
      config.signingConfig.rekorTlogUrls = edit(v1, v2);
      const file = path.join(dir, name);
      await fs.writeFile(file, JSON.stringify(config));
      return file;
    };

    it('logs in the Rekor v1 log even when a newer v2 log is listed', async () => {
      const trustConfig = await withTlogs('v1-and-v2.json', (v1, v2) => [v1, v2]);
      const signer = await SigstoreSigner.create({ identityToken: testIdentityToken({ iss: ISSUER, email: IDENTITY }), trustConfig });
      const out = path.join(dir, 'v1-and-v2.sig');
      await signModel({ modelPath: model, signer, signaturePath: out });
      const json = JSON.parse(await fs.readFile(out, 'utf8'));
      expect(json.verificationMaterial.tlogEntries.map((e: { kindVersion: unknown }) => e.kindVersion)).toEqual([
        { kind: 'dsse', version: '0.0.1' },
      ]);
      await expect(verifyModel({ modelPath: model, signaturePath: out, verifier: await verifier() })).resolves.toBeDefined();
    });

    it('refuses a signing config with only a Rekor v2 log before asking for a certificate', async () => {
      const trustConfig = await withTlogs('v2-only.json', (_v1, v2) => [v2]);
      const before = instance.requests.length;
      await expect(
        SigstoreSigner.create({ identityToken: testIdentityToken({ iss: ISSUER, email: IDENTITY }), trustConfig }),
      ).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
        message: expect.stringContaining('no currently valid Rekor v1 log'),
      });
      expect(instance.requests.length).toBe(before);
    });
  });
});
