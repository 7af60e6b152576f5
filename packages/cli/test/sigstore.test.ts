import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSigstoreInstance, type SigstoreInstance } from '../../../test-fixtures/sigstore-instance.mjs';
import { REPO_ROOT, cleanupTempDirs, makeTrickyModel, ours, tempDir } from './helpers.js';

// Keyless signing through the CLI against a private Sigstore instance of real
// servers on loopback (test-fixtures/sigstore-instance.mjs: Fulcio, Rekor v2
// and a TSA), and the reference's production bundles offline.

const EMAIL = 'alice@example.com';
let instance: SigstoreInstance;
let work: string;

beforeAll(async () => {
  instance = await startSigstoreInstance();
  work = await tempDir('oms-cli-sigstore-');
});
afterAll(async () => {
  await instance?.close();
  await cleanupTempDirs();
});

describe('sign/verify sigstore through the CLI', () => {
  it('signs with an identity token (sigstore is the default method) on the Rekor v2 log, and verifies identity and issuer', async () => {
    const issuer = instance.urls.oidc;
    const model = await makeTrickyModel(work);
    const sig = path.join(work, 'keyless.sig');
    const token = instance.identityToken({ email: EMAIL });
    const signed = await ours(['sign', model, '--identity-token', token, '--trust-config', instance.trustConfigPath, '--signature', sig]);
    expect(signed.code, signed.stderr).toBe(0);
    const entries = JSON.parse(await fs.readFile(sig, 'utf8')).verificationMaterial.tlogEntries;
    expect(entries.map((e: { kindVersion: unknown }) => e.kindVersion)).toEqual([{ kind: 'hashedrekord', version: '0.0.2' }]);

    const trust = ['--trust-config', instance.trustConfigPath, '--signature', sig];
    const verified = await ours(['verify', model, '--identity', EMAIL, '--identity-provider', issuer, ...trust, '--json']);
    expect(verified.code, verified.stderr).toBe(0);
    expect(JSON.parse(verified.stdout).signer).toMatchObject({ method: 'sigstore', identity: EMAIL, issuer });

    const wrongIdentity = await ours([
      'verify',
      'sigstore',
      model,
      '--identity',
      'mallory@example.com',
      '--identity-provider',
      issuer,
      ...trust,
    ]);
    expect(wrongIdentity.code).toBe(1);
    expect(wrongIdentity.stderr).toContain('[IDENTITY_MISMATCH]');
    const wrongIssuer = await ours([
      'verify',
      'sigstore',
      model,
      '--identity',
      EMAIL,
      '--identity-provider',
      'https://other.example.com',
      ...trust,
    ]);
    expect(wrongIssuer.code).toBe(1);
    expect(wrongIssuer.stderr).toContain('[IDENTITY_MISMATCH]');
    const asKey = await ours([
      'verify',
      'key',
      model,
      '--public-key',
      path.join(REPO_ROOT, 'test-fixtures/vectors/model-transparency/keys/certificate/signing-key-pub.pem'),
      '--signature',
      sig,
    ]);
    expect(asKey.code).toBe(1);
    expect(asKey.stderr).toContain('[WRONG_METHOD]');

    await fs.appendFile(path.join(model, 'config.json'), ' ');
    const tampered = await ours(['verify', 'sigstore', model, '--identity', EMAIL, '--identity-provider', issuer, ...trust]);
    expect(tampered.code).toBe(1);
    expect(tampered.stderr).toContain('config.json');
  });

  it('refuses a signing config with a Rekor v2 log and no timestamp authority, before asking for a token', async () => {
    const config = instance.trustConfig();
    config.signingConfig.tsaUrls = [];
    const trustConfig = path.join(work, 'no-tsa.json');
    await fs.writeFile(trustConfig, JSON.stringify(config));
    const model = await makeTrickyModel(work, 'no-tsa');
    const sig = path.join(work, 'no-tsa.sig');
    const result = await ours(['sign', 'sigstore', model, '--use-ambient-credentials', '--trust-config', trustConfig, '--signature', sig]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('[INVALID_ARGUMENT]');
    expect(result.stderr).toContain('no signed time');
    await expect(fs.access(sig)).rejects.toThrow();
  });

  it("verifies the reference's production-signed model offline", async () => {
    const dir = path.join(REPO_ROOT, 'test-fixtures/vectors/model-transparency/historical/v1.1.0-sigstore');
    const result = await ours([
      'verify',
      'sigstore',
      dir,
      '--signature',
      path.join(dir, 'model.sig'),
      '--identity',
      'stefanb@us.ibm.com',
      '--identity-provider',
      'https://sigstore.verify.ibm.com/oauth2',
      '--offline',
      '--json',
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout).signer.trustRoot).toMatch(/production/);
  });

  it('fails clearly when no identity token can be had', async () => {
    const model = await makeTrickyModel(work, 'no-token');
    const sig = path.join(work, 'none.sig');
    const result = await ours(
      ['sign', 'sigstore', model, '--use-ambient-credentials', '--trust-config', instance.trustConfigPath, '--signature', sig],
      undefined,
    );
    // No ambient credentials in the test environment and no terminal to sign in: a clear error, nothing written.
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('[IDENTITY_TOKEN_ERROR]');
    await expect(fs.access(sig)).rejects.toThrow();
  });
});
