import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SigstoreSigner, SigstoreVerifier, isModelSigningError, signModel, verifyModel } from '../dist/index.js';
import { startMockInstance, testIdentityToken, type MockInstance } from './sigstore/mock-instance.js';

// The reference CLI (model-signing 1.1.1), installed by scripts/setup-reference.sh.
const REFERENCE_BIN =
  process.env['MODEL_SIGNING_REFERENCE_BIN'] ?? path.resolve(fileURLToPath(import.meta.url), '../../../../.venv-ref/bin/model_signing');
const ISSUER = 'https://issuer.test.example';
const IDENTITY = 'alice@example.com';

async function reference(args: string[]): Promise<{ ok: boolean; output: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(REFERENCE_BIN, args, { timeout: 60_000 });
    return { ok: true, output: stdout + stderr };
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    return { ok: false, output: `${err.stdout ?? ''}${err.stderr ?? ''}${err.message}` };
  }
}

let instance: MockInstance;
let dir: string;

beforeAll(async () => {
  instance = await startMockInstance();
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sigstore-interop-'));
});

afterAll(async () => {
  await instance?.close();
  if (dir) await fs.rm(dir, { recursive: true, force: true });
});

async function makeModel(name: string): Promise<string> {
  const model = path.join(dir, name);
  await fs.mkdir(path.join(model, 'nested'), { recursive: true });
  await fs.writeFile(path.join(model, 'weights.bin'), Buffer.from(Array.from({ length: 1000 }, (_, i) => (i * 7) % 256)));
  await fs.writeFile(path.join(model, 'nested', 'tokenizer.json'), `{"model": "${name}"}`);
  return model;
}

describe('keyless interop with the reference (model-signing 1.1.1) on a loopback instance', () => {
  it('finds the reference CLI', async () => {
    await expect(
      fs.access(REFERENCE_BIN),
      `reference CLI missing at ${REFERENCE_BIN}; run scripts/setup-reference.sh or set MODEL_SIGNING_REFERENCE_BIN`,
    ).resolves.toBeUndefined();
  });

  it('the reference verifies our keyless bundle, and rejects another identity', async () => {
    const model = await makeModel('ours');
    const signature = path.join(dir, 'ours.sig');
    const signer = await SigstoreSigner.create({
      identityToken: testIdentityToken({ iss: ISSUER, email: IDENTITY }),
      trustConfig: instance.trustConfigPath,
    });
    await signModel({ modelPath: model, signer, signaturePath: signature });
    const common = [
      'verify',
      'sigstore',
      model,
      '--signature',
      signature,
      '--trust_config',
      instance.trustConfigPath,
      '--identity_provider',
      ISSUER,
    ];
    const accepted = await reference([...common, '--identity', IDENTITY]);
    expect(accepted.output).toContain('Verification succeeded');
    expect(accepted.ok).toBe(true);
    const refused = await reference([...common, '--identity', 'mallory@example.com']);
    expect(refused.ok).toBe(false);
    expect(refused.output).toContain('Verification failed');
  });

  it('we verify a bundle the reference signs with --identity_token against the same instance', async () => {
    const model = await makeModel('theirs');
    const signature = path.join(dir, 'theirs.sig');
    const token = testIdentityToken({ iss: ISSUER, email: IDENTITY });
    const signed = await reference([
      'sign',
      'sigstore',
      model,
      '--signature',
      signature,
      '--trust_config',
      instance.trustConfigPath,
      '--identity_token',
      token,
    ]);
    expect(signed.output).toContain('Signing succeeded');
    const verifier = await SigstoreVerifier.create({ identity: IDENTITY, identityProvider: ISSUER, trustConfig: instance.trustConfigPath });
    const result = await verifyModel({ modelPath: model, signaturePath: signature, verifier });
    expect(result.signer).toMatchObject({ method: 'sigstore', identity: IDENTITY, issuer: ISSUER });
    expect(result.files.sort()).toEqual(['nested/tokenizer.json', 'weights.bin']);

    const wrongIssuer = await SigstoreVerifier.create({
      identity: IDENTITY,
      identityProvider: 'https://other.example',
      trustConfig: instance.trustConfigPath,
    });
    const error = await verifyModel({ modelPath: model, signaturePath: signature, verifier: wrongIssuer }).catch((e: unknown) => e);
    expect(isModelSigningError(error, 'IDENTITY_MISMATCH')).toBe(true);
  });
});
