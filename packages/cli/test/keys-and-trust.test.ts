// Keys where they belong (a private key to verify, a public key to sign, a
// password for a key without one) and explicit trust for `verify certificate`
// (trust anchors or an opt-in to the public roots, identity pinning).
import { execFile } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REFERENCE_PYTHON, REPO_ROOT, cleanupTempDirs, ours, reference, tempDir, writeKeyPair, type RunResult } from './helpers.js';

let work: string;
let model: string;

beforeAll(async () => {
  work = await tempDir('oms-keys-');
  model = path.join(work, 'model');
  await fs.mkdir(model);
  await fs.writeFile(path.join(model, 'weights.bin'), 'weights');
});
afterAll(cleanupTempDirs);

function failure(result: RunResult): { code: string; message: string } {
  const json = JSON.parse(result.stdout) as { ok: boolean; error: { code: string; message: string } };
  expect(json.ok).toBe(false);
  return json.error;
}

describe('keys where they belong', () => {
  it('verify key refuses a private key and says how to get the public one (the reference refuses too)', async () => {
    const keys = await writeKeyPair(work, 'P-256');
    const sig = path.join(work, 'key.sig');
    expect((await ours(['sign', 'key', model, '--private-key', keys.privateKey, '--signature', sig])).code).toBe(0);
    const mine = await ours(['verify', 'key', model, '--signature', sig, '--public-key', keys.privateKey, '--json']);
    expect(mine.code).toBe(1);
    const error = failure(mine);
    expect(error.code).toBe('BAD_KEY');
    expect(error.message).toMatch(/holds a private key; verification needs the public key.*openssl pkey -in private\.pem -pubout/);
    const theirs = await reference(['verify', 'key', model, '--signature', sig, '--public_key', keys.privateKey]);
    expect(theirs.code).not.toBe(0);
    expect(theirs.stdout + theirs.stderr).toMatch(/public key/);
    // The right key still verifies.
    expect((await ours(['verify', 'key', model, '--signature', sig, '--public-key', keys.publicKey])).code).toBe(0);
  });

  it('sign refuses a public key or a certificate given as the private key, by name', async () => {
    const keys = await writeKeyPair(work, 'P-384');
    const sig = path.join(work, 'never.sig');
    const withPublic = await ours(['sign', 'key', model, '--private-key', keys.publicKey, '--signature', sig, '--json']);
    expect(withPublic.code).toBe(1);
    expect(failure(withPublic)).toMatchObject({
      code: 'BAD_KEY',
      message: expect.stringMatching(/holds a public key, not a private key; signing needs the private key/),
    });
    const chains = await makeChains();
    const withCertificate = await ours([
      'sign',
      'key',
      model,
      '--private-key',
      path.join(chains, 'good/leaf.pem'),
      '--signature',
      sig,
      '--json',
    ]);
    expect(failure(withCertificate)).toMatchObject({
      code: 'BAD_KEY',
      message: expect.stringMatching(/holds a certificate, not a private key/),
    });
    await expect(fs.access(sig)).rejects.toThrow();
  });

  it('refuses a password for a key that is not encrypted (as the reference does) instead of ignoring it', async () => {
    const keys = await writeKeyPair(work, 'P-256');
    const sig = path.join(work, 'password.sig');
    const result = await ours([
      'sign',
      'key',
      model,
      '--private-key',
      keys.privateKey,
      '--password',
      'hunter2',
      '--signature',
      sig,
      '--json',
    ]);
    expect(result.code).toBe(2);
    expect(failure(result)).toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(/password was given but the private key is not encrypted/),
    });
    await expect(fs.access(sig)).rejects.toThrow();
  });
});

let chainsDir: string | undefined;
/** The good chain of test-fixtures/make_chains.py (leaf SAN signer@example.com), made once. */
async function makeChains(): Promise<string> {
  if (!chainsDir) {
    chainsDir = path.join(work, 'chains');
    await promisify(execFile)(REFERENCE_PYTHON, [path.join(REPO_ROOT, 'test-fixtures/make_chains.py'), chainsDir]);
  }
  return chainsDir;
}

