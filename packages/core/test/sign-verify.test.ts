import { X509Certificate, createPrivateKey, generateKeyPairSync, sign as cryptoSign } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  CertificateSigner,
  CertificateVerifier,
  KeySigner,
  KeyVerifier,
  PAYLOAD_TYPE,
  hashModel,
  openVerifiedModel,
  rootDigest,
  signModel,
  signPayload,
  verifyModel,
  type Signer,
  type VerifiedManifest,
} from '../dist/index.js';
import { BUNDLE_MEDIA_TYPE, ManifestChecker, parseBundle, verifyBundle } from '../dist/internal.js';
import { signManifest } from '../dist/internal-node.js';
import { assertCodePointOrder } from '../../../test-fixtures/order.mjs';
import { issueLeaf, makeCertificateAuthority } from '../../../test-fixtures/pki.mjs';
import { REFERENCE_KEYS, cleanupTempDirs, ecKeyPair, expectCode, tempDir, verifiedManifestOf, writeTree } from './helpers.js';

afterEach(cleanupTempDirs);

async function model(
  files: Record<string, string> = { 'config.json': '{}', 'weights/part-1.bin': 'abc', 'weights/part-2.bin': 'defg', 'empty.txt': '' },
) {
  const dir = await tempDir('oms-model-');
  await writeTree(dir, files);
  return dir;
}

async function signed(curve: 'P-256' | 'P-384' | 'P-521' = 'P-256') {
  const dir = await model();
  const keys = ecKeyPair(curve);
  const signaturePath = path.join(await tempDir('oms-sig-'), 'model.sig');
  await signModel({ modelPath: dir, signer: await KeySigner.create({ privateKey: keys.privateKey }), signaturePath });
  assertCodePointOrder(signaturePath);
  return { dir, keys, signaturePath, verifier: await KeyVerifier.create({ publicKey: keys.publicKey }) };
}

