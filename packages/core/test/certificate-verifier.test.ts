// The library side of the certificate method and of key loading: explicit
// trust, trusted intermediates, identity pinning, and keys in the wrong place.
// The full RFC 5280 matrix against the reference lives in
// packages/cli/test/certificate-chains.test.ts.
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CertificateSigner, CertificateVerifier, KeySigner, KeyVerifier, signModel, verifyModel } from '../dist/index.js';
import { issueLeaf, makeCertificateAuthority, type CertificateAuthority } from '../../../test-fixtures/pki.mjs';
import { cleanupTempDirs, ecKeyPair, expectCode, tempDir, writeTree } from './helpers.js';

let dir: string;
let sig: string;
let ca: CertificateAuthority;
let leafCert: string;

beforeAll(async () => {
  const pki = await tempDir('oms-pki-');
  ca = makeCertificateAuthority(pki);
  const leaf = issueLeaf(pki, ca, { name: 'signer' });
  leafCert = leaf.cert;
  dir = await tempDir('oms-model-');
  await writeTree(dir, { 'weights.bin': 'abc' });
  sig = path.join(pki, 'm.sig');
  await signModel({
    modelPath: dir,
    signaturePath: sig,
    signer: await CertificateSigner.create({
      privateKey: leaf.key,
      signingCertificate: leaf.cert,
      certificateChain: [ca.intermediateCert],
    }),
  });
});
afterAll(cleanupTempDirs);

const verifyWith = async (options: Parameters<typeof CertificateVerifier.create>[0]) =>
  verifyModel({ modelPath: dir, signaturePath: sig, verifier: await CertificateVerifier.create(options) });

describe('CertificateVerifier', () => {
  it('needs explicit trust: certificateChain or useSystemRoots', async () => {
    const err = await expectCode(CertificateVerifier.create({}), 'INVALID_ARGUMENT');
    expect(err.message).toMatch(/certificateChain.*useSystemRoots/);
    await expectCode(CertificateVerifier.create({ certificateChain: [] }), 'INVALID_ARGUMENT');
    // The public roots never issued this test CA.
    const refused = await expectCode(verifyWith({ useSystemRoots: true }), 'CERT_CHAIN_INVALID');
    expect(refused.message).toMatch(/'CN=signer' does not chain to any trusted certificate/);
    // Both together: the explicit anchor is enough.
    expect((await verifyWith({ useSystemRoots: true, certificateChain: [ca.rootCert] })).signer.certificateSubject).toBe('CN=signer');
  });

  it('accepts an intermediate, or the signing certificate itself, that the caller chooses to trust as the anchor', async () => {
    const result = await verifyWith({ certificateChain: [ca.intermediateCert] });
    expect(result.signer).toEqual({ method: 'certificate', certificateSubject: 'CN=signer' });
    const direct = await verifyWith({ certificateChain: [leafCert], identity: { subject: 'CN=signer' } });
    expect(direct.signer).toEqual({ method: 'certificate', certificateSubject: 'CN=signer' });
    // Trusted directly, it must still be valid now.
    const later = await expectCode(
      verifyWith({ certificateChain: [leafCert], now: new Date(Date.now() + 400 * 86400_000) }),
      'CERT_CHAIN_INVALID',
    );
    expect(later.message).toMatch(/'CN=signer' has expired/);
  });

  it('pins the fingerprint (hex, any case, colons optional) and refuses a SAN the leaf does not have', async () => {
    const fingerprint = new X509Certificate(await fs.readFile(leafCert)).fingerprint256;
    await verifyWith({ certificateChain: [ca.rootCert], identity: { fingerprintSha256: fingerprint } });
    await verifyWith({
      certificateChain: [ca.rootCert],
      identity: { fingerprintSha256: fingerprint.replace(/:/g, '').toLowerCase(), subject: 'CN=signer' },
    });
    const wrong = await expectCode(
      verifyWith({ certificateChain: [ca.rootCert], identity: { fingerprintSha256: '00'.repeat(32) } }),
      'IDENTITY_MISMATCH',
    );
    expect(wrong.message).toContain(fingerprint.replace(/:/g, '').toLowerCase());
    const malformed = await expectCode(
      CertificateVerifier.create({ certificateChain: [ca.rootCert], identity: { fingerprintSha256: 'abc' } }),
      'INVALID_ARGUMENT',
    );
    expect(malformed.message).toMatch(/not a SHA-256 fingerprint/);
    const noSan = await expectCode(
      verifyWith({ certificateChain: [ca.rootCert], identity: { subjectAlternativeName: 'signer@example.com' } }),
      'IDENTITY_MISMATCH',
    );
    expect(noSan.message).toMatch(/its subject alternative names: none/);
  });

  it('refuses an unreadable trust anchor', async () => {
    const bad = '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n';
    await expectCode(CertificateVerifier.create({ certificateChain: [bad] }), 'BAD_KEY');
  });
});

describe('keys in the wrong place', () => {
  it('KeyVerifier refuses a private key (PKCS#8, SEC1 and encrypted) and says how to derive the public one', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const forms = [
      privateKey.export({ type: 'pkcs8', format: 'pem' }),
      privateKey.export({ type: 'sec1', format: 'pem' }),
      privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pw' }),
    ];
    for (const pem of forms) {
      const err = await expectCode(KeyVerifier.create({ publicKey: pem.toString() }), 'BAD_KEY');
      expect(err.message).toMatch(/holds a private key; verification needs the public key.*-pubout/);
    }
  });

  it('KeySigner refuses a public key and a certificate by name', async () => {
    const pub = await expectCode(KeySigner.create({ privateKey: ecKeyPair().publicKey }), 'BAD_KEY');
    expect(pub.message).toMatch(/holds a public key, not a private key/);
    const cert = await expectCode(KeySigner.create({ privateKey: leafCert }), 'BAD_KEY');
    expect(cert.message).toMatch(/holds a certificate, not a private key/);
  });

  it('refuses a password for a key that is not encrypted, and still takes one for a key that is', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    const plain = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const err = await expectCode(KeySigner.create({ privateKey: plain, password: 'hunter2' }), 'INVALID_ARGUMENT');
    expect(err.message).toMatch(/password was given but the private key is not encrypted/);
    const encrypted = privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'hunter2' }).toString();
    await expect(KeySigner.create({ privateKey: encrypted, password: 'hunter2' })).resolves.toBeDefined();
  });
});