describe('verify certificate: explicit trust and identity pinning', () => {
  let sig: string;
  let root: string;
  let leafPem: string;
  beforeAll(async () => {
    const chains = await makeChains();
    root = path.join(chains, 'good/root.pem');
    leafPem = path.join(chains, 'good/leaf.pem');
    sig = path.join(work, 'cert.sig');
    const signed = await ours([
      'sign',
      'certificate',
      model,
      '--signature',
      sig,
      '--private-key',
      path.join(chains, 'good/leaf.key'),
      '--signing-certificate',
      leafPem,
      '--certificate-chain',
      path.join(chains, 'good/chain.pem'),
    ]);
    expect(signed.code, signed.stderr).toBe(0);
  }, 60_000);
  const verify = (...args: string[]) => ours(['verify', 'certificate', model, '--signature', sig, '--json', ...args]);

  it('is a usage error without --certificate-chain or --use-system-roots, naming both (one error: line, even with --json)', async () => {
    const result = await verify();
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^error: verify certificate needs a trust anchor: .*--certificate-chain.*--use-system-roots[^\n]*\n$/);
    expect(result.stderr).not.toContain('Verification failed');
  });

  it('is WRONG_METHOD when checked with verify key, even against its own key, as a key signature is with verify certificate', async () => {
    const leafKey = path.join(work, 'leaf.pub');
    await fs.writeFile(leafKey, new X509Certificate(await fs.readFile(leafPem)).publicKey.export({ type: 'spki', format: 'pem' }));
    const other = await writeKeyPair(work, 'P-256');
    for (const publicKey of [leafKey, other.publicKey]) {
      const asKey = await ours(['verify', 'key', model, '--signature', sig, '--public-key', publicKey, '--json']);
      expect(asKey.code, publicKey).toBe(1);
      expect(failure(asKey)).toMatchObject({
        code: 'WRONG_METHOD',
        message: expect.stringMatching(/verify it with the 'certificate' method/),
      });
    }
    const keySig = path.join(work, 'key.sig');
    expect((await ours(['sign', 'key', model, '--signature', keySig, '--private-key', other.privateKey])).code).toBe(0);
    const asCertificate = await ours(['verify', 'certificate', model, '--signature', keySig, '--certificate-chain', root, '--json']);
    expect(asCertificate.code).toBe(1);
    expect(failure(asCertificate)).toMatchObject({
      code: 'WRONG_METHOD',
      message: expect.stringMatching(/verify it with the 'key' method/),
    });
  });

  it('with --use-system-roots trusts only the public roots, which never issued a private CA', async () => {
    const result = await verify('--use-system-roots');
    expect(result.code).toBe(1);
    expect(failure(result)).toMatchObject({
      code: 'CERT_CHAIN_INVALID',
      message: expect.stringMatching(/does not chain to any trusted certificate/),
    });
  });

  it('pins the SAN, the subject and the SHA-256 fingerprint', async () => {
    const fingerprint = new X509Certificate(await fs.readFile(leafPem)).fingerprint256; // AA:BB:… upper case
    const pinned = await verify(
      '--certificate-chain',
      root,
      '--certificate-identity',
      'signer@example.com',
      '--certificate-subject',
      'O=OMS Test, CN=OMS Test Signer',
      '--certificate-fingerprint',
      fingerprint,
    );
    expect(pinned.code, pinned.stdout).toBe(0);
    expect(JSON.parse(pinned.stdout)).toMatchObject({ ok: true, signer: { certificateSubject: 'O=OMS Test, CN=OMS Test Signer' } });

    const wrongSan = await verify('--certificate-chain', root, '--certificate-identity', 'mallory@example.com');
    expect(wrongSan.code).toBe(1);
    expect(failure(wrongSan)).toMatchObject({
      code: 'IDENTITY_MISMATCH',
      message: expect.stringMatching(/does not name 'mallory@example\.com' \(its subject alternative names: signer@example\.com\)/),
    });
    const wrongSubject = await verify('--certificate-chain', root, '--certificate-subject', 'CN=OMS Test Signer');
    expect(failure(wrongSubject)).toMatchObject({
      code: 'IDENTITY_MISMATCH',
      message: expect.stringMatching(/subject 'O=OMS Test, CN=OMS Test Signer' is not the required 'CN=OMS Test Signer'/),
    });
    const other = createHash('sha256').update('another certificate').digest('hex');
    const wrongFingerprint = await verify('--certificate-chain', root, '--certificate-fingerprint', other);
    expect(failure(wrongFingerprint)).toMatchObject({
      code: 'IDENTITY_MISMATCH',
      message: expect.stringContaining(`not the required ${other}`),
    });
  });

  it('--log-fingerprints prints each certificate, and a junk certificate is a BAD_BUNDLE error', async () => {
    const logged = await verify('--certificate-chain', root, '--log-fingerprints');
    expect(logged.code).toBe(0);
    const leafDer = new X509Certificate(await fs.readFile(leafPem)).raw;
    expect(logged.stderr).toContain(`${createHash('sha256').update(leafDer).digest('hex')}  O=OMS Test, CN=OMS Test Signer`);

    const bundle = JSON.parse(await fs.readFile(sig, 'utf8'));
    bundle.verificationMaterial.x509CertificateChain.certificates[0].rawBytes = Buffer.from('not a certificate').toString('base64');
    const junk = path.join(work, 'junk.sig');
    await fs.writeFile(junk, JSON.stringify(bundle));
    const result = await ours([
      'verify',
      'certificate',
      model,
      '--signature',
      junk,
      '--certificate-chain',
      root,
      '--log-fingerprints',
      '--json',
    ]);
    expect(result.code).toBe(1);
    expect(failure(result)).toMatchObject({ code: 'BAD_BUNDLE', message: expect.stringMatching(/certificate 0 cannot be parsed/) });
  });
});