describe('key signing', () => {
  for (const curve of ['P-256', 'P-384', 'P-521'] as const) {
    it(`signs and verifies with ${curve}`, async () => {
      const { dir, signaturePath, verifier } = await signed(curve);
      const result = await verifyModel({ modelPath: dir, signaturePath, verifier });
      expect(result.files.sort()).toEqual(['config.json', 'empty.txt', 'weights/part-1.bin', 'weights/part-2.bin']);
      const json = JSON.parse(await fs.readFile(signaturePath, 'utf8'));
      expect(json.mediaType).toBe(BUNDLE_MEDIA_TYPE);
      expect(json.verificationMaterial.tlogEntries).toEqual([]);
      expect(json.verificationMaterial.publicKey.hint).toBe(result.signer.publicKeyHint);
      expect(json.dsseEnvelope.signatures[0].keyid).toBe('');
    });
  }

  it('reads encrypted keys with their password and refuses a wrong one', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    const encrypted = privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'hunter2' });
    const dir = await model();
    const sig = path.join(await tempDir(), 'm.sig');
    await signModel({
      modelPath: dir,
      signaturePath: sig,
      signer: await KeySigner.create({ privateKey: Buffer.from(encrypted), password: 'hunter2' }),
    });
    await verifyModel({
      modelPath: dir,
      signaturePath: sig,
      verifier: await KeyVerifier.create({ publicKey: publicKey.export({ type: 'spki', format: 'pem' }) }),
    });
    const err = await expectCode(KeySigner.create({ privateKey: Buffer.from(encrypted), password: 'wrong' }), 'BAD_KEY');
    expect(err.message).toMatch(/password/);
  });

  it('reads SEC1 PEM files that have text before the PEM block (the reference test key)', async () => {
    const dir = await model();
    const sig = path.join(await tempDir(), 'm.sig');
    await signModel({
      modelPath: dir,
      signaturePath: sig,
      signer: await KeySigner.create({ privateKey: path.join(REFERENCE_KEYS, 'signing-key.pem') }),
    });
    const result = await verifyModel({
      modelPath: dir,
      signaturePath: sig,
      verifier: await KeyVerifier.create({ publicKey: path.join(REFERENCE_KEYS, 'signing-key-pub.pem') }),
    });
    expect(result.signer.publicKeyHint).toBe('e8450dec4eb99dae995da9af1bc2cc9f76ed669ee2e744f57abba763df3e3f8e');
  });

  it('refuses keys that are not EC P-256/384/521', async () => {
    const ed = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' });
    const err = await expectCode(KeySigner.create({ privateKey: Buffer.from(ed) }), 'BAD_KEY');
    expect(err.message).toMatch(/elliptic-curve/);
    const k1 = generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).privateKey.export({ type: 'pkcs8', format: 'pem' });
    await expectCode(KeySigner.create({ privateKey: Buffer.from(k1) }), 'BAD_KEY');
    await expectCode(KeySigner.create({ privateKey: '/nonexistent/key.pem' }), 'NOT_FOUND');
  });

  it('names the key mismatch when verifying with another key', async () => {
    const { dir, signaturePath } = await signed();
    const other = await KeyVerifier.create({ publicKey: ecKeyPair().publicKey });
    const err = await expectCode(verifyModel({ modelPath: dir, signaturePath, verifier: other }), 'KEY_MISMATCH');
    expect(err.message).toMatch(/another key/);
  });

  it('detects a signature that does not match its payload, with or without a hint', async () => {
    const { dir, signaturePath, verifier } = await signed();
    const json = JSON.parse(await fs.readFile(signaturePath, 'utf8'));
    const statement = JSON.parse(Buffer.from(json.dsseEnvelope.payload, 'base64').toString());
    statement.subject[0].name = 'renamed';
    json.dsseEnvelope.payload = Buffer.from(JSON.stringify(statement)).toString('base64');
    await fs.writeFile(signaturePath, JSON.stringify(json));
    await expectCode(verifyModel({ modelPath: dir, signaturePath, verifier }), 'SIGNATURE_INVALID');
    delete json.verificationMaterial.publicKey.hint;
    await fs.writeFile(signaturePath, JSON.stringify(json));
    await expectCode(verifyModel({ modelPath: dir, signaturePath, verifier }), 'SIGNATURE_INVALID');
  });

  it('refuses an empty model and writes nothing', async () => {
    const dir = await model({ '.git/HEAD': 'x' });
    const sig = path.join(dir, 'model.sig');
    await expectCode(
      signModel({ modelPath: dir, signaturePath: sig, signer: await KeySigner.create({ privateKey: ecKeyPair().privateKey }) }),
      'EMPTY_MODEL',
    );
    expect(await fs.readdir(dir)).toEqual(['.git']);
  });

  it('leaves no partial signature when the signer fails', async () => {
    const dir = await model();
    const failing: Signer = { method: 'key', sign: async () => Promise.reject(new Error('token expired')) };
    await expect(signModel({ modelPath: dir, signaturePath: path.join(dir, 'model.sig'), signer: failing })).rejects.toThrow(
      'token expired',
    );
    expect((await fs.readdir(dir)).sort()).toEqual(['config.json', 'empty.txt', 'weights']);
  });

  it('excludes a signature inside the model and records it as ignored', async () => {
    const dir = await model();
    const sig = path.join(dir, 'model.sig');
    const { manifest } = await signModel({
      modelPath: dir,
      signaturePath: sig,
      signer: await KeySigner.create({ privateKey: ecKeyPair().privateKey }),
    });
    expect(manifest.serialization.ignorePaths).toContain('model.sig');
    expect(manifest.resources.map((r) => r.name)).not.toContain('model.sig');
  });
});

