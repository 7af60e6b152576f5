// Keyless interop with the reference (model-signing 1.1.1 on sigstore-python
// 4.5.1), both ways: on a private Sigstore instance of real servers
// (test-fixtures/sigstore-instance.mjs: Fulcio, Rekor v2, a TSA), where both
// write a hashedrekord 0.0.2 entry over the PAE; and, for Rekor v1, which has
// no real server here, on @sigstore/mock (sigstore/mock-instance.ts).
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SigstoreSigner, SigstoreVerifier, signModel, verifyModel, type Verifier } from '../dist/index.js';
import { WebSigstoreVerifier } from '../dist/browser.js';
import { startSigstoreInstance, type SigstoreInstance } from '../../../test-fixtures/sigstore-instance.mjs';
import { cleanupTempDirs, expectCode, tempDir } from './helpers.js';
import { startMockInstance, testIdentityToken, type MockInstance } from './sigstore/mock-instance.js';

// The reference CLI (model-signing 1.1.1), installed by scripts/setup-reference.sh.
const REFERENCE_BIN =
  process.env['MODEL_SIGNING_REFERENCE_BIN'] ?? path.resolve(fileURLToPath(import.meta.url), '../../../../.venv-ref/bin/model_signing');
const IDENTITY = 'alice@example.com';
const MOCK_ISSUER = 'https://issuer.test.example';

/** Runs the reference CLI without blocking this process, which serves the instance's OIDC issuer and CT log. */
async function reference(args: string[]): Promise<{ ok: boolean; output: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(REFERENCE_BIN, args, { timeout: 60_000 });
    return { ok: true, output: stdout + stderr };
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    return { ok: false, output: `${err.stdout ?? ''}${err.stderr ?? ''}${err.message}` };
  }
}

let instance: SigstoreInstance;
let mock: MockInstance;
let dir: string;

beforeAll(async () => {
  [instance, mock] = await Promise.all([startSigstoreInstance(), startMockInstance()]);
  dir = await tempDir('sigstore-interop-');
});

afterAll(async () => {
  await Promise.all([instance?.close(), mock?.close()]);
  await cleanupTempDirs();
});

async function makeModel(name: string): Promise<string> {
  const model = path.join(dir, name);
  await fs.mkdir(path.join(model, 'nested'), { recursive: true });
  await fs.writeFile(path.join(model, 'weights.bin'), Buffer.from(Array.from({ length: 1000 }, (_, i) => (i * 7) % 256)));
  await fs.writeFile(path.join(model, 'nested', 'tokenizer.json'), `{"model": "${name}"}`);
  return model;
}

const entryKinds = async (signature: string) =>
  JSON.parse(await fs.readFile(signature, 'utf8')).verificationMaterial.tlogEntries.map((e: { kindVersion: unknown }) => e.kindVersion);

async function bothVerifiers(options: { identity: string; identityProvider: string }, trustConfig: string): Promise<Verifier[]> {
  return [
    await SigstoreVerifier.create({ ...options, trustConfig }),
    await WebSigstoreVerifier.create({ ...options, trustedRoot: await fs.readFile(trustConfig, 'utf8') }),
  ];
}

/** Signs `model` with the reference against `trustConfig`, with an identity token. */
async function referenceSigns(model: string, signature: string, trustConfig: string, token: string): Promise<void> {
  const signed = await reference([
    'sign',
    'sigstore',
    model,
    '--signature',
    signature,
    '--trust_config',
    trustConfig,
    '--identity_token',
    token,
  ]);
  expect(signed.output).toContain('Signing succeeded');
}

/** Whether the reference verifies `signature` over `model` for `identity`. */
function referenceVerifies(model: string, signature: string, trustConfig: string, identity: string, issuer: string) {
  return reference([
    'verify',
    'sigstore',
    model,
    '--signature',
    signature,
    '--trust_config',
    trustConfig,
    '--identity',
    identity,
    '--identity_provider',
    issuer,
  ]);
}

