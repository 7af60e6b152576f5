import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMockInstance, testIdentityToken, type MockInstance } from '../../core/test/sigstore/mock-instance.js';
import { REPO_ROOT, cleanupTempDirs, makeTrickyModel, ours, tempDir } from './helpers.js';

// Keyless signing through the CLI, against @sigstore/mock's Fulcio, Rekor and
// TSA served on loopback, and the reference's production bundles offline.

const ISSUER = 'https://issuer.example.com';
const EMAIL = 'alice@example.com';
let instance: MockInstance;
let work: string;

beforeAll(async () => {
  instance = await startMockInstance();
  work = await tempDir('oms-cli-sigstore-');
});
afterAll(async () => {
  await instance.close();
  await cleanupTempDirs();
});

describe('sign/verify sigstore through the CLI', () => {
  it('signs with an identity token (sigstore is the default method) and verifies identity and issuer', async () => {
    const model = await makeTrickyModel(work);
    const sig = path.join(work, 'keyless.sig');
    const token = testIdentityToken({ iss: ISSUER, email: EMAIL });
    const signed = await ours(['sign', model, '--identity-token', token, '--trust-config', instance.trustConfigPath, '--signature', sig]);
    expect(signed.code, signed.stderr).toBe(0);

    const trust = ['--trust-config', instance.trustConfigPath, '--signature', sig];
    const verified = await ours(['verify', model, '--identity', EMAIL, '--identity-provider', ISSUER, ...trust, '--json']);
    expect(verified.code, verified.stderr).toBe(0);
    expect(JSON.parse(verified.stdout).signer).toMatchObject({ method: 'sigstore', identity: EMAIL, issuer: ISSUER });

    const wrongIdentity = await ours([
      'verify',
      'sigstore',
      model,
      '--identity',
      'mallory@example.com',
      '--identity-provider',
      ISSUER,
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
    const tampered = await ours(['verify', 'sigstore', model, '--identity', EMAIL, '--identity-provider', ISSUER, ...trust]);
    expect(tampered.code).toBe(1);
    expect(tampered.stderr).toContain('config.json');
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