describe('verification reports every difference', () => {
  it('names a changed, an added, a removed and a renamed file', async () => {
    const { dir, signaturePath, verifier } = await signed();
    await fs.writeFile(path.join(dir, 'weights/part-1.bin'), 'abX');
    let err = await expectCode(verifyModel({ modelPath: dir, signaturePath, verifier }), 'DIGEST_MISMATCH');
    expect(err.differences).toEqual([expect.objectContaining({ kind: 'mismatch', name: 'weights/part-1.bin' })]);
    await fs.writeFile(path.join(dir, 'weights/part-1.bin'), 'abc');

    await fs.writeFile(path.join(dir, 'payload.py'), 'import os');
    err = await expectCode(verifyModel({ modelPath: dir, signaturePath, verifier }), 'UNSIGNED_FILE');
    expect(err.message).toContain('payload.py');
    await verifyModel({ modelPath: dir, signaturePath, verifier, ignoreUnsignedFiles: true });
    await fs.rm(path.join(dir, 'payload.py'));

    await fs.rm(path.join(dir, 'config.json'));
    err = await expectCode(verifyModel({ modelPath: dir, signaturePath, verifier }), 'MISSING_FILE');
    expect(err.message).toContain('config.json');
    await expectCode(verifyModel({ modelPath: dir, signaturePath, verifier, ignoreUnsignedFiles: true }), 'MISSING_FILE');
    await fs.writeFile(path.join(dir, 'config.json'), '{}');

    await fs.rename(path.join(dir, 'weights/part-2.bin'), path.join(dir, 'weights/part-3.bin'));
    err = await expectCode(verifyModel({ modelPath: dir, signaturePath, verifier }), 'MISSING_FILE');
    expect(err.differences).toEqual([
      { kind: 'missing', name: 'weights/part-2.bin' },
      { kind: 'unsigned', name: 'weights/part-3.bin' },
    ]);
  });

  it('applies the ignore paths recorded by the signer', async () => {
    const dir = await model();
    const keys = ecKeyPair();
    const sig = path.join(await tempDir(), 'm.sig');
    await signModel({
      modelPath: dir,
      signaturePath: sig,
      ignorePaths: ['config.json'],
      signer: await KeySigner.create({ privateKey: keys.privateKey }),
    });
    await fs.writeFile(path.join(dir, 'config.json'), 'edited later');
    await verifyModel({ modelPath: dir, signaturePath: sig, verifier: await KeyVerifier.create({ publicKey: keys.publicKey }) });
  });

  for (const variant of [
    { method: 'shards' as const, hashAlgorithm: 'sha256' as const, shardSize: 3 },
    { method: 'files' as const, hashAlgorithm: 'blake2b' as const },
    { method: 'files' as const, hashAlgorithm: 'blake3' as const },
    { method: 'shards' as const, hashAlgorithm: 'blake3' as const, shardSize: 2 },
  ]) {
    it(`verifies with the recorded serialization (${variant.method}, ${variant.hashAlgorithm})`, async () => {
      const dir = await model();
      const keys = ecKeyPair();
      const sig = path.join(await tempDir(), 'm.sig');
      await signModel({ modelPath: dir, signaturePath: sig, ...variant, signer: await KeySigner.create({ privateKey: keys.privateKey }) });
      const verifier = await KeyVerifier.create({ publicKey: keys.publicKey });
      const result = await verifyModel({ modelPath: dir, signaturePath: sig, verifier });
      expect(result.manifest.serialization.hashType).toBe(variant.hashAlgorithm);
      await fs.appendFile(path.join(dir, 'weights/part-2.bin'), 'h');
      const err = await expectCode(verifyModel({ modelPath: dir, signaturePath: sig, verifier }), 'DIGEST_MISMATCH');
      expect(err.message).toContain('weights/part-2.bin');
    });
  }

  it('accepts a single-file resource named by its basename (the spec form) as well as "."', async () => {
    const dir = await model({ 'model.onnx': 'onnx bytes' });
    const file = path.join(dir, 'model.onnx');
    const keys = ecKeyPair();
    const manifest = await hashModel({ modelPath: file });
    expect(manifest.resources[0].name).toBe('.');
    const specForm = { ...manifest, resources: [{ ...manifest.resources[0], name: 'model.onnx' }] };
    const bundle = await signManifest({ manifest: specForm, signer: await KeySigner.create({ privateKey: keys.privateKey }) });
    const sig = path.join(await tempDir(), 'm.sig');
    await fs.writeFile(sig, JSON.stringify(bundle));
    await verifyModel({ modelPath: file, signaturePath: sig, verifier: await KeyVerifier.create({ publicKey: keys.publicKey }) });
  });
});

