// Keyless signing and verification against a private Sigstore instance of
// real servers on loopback (test-fixtures/sigstore-instance.mjs: Fulcio,
// Rekor v2 and a timestamp authority, built from the Go module proxy). Its
// signing config lists only the Rekor v2 log, so every signature here is
// logged as the reference logs one there. No real Rekor v1 server runs here:
// the tests of a v1 log (a config with only v1 signs as before; a config
// with both picks v2) use @sigstore/mock's (sigstore/mock-instance.ts).
import { createHash, generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CertificateVerifier,
  KeySigner,
  KeyVerifier,
  SigstoreSigner,
  SigstoreVerifier,
  signModel,
  verifyModel,
  type Verifier,
} from '../dist/index.js';
import { readBundle } from '../dist/internal-node.js';
import { WebSigstoreVerifier } from '../dist/browser.js';
import { assertCodePointOrder } from '../../../test-fixtures/order.mjs';
import { startSigstoreInstance, type SigstoreInstance } from '../../../test-fixtures/sigstore-instance.mjs';
import { cleanupTempDirs, expectCode, tempDir } from './helpers.js';
import { startMockInstance, testIdentityToken, type MockInstance } from './sigstore/mock-instance.js';

const IDENTITY = 'alice@example.com';

let instance: SigstoreInstance;
let dir: string;
let model: string;
let signature: string;

beforeAll(async () => {
  instance = await startSigstoreInstance();
  dir = await tempDir('sigstore-keyless-');
  model = path.join(dir, 'model');
  await fs.mkdir(path.join(model, 'sub'), { recursive: true });
  await fs.writeFile(path.join(model, 'weights.bin'), Buffer.from(Array.from({ length: 4096 }, (_, i) => i % 251)));
  await fs.writeFile(path.join(model, 'sub', 'config.json'), '{"layers": 2}');
  signature = path.join(dir, 'model.sig');
  const signer = await SigstoreSigner.create({
    identityToken: instance.identityToken({ email: IDENTITY }),
    trustConfig: instance.trustConfigPath,
  });
  await signModel({ modelPath: model, signer, signaturePath: signature });
});

afterAll(async () => {
  await instance?.close();
  await cleanupTempDirs();
});

/** The Node and the runtime-neutral verifier, with the same options. */
async function bothVerifiers(o: { identity?: string; identityProvider?: string; trustConfig?: string } = {}): Promise<Verifier[]> {
  const trustConfig = o.trustConfig ?? instance.trustConfigPath;
  const options = { identity: o.identity ?? IDENTITY, identityProvider: o.identityProvider ?? instance.urls.oidc };
  return [
    await SigstoreVerifier.create({ ...options, trustConfig }),
    await WebSigstoreVerifier.create({ ...options, trustedRoot: await fs.readFile(trustConfig, 'utf8') }),
  ];
}

/** A config file made from the instance's, edited. */
async function trustConfigWith(name: string, edit: (config: ReturnType<SigstoreInstance['trustConfig']>) => void): Promise<string> {
  const config = instance.trustConfig();
  edit(config);
  const file = path.join(dir, name);
  await fs.writeFile(file, JSON.stringify(config));
  return file;
}

const signerFor = (trustConfig: string) =>
  SigstoreSigner.create({ identityToken: instance.identityToken({ email: IDENTITY }), trustConfig });

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');