describe('keyless interop with the reference (model-signing 1.1.1)', () => {
  it('finds the reference CLI', async () => {
    await expect(
      fs.access(REFERENCE_BIN),
      `reference CLI missing at ${REFERENCE_BIN}; run scripts/setup-reference.sh or set MODEL_SIGNING_REFERENCE_BIN`,
    ).resolves.toBeUndefined();
  });

  describe('on the real instance, Rekor v2', () => {
    it('the reference verifies our bundle, and rejects another identity', async () => {
      const model = await makeModel('ours');
      const signature = path.join(dir, 'ours.sig');
      const signer = await SigstoreSigner.create({
        identityToken: instance.identityToken({ email: IDENTITY }),
        trustConfig: instance.trustConfigPath,
      });
      await signModel({ modelPath: model, signer, signaturePath: signature });
      expect(await entryKinds(signature)).toEqual([{ kind: 'hashedrekord', version: '0.0.2' }]);
      const accepted = await referenceVerifies(model, signature, instance.trustConfigPath, IDENTITY, instance.urls.oidc);
      expect(accepted.output).toContain('Verification succeeded');
      expect(accepted.ok).toBe(true);
      const refused = await referenceVerifies(model, signature, instance.trustConfigPath, 'mallory@example.com', instance.urls.oidc);
      expect(refused.ok).toBe(false);
      expect(refused.output).toContain('Verification failed');
    });

    it('both our verifiers verify the bundle the reference signs against the same instance, and refuse another issuer', async () => {
      const model = await makeModel('theirs');
      const signature = path.join(dir, 'theirs.sig');
      await referenceSigns(model, signature, instance.trustConfigPath, instance.identityToken({ email: IDENTITY }));
      expect(await entryKinds(signature)).toEqual([{ kind: 'hashedrekord', version: '0.0.2' }]);
      for (const verifier of await bothVerifiers({ identity: IDENTITY, identityProvider: instance.urls.oidc }, instance.trustConfigPath)) {
        const result = await verifyModel({ modelPath: model, signaturePath: signature, verifier });
        expect(result.signer).toMatchObject({ method: 'sigstore', identity: IDENTITY, issuer: instance.urls.oidc });
        expect(result.files.sort()).toEqual(['nested/tokenizer.json', 'weights.bin']);
      }
      for (const verifier of await bothVerifiers(
        { identity: IDENTITY, identityProvider: 'https://other.example' },
        instance.trustConfigPath,
      ))
        await expectCode(verifyModel({ modelPath: model, signaturePath: signature, verifier }), 'IDENTITY_MISMATCH');
    });

    it('given a config that lists the Rekor v2 log and a Rekor v1 log, both sign on v2', async () => {
      const config = instance.trustConfig();
      config.signingConfig.rekorTlogUrls.push({ ...config.signingConfig.rekorTlogUrls[0], url: mock.url, majorApiVersion: 1 });
      const trustConfig = path.join(dir, 'v1-and-v2.json');
      await fs.writeFile(trustConfig, JSON.stringify(config));
      const model = await makeModel('both-logs');
      const before = mock.requests.length;
      const [ours, theirs] = [path.join(dir, 'both-ours.sig'), path.join(dir, 'both-theirs.sig')];
      await signModel({
        modelPath: model,
        signer: await SigstoreSigner.create({ identityToken: instance.identityToken({ email: IDENTITY }), trustConfig }),
        signaturePath: ours,
      });
      await referenceSigns(model, theirs, trustConfig, instance.identityToken({ email: IDENTITY }));
      for (const signature of [ours, theirs]) expect(await entryKinds(signature)).toEqual([{ kind: 'hashedrekord', version: '0.0.2' }]);
      expect(mock.requests.slice(before)).toEqual([]);
    });
  });

  describe('on @sigstore/mock, Rekor v1 (no real Rekor v1 server runs here)', () => {
    it('the reference verifies our dsse 0.0.1 bundle', async () => {
      const model = await makeModel('ours-v1');
      const signature = path.join(dir, 'ours-v1.sig');
      const signer = await SigstoreSigner.create({
        identityToken: testIdentityToken({ iss: MOCK_ISSUER, email: IDENTITY }),
        trustConfig: mock.trustConfigPath,
      });
      await signModel({ modelPath: model, signer, signaturePath: signature });
      expect(await entryKinds(signature)).toEqual([{ kind: 'dsse', version: '0.0.1' }]);
      const accepted = await referenceVerifies(model, signature, mock.trustConfigPath, IDENTITY, MOCK_ISSUER);
      expect(accepted.output).toContain('Verification succeeded');
    });

    it('both our verifiers verify the bundle the reference signs there', async () => {
      const model = await makeModel('theirs-v1');
      const signature = path.join(dir, 'theirs-v1.sig');
      await referenceSigns(model, signature, mock.trustConfigPath, testIdentityToken({ iss: MOCK_ISSUER, email: IDENTITY }));
      expect(await entryKinds(signature)).toEqual([{ kind: 'dsse', version: '0.0.1' }]);
      for (const verifier of await bothVerifiers({ identity: IDENTITY, identityProvider: MOCK_ISSUER }, mock.trustConfigPath)) {
        const result = await verifyModel({ modelPath: model, signaturePath: signature, verifier });
        expect(result.signer).toMatchObject({ method: 'sigstore', identity: IDENTITY, issuer: MOCK_ISSUER });
      }
    });
  });
});