describe('statement checks after the signature', () => {
  const keys = ecKeyPair();
  async function bundleFor(statement: unknown, payloadType = PAYLOAD_TYPE) {
    const signer = await KeySigner.create({ privateKey: keys.privateKey });
    return signPayload({ signer, payload: Buffer.from(JSON.stringify(statement)), payloadType });
  }
  const good = {
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ name: 'm', digest: { sha256: rootDigest([{ name: 'a', algorithm: 'sha256', digest: 'aa' }]) } }],
    predicateType: 'https://model_signing/signature/v1.0',
    predicate: {
      serialization: { method: 'files', hash_type: 'sha256', allow_symlinks: false },
      resources: [{ name: 'a', algorithm: 'sha256', digest: 'aa' }],
    },
  };
  const verify = async (statement: unknown, payloadType?: string) =>
    verifyBundle({
      bundle: JSON.stringify(await bundleFor(statement, payloadType)),
      verifier: await KeyVerifier.create({ publicKey: keys.publicKey }),
    });

  it('accepts a well-formed statement', async () => {
    expect((await verify(good)).manifest.resources).toEqual([{ name: 'a', algorithm: 'sha256', digest: 'aa' }]);
  });
  const cases: [string, unknown, string?][] = [
    ['a wrong payloadType', good, 'application/json'],
    ['a wrong statement type', { ...good, _type: 'https://in-toto.io/Statement/v0.1' }],
    ['a wrong predicate type', { ...good, predicateType: 'https://example.com/other' }],
    ['two subjects', { ...good, subject: [good.subject[0], good.subject[0]] }],
    ['a root digest that does not match the resources', { ...good, subject: [{ name: 'm', digest: { sha256: '00'.repeat(32) } }] }],
    [
      'an unknown method',
      { ...good, predicate: { ...good.predicate, serialization: { method: 'tree', hash_type: 'sha256', allow_symlinks: false } } },
    ],
  ];
  for (const [what, statement, payloadType] of cases) {
    it(`rejects ${what} with BAD_PAYLOAD`, async () => {
      await expectCode(verify(statement, payloadType), 'BAD_PAYLOAD');
    });
  }

  it('refuses a resource name that leaves the model, and never reads outside it', async () => {
    const outside = await tempDir();
    const dir = path.join(outside, 'model');
    await writeTree(outside, { secret: 'top secret', 'model/a': 'x' });
    const resources = [{ name: '../secret', algorithm: 'sha256', digest: 'aa' }];
    const statement = {
      ...good,
      subject: [{ name: 'm', digest: { sha256: rootDigest(resources) } }],
      predicate: { ...good.predicate, resources },
    };
    const sig = path.join(outside, 'm.sig');
    await fs.writeFile(sig, JSON.stringify(await bundleFor(statement)));
    const err = await expectCode(
      verifyModel({
        modelPath: dir,
        signaturePath: sig,
        verifier: await KeyVerifier.create({ publicKey: keys.publicKey }),
        ignoreUnsignedFiles: true,
      }),
      'PATH_ESCAPE',
    );
    expect(err.message).toContain('../secret');
  });

  it('rejects malformed bundles with BAD_BUNDLE', async () => {
    const bundle = JSON.stringify(await bundleFor(good));
    const variants = [
      bundle.slice(0, bundle.length / 2),
      'not json',
      '[]',
      JSON.stringify({ ...JSON.parse(bundle), mediaType: 'application/vnd.dev.sigstore.bundle+json;version=0.3' }),
    ];
    for (const text of variants) expect(() => parseBundle(text)).toThrow(expect.objectContaining({ code: 'BAD_BUNDLE' }));
  });
});

describe('certificate signing', () => {
  it('signs with a leaf from a CA chain, verifies against the root, and checks usage and validity', async () => {
    const pki = await tempDir('oms-pki-');
    const ca = makeCertificateAuthority(pki);
    const leaf = issueLeaf(pki, ca, { name: 'signer', curve: 'P-384' });
    const dir = await model();
    const sig = path.join(pki, 'm.sig');
    await signModel({
      modelPath: dir,
      signaturePath: sig,
      signer: await CertificateSigner.create({
        privateKey: leaf.key,
        signingCertificate: leaf.cert,
        certificateChain: [ca.intermediateCert],
      }),
    });
    assertCodePointOrder(sig);
    const result = await verifyModel({
      modelPath: dir,
      signaturePath: sig,
      verifier: await CertificateVerifier.create({ certificateChain: [ca.rootCert] }),
    });
    expect(result.signer.certificateSubject).toContain('CN=signer');
    expect(JSON.parse(await fs.readFile(sig, 'utf8')).verificationMaterial.x509CertificateChain.certificates).toHaveLength(2);

    await expectCode(
      verifyModel({
        modelPath: dir,
        signaturePath: sig,
        verifier: await CertificateVerifier.create({ certificateChain: [ca.rootCert], now: new Date(Date.now() + 400 * 86400_000) }),
      }),
      'CERT_CHAIN_INVALID',
    );
    const otherCa = makeCertificateAuthority(path.join(pki, 'other'));
    await expectCode(
      verifyModel({
        modelPath: dir,
        signaturePath: sig,
        verifier: await CertificateVerifier.create({ certificateChain: [otherCa.rootCert] }),
      }),
      'CERT_CHAIN_INVALID',
    );

    const noSigning = issueLeaf(pki, ca, { name: 'tls-only', usage: 'none' });
    // The signer refuses a certificate no verifier would accept signatures of…
    const refused = await expectCode(
      CertificateSigner.create({ privateKey: noSigning.key, signingCertificate: noSigning.cert, certificateChain: [ca.intermediateCert] }),
      'BAD_KEY',
    );
    expect(refused.message).toMatch(/'CN=tls-only' may not be used for signing: its key usage does not include digitalSignature/);
    // …and the verifier refuses the signature of one that signs anyway.
    const der = async (file: string) => new X509Certificate(await fs.readFile(file)).raw;
    const material = { kind: 'x509CertificateChain' as const, certificates: [await der(noSigning.cert), await der(ca.intermediateCert)] };
    const privateKey = createPrivateKey(await fs.readFile(noSigning.key));
    const unchecked: Signer = {
      method: 'certificate',
      sign: (pae) => Promise.resolve({ signature: cryptoSign('sha256', pae, privateKey), material }),
    };
    await signModel({ modelPath: dir, signaturePath: sig, signer: unchecked });
    const err = await expectCode(
      verifyModel({ modelPath: dir, signaturePath: sig, verifier: await CertificateVerifier.create({ certificateChain: [ca.rootCert] }) }),
      'CERT_CHAIN_INVALID',
    );
    expect(err.message).toMatch(/may not be used for signing/);
  });

  it('refuses a certificate that is not for the private key', async () => {
    const pki = await tempDir('oms-pki-');
    const ca = makeCertificateAuthority(pki);
    const leaf = issueLeaf(pki, ca, { name: 'signer' });
    const err = await expectCode(
      CertificateSigner.create({ privateKey: ecKeyPair().privateKey, signingCertificate: leaf.cert }),
      'BAD_KEY',
    );
    expect(err.message).toMatch(/not for this private key/);
    expect(createPrivateKey(await fs.readFile(leaf.key)).asymmetricKeyType).toBe('ec');
  });
});