describe('keyless signing on a real Sigstore instance with a Rekor v2 log', () => {
  it('writes a v0.3 bundle with the Fulcio certificate, a hashedrekord 0.0.2 entry over the PAE and an RFC 3161 timestamp', async () => {
    const json = JSON.parse(await fs.readFile(signature, 'utf8'));
    expect(json.mediaType).toBe('application/vnd.dev.sigstore.bundle.v0.3+json');
    expect(Object.keys(json.verificationMaterial).sort()).toEqual(['certificate', 'timestampVerificationData', 'tlogEntries']);
    expect(json.verificationMaterial.timestampVerificationData.rfc3161Timestamps).toHaveLength(1);
    const [entry] = json.verificationMaterial.tlogEntries;
    expect(json.verificationMaterial.tlogEntries).toHaveLength(1);
    expect(entry.kindVersion).toEqual({ kind: 'hashedrekord', version: '0.0.2' });
    // No promise and no integrated time: the log vouches with a checkpoint and a proof, the TSA for the time.
    expect(entry.inclusionPromise).toBeUndefined();
    expect(entry.integratedTime ?? '0').toBe('0');
    expect(entry.inclusionProof.checkpoint.envelope).toMatch(new RegExp(`^${instance.rekor.origin}\\n`));
    const envelope = json.dsseEnvelope;
    const payload = Buffer.from(envelope.payload, 'base64');
    const pae = Buffer.concat([Buffer.from(`DSSEv1 ${envelope.payloadType.length} ${envelope.payloadType} ${payload.length} `), payload]);
    expect(JSON.parse(Buffer.from(entry.canonicalizedBody, 'base64').toString('utf8'))).toEqual({
      apiVersion: '0.0.2',
      kind: 'hashedrekord',
      spec: {
        hashedRekordV002: {
          data: { algorithm: 'SHA2_256', digest: b64(createHash('sha256').update(pae).digest()) },
          signature: {
            content: envelope.signatures[0].sig,
            verifier: {
              keyDetails: 'PKIX_ECDSA_P256_SHA_256',
              x509Certificate: { rawBytes: json.verificationMaterial.certificate.rawBytes },
            },
          },
        },
      },
    });
    expect(envelope.payloadType).toBe('application/vnd.in-toto+json');
    expect((await readBundle(signature)).method).toBe('sigstore');
    expect(assertCodePointOrder(signature)).toEqual(['sub/config.json', 'weights.bin']);
  });

  it('holds the entry the log published, at its index in the log’s entry tiles', async () => {
    const entry = JSON.parse(await fs.readFile(signature, 'utf8')).verificationMaterial.tlogEntries[0];
    // The log's files as the tlog-tiles API serves them: a checkpoint, and entry bundles of 2-byte-length-prefixed entries.
    const checkpoint = await fs.readFile(path.join(instance.rekor.storageDir, 'checkpoint'), 'utf8');
    const size = Number(checkpoint.split('\n')[1]);
    expect(size).toBeGreaterThan(Number(entry.logIndex ?? 0));
    expect(size).toBeLessThan(256);
    const tile = await fs.readFile(path.join(instance.rekor.storageDir, 'tile/entries/000.p', String(size)));
    const logged: Buffer[] = [];
    for (let at = 0; at < tile.length; at += 2 + tile.readUInt16BE(at)) logged.push(tile.subarray(at + 2, at + 2 + tile.readUInt16BE(at)));
    expect(logged).toHaveLength(size);
    expect(b64(logged[Number(entry.logIndex ?? 0)])).toBe(entry.canonicalizedBody);
  });

  it('verifies with the Node and the runtime-neutral verifier, naming the trust root', async () => {
    for (const verifier of await bothVerifiers()) {
      const result = await verifyModel({ modelPath: model, signaturePath: signature, verifier });
      expect(result.signer).toEqual({
        method: 'sigstore',
        identity: IDENTITY,
        issuer: instance.urls.oidc,
        trustRoot: 'custom trust config',
      });
      expect(result.files.sort()).toEqual(['sub/config.json', 'weights.bin']);
    }
  });

  it('fails with another identity or another issuer', async () => {
    for (const wrong of [{ identity: 'mallory@example.com' }, { identityProvider: 'https://accounts.google.com' }]) {
      for (const verifier of await bothVerifiers(wrong)) {
        const error = await expectCode(verifyModel({ modelPath: model, signaturePath: signature, verifier }), 'IDENTITY_MISMATCH');
        expect(error.message).toContain(wrong.identity ? `'${IDENTITY}'` : instance.urls.oidc);
      }
    }
  });

  it('fails when a model file changed after signing', async () => {
    const copy = path.join(dir, 'tampered');
    await fs.cp(model, copy, { recursive: true });
    await fs.appendFile(path.join(copy, 'sub', 'config.json'), ' ');
    for (const verifier of await bothVerifiers()) {
      const error = await expectCode(verifyModel({ modelPath: copy, signaturePath: signature, verifier }), 'DIGEST_MISMATCH');
      expect(error.message).toContain('sub/config.json');
    }
  });

  it('fails against the production root (another instance)', async () => {
    const production = await SigstoreVerifier.create({ identity: IDENTITY, identityProvider: instance.urls.oidc, offline: true });
    const error = await expectCode(verifyModel({ modelPath: model, signaturePath: signature, verifier: production }), 'CERT_CHAIN_INVALID');
    expect(error.message).toContain('production (bundled)');
  });

  it('is refused by the key and certificate verifiers', async () => {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const keyVerifier = await KeyVerifier.create({ publicKey: publicKey.export({ type: 'spki', format: 'pem' }) });
    for (const v of [keyVerifier, await CertificateVerifier.create({ useSystemRoots: true })]) {
      const error = await expectCode(verifyModel({ modelPath: model, signaturePath: signature, verifier: v }), 'WRONG_METHOD');
      expect(error.message).toContain("'sigstore' method");
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
    const [verifier] = await bothVerifiers();
    const error = await expectCode(verifyModel({ modelPath: model, signaturePath: keySignature, verifier }), 'WRONG_METHOD');
    expect(error.message).toContain("'key' method");
  });

  it('reports a token Fulcio refuses, and writes nothing', async () => {
    // Not a JWT; and the issuer's token with another identity put in, so its signature no longer holds.
    const valid = instance.identityToken({ email: IDENTITY }).split('.');
    const claims = JSON.parse(Buffer.from(valid[1], 'base64url').toString('utf8'));
    const forged = [
      valid[0],
      Buffer.from(JSON.stringify({ ...claims, email: 'mallory@example.com' })).toString('base64url'),
      valid[2],
    ].join('.');
    for (const identityToken of ['not-a-jwt', forged]) {
      const signer = await SigstoreSigner.create({ identityToken, trustConfig: instance.trustConfigPath });
      const out = path.join(dir, 'never.sig');
      await expectCode(signModel({ modelPath: model, signer, signaturePath: out }), 'IDENTITY_TOKEN_ERROR');
      await expect(fs.access(out)).rejects.toThrow();
    }
  });
});

describe('which services signing uses', () => {
  let mock: MockInstance;
  beforeAll(async () => {
    mock = await startMockInstance();
  });
  afterAll(async () => {
    await mock?.close();
  });

  /** The instance's config with the mock's Rekor v1 log listed too, `v1Start` as its start. */
  const withMockV1 = (name: string, v1Start: Date) =>
    trustConfigWith(name, (config) => {
      config.signingConfig.rekorTlogUrls.unshift({
        url: mock.url,
        majorApiVersion: 1,
        validFor: { start: v1Start.toISOString() },
        operator: config.signingConfig.rekorTlogUrls[0].operator,
      });
    });

  it('signs on the Rekor v2 log when the config lists a v1 log too, as the staging config does, even a newer v1 log', async () => {
    for (const [name, v1Start] of [
      ['staging-shaped.json', new Date('2021-01-12T11:53:27Z')],
      ['newer-v1.json', new Date(Date.now() - 1000)],
    ] as const) {
      const before = mock.requests.length;
      const out = path.join(dir, `${name}.sig`);
      await signModel({ modelPath: model, signer: await signerFor(await withMockV1(name, v1Start)), signaturePath: out });
      const entries = JSON.parse(await fs.readFile(out, 'utf8')).verificationMaterial.tlogEntries;
      expect(entries.map((e: { kindVersion: unknown }) => e.kindVersion)).toEqual([{ kind: 'hashedrekord', version: '0.0.2' }]);
      expect(mock.requests.slice(before)).toEqual([]);
      for (const verifier of await bothVerifiers())
        await expect(verifyModel({ modelPath: model, signaturePath: out, verifier })).resolves.toBeDefined();
    }
  });

  it('signs as before with a config that lists only a Rekor v1 log: a dsse 0.0.1 entry with a promise, on @sigstore/mock', async () => {
    const token = testIdentityToken({ iss: 'https://issuer.test.example', email: IDENTITY });
    const out = path.join(dir, 'v1-only.sig');
    const before = mock.requests.length;
    await signModel({
      modelPath: model,
      signer: await SigstoreSigner.create({ identityToken: token, trustConfig: mock.trustConfigPath }),
      signaturePath: out,
    });
    expect(mock.requests.slice(before)).toEqual(['POST /api/v2/signingCert', 'POST /api/v1/log/entries', 'POST /api/v1/timestamp']);
    const [entry] = JSON.parse(await fs.readFile(out, 'utf8')).verificationMaterial.tlogEntries;
    expect(entry.kindVersion).toEqual({ kind: 'dsse', version: '0.0.1' });
    expect(Object.keys(JSON.parse(Buffer.from(entry.canonicalizedBody, 'base64').toString('utf8')).spec).sort()).toEqual([
      'envelopeHash',
      'payloadHash',
      'signatures',
    ]);
    expect(entry.inclusionPromise.signedEntryTimestamp).toBeTruthy();
    for (const verifier of await bothVerifiers({ identityProvider: 'https://issuer.test.example', trustConfig: mock.trustConfigPath }))
      await expect(verifyModel({ modelPath: model, signaturePath: out, verifier })).resolves.toBeDefined();
  });

  it('refuses, before any request, a config with a Rekor v2 log and no timestamp authority, or with no log valid now', async () => {
    const noTsa = await trustConfigWith('no-tsa.json', (config) => (config.signingConfig.tsaUrls = []));
    await expect(signerFor(noTsa)).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringContaining('gives no signed time'),
    });
    const ended = await trustConfigWith(
      'ended.json',
      (config) => (config.signingConfig.rekorTlogUrls[0].validFor.end = '2025-01-01T00:00:00Z'),
    );
    await expect(signerFor(ended)).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringContaining('no currently valid Rekor v1 or v2 log'),
    });
  });

  it('refuses a signature whose services the trusted root does not vouch for: the trusted root of another instance', async () => {
    const mockRoot = JSON.parse(await fs.readFile(mock.trustConfigPath, 'utf8')).trustedRoot;
    const otherRoot = await trustConfigWith('other-root.json', (config) => (config.trustedRoot = mockRoot));
    const out = path.join(dir, 'other-root.sig');
    const error = await expectCode(
      signModel({ modelPath: model, signer: await signerFor(otherRoot), signaturePath: out }),
      'CERT_CHAIN_INVALID',
    );
    expect(error.message).toContain('no signature was written');
    await expect(fs.access(out)).rejects.toThrow();
  });
});