describe('ManifestChecker', () => {
  it('checks streamed files shard by shard across chunk boundaries, then reports what never arrived', async () => {
    const dir = await model({ 'a.bin': 'abcdefghij', 'b.bin': 'xyz' });
    const manifest = await hashModel({ modelPath: dir, method: 'shards', shardSize: 4 });
    const checker = new ManifestChecker(await verifiedManifestOf(manifest));
    const hasher = checker.createFileHasher('a.bin');
    for (const chunk of ['abc', 'defgh', 'ij']) hasher.update(Buffer.from(chunk));
    const produced = hasher.finish();
    expect(produced.map((r) => r.name)).toEqual(['a.bin:0:4', 'a.bin:4:8', 'a.bin:8:10']);
    expect(() => checker.checkBytes('b.bin', Buffer.from('xyZ'))).toThrow(expect.objectContaining({ code: 'DIGEST_MISMATCH' }));
    expect(() => checker.checkBytes('c.bin', Buffer.from('new'))).toThrow(expect.objectContaining({ code: 'UNSIGNED_FILE' }));
    expect(() => checker.finish()).toThrow(expect.objectContaining({ code: 'MISSING_FILE' }));
    checker.checkBytes('b.bin', Buffer.from('xyz'));
    checker.finish();
  });

  it('compares a listing before any byte is read: missing, unsigned, and empty files in shard mode', async () => {
    const dir = await model({ 'a.bin': 'abcdefghij', 'empty.txt': '' });
    const keys = ecKeyPair();
    const signaturePath = path.join(await tempDir(), 'model.sig');
    await signModel({ modelPath: dir, signaturePath, signer: await KeySigner.create(keys), method: 'shards', shardSize: 4 });
    const verifier = await KeyVerifier.create(keys);
    // The empty file has no shard, so it is not listed, yet it is not unsigned either.
    (await openVerifiedModel({ modelPath: dir, signaturePath, verifier })).checkListing();
    await fs.rm(path.join(dir, 'a.bin'));
    await fs.writeFile(path.join(dir, 'extra.bin'), 'x');
    const changed = await openVerifiedModel({ modelPath: dir, signaturePath, verifier });
    expect(() => changed.checkListing()).toThrow(
      expect.objectContaining({
        code: 'MISSING_FILE',
        differences: [
          { kind: 'missing', name: 'a.bin' },
          { kind: 'unsigned', name: 'extra.bin' },
        ],
      }),
    );
    await fs.writeFile(path.join(dir, 'a.bin'), 'abcdefghij');
    (await openVerifiedModel({ modelPath: dir, signaturePath, verifier, ignoreUnsignedFiles: true })).checkListing();
  });

  it('refuses a manifest that did not come from a verified signature', async () => {
    const dir = await model({ 'a.bin': 'abc' });
    const manifest = await hashModel({ modelPath: dir });
    const parsed = { ...manifest, rootDigest: rootDigest(manifest.resources), predicateType: 'https://model_signing/signature/v1.0' };
    expect(() => new ManifestChecker(parsed as unknown as VerifiedManifest)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    const verified = await verifiedManifestOf(manifest);
    expect(Object.isFrozen(verified) && Object.isFrozen(verified.resources) && Object.isFrozen(verified.resources[0])).toBe(true);
  });
});
