import { createPublicKey } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { CreateAliasCommand, CreateKeyCommand, GetPublicKeyCommand, KMSClient, type KeySpec, type KeyUsageType } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMoto, type MotoServer } from '../../../test-fixtures/moto.mjs';
import { makeCertificateAuthority } from '../../../test-fixtures/pki.mjs';
import { issueLeafForPublicKey } from '../../../test-fixtures/pki-external.mjs';
import {
  REFERENCE_CLI,
  cleanupTempDirs,
  makeTrickyModel,
  ours,
  reference,
  settledShiftMs,
  shiftChildClocks,
  tempDir,
  type RunResult,
} from './helpers.js';

// AWS KMS signing against a real implementation of the KMS API on loopback
// (moto's server): keys created through the SDK, signatures made by the CLI
// and the library, verified by our CLI and by the reference with the public
// key fetched from KMS.

function ok(result: RunResult, what: string) {
  expect(result.code, `${what}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`).toBe(0);
}

const REGION = 'eu-west-1';
const CREDENTIALS = { accessKeyId: 'testing', secretAccessKey: 'testing' };

let moto: MotoServer;
let kms: KMSClient;
let work: string;
let dirModel: string;
let fileModel: string;

async function createKey(spec: KeySpec, usage: KeyUsageType = 'SIGN_VERIFY'): Promise<{ id: string; arn: string }> {
  const { KeyMetadata } = await kms.send(new CreateKeyCommand({ KeySpec: spec, KeyUsage: usage }));
  return { id: KeyMetadata!.KeyId!, arn: KeyMetadata!.Arn! };
}

/** The public key as a verifier gets it: GetPublicKey, written as PEM. */
async function exportPublicKey(keyId: string, file: string): Promise<string> {
  const { PublicKey } = await kms.send(new GetPublicKeyCommand({ KeyId: keyId }));
  await fs.writeFile(
    file,
    createPublicKey({ key: Buffer.from(PublicKey!), format: 'der', type: 'spki' }).export({ type: 'spki', format: 'pem' }),
  );
  return file;
}

beforeAll(async () => {
  await fs.access(REFERENCE_CLI).catch(() => {
    throw new Error(`The reference CLI is missing at ${REFERENCE_CLI}; run scripts/setup-reference.sh`);
  });
  moto = await startMoto();
  // The CLI finds KMS as users' tools do: the standard AWS environment variables.
  Object.assign(process.env, {
    AWS_REGION: REGION,
    AWS_ENDPOINT_URL_KMS: moto.endpoint,
    AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
    AWS_EC2_METADATA_DISABLED: 'true',
  });
  delete process.env['AWS_PROFILE'];
  kms = new KMSClient({ region: REGION, endpoint: moto.endpoint, credentials: CREDENTIALS });
  work = await tempDir('oms-kms-');
  dirModel = await makeTrickyModel(work);
  fileModel = path.join(work, 'single-model.onnx');
  await fs.writeFile(fileModel, 'a single-file model');
});
afterAll(async () => {
  kms?.destroy();
  await moto?.stop();
  await cleanupTempDirs();
});

describe.each([
  ['P-256', 'ECC_NIST_P256'],
  ['P-384', 'ECC_NIST_P384'],
  ['P-521', 'ECC_NIST_P521'],
] as const)('AWS KMS key on %s', (curve, spec) => {
  let key: { id: string; arn: string };
  let publicKey: string;
  const alias = `alias/oms-${curve.toLowerCase()}`;
  beforeAll(async () => {
    key = await createKey(spec);
    await kms.send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: key.id }));
    publicKey = await exportPublicKey(key.id, path.join(work, `${curve}.pub.pem`));
  });

  it.each([
    ['a directory', 'key id'],
    ['a single file', 'alias'],
    ['a single file', 'key ARN'],
  ] as const)('signs %s through the CLI, the key named by %s; ours and the reference verify', async (kind, form) => {
    const model = kind === 'a directory' ? dirModel : fileModel;
    const name = form === 'key id' ? key.id : form === 'alias' ? alias : key.arn;
    const sig = path.join(work, `kms-${curve}-${form.replace(' ', '-')}.sig`);
    ok(await ours(['sign', 'key', model, '--private_key', `kms://aws/${name}`, '--signature', sig]), 'our sign');
    ok(await ours(['verify', 'key', model, '--signature', sig, '--public-key', publicKey]), 'our verify');
    ok(await reference(['verify', 'key', model, '--signature', sig, '--public_key', publicKey]), 'reference verify');
  });

  it('signs through the library with explicit connection settings', async () => {
    const { createKmsSigner, signModel } = await import('@model-signing/core');
    const key = await createKey(spec);
    const publicKey = await exportPublicKey(key.id, path.join(work, `${curve}-lib.pub.pem`));
    const signer = await createKmsSigner({
      uri: `kms://aws/${key.id}`,
      aws: { region: REGION, endpoint: moto.endpoint, credentials: CREDENTIALS },
    });
    expect(signer.method).toBe('key');
    const sig = path.join(work, `kms-${curve}-library.sig`);
    await signModel({ modelPath: dirModel, signer, signaturePath: sig });
    ok(await ours(['verify', 'key', dirModel, '--signature', sig, '--public-key', publicKey]), 'our verify');
    ok(await reference(['verify', 'key', dirModel, '--signature', sig, '--public_key', publicKey]), 'reference verify');
  });
});

describe('AWS KMS with a certificate', () => {
  it('signs with the certificate method; ours and the reference verify against the root', async () => {
    const key = await createKey('ECC_NIST_P256');
    const publicKey = await exportPublicKey(key.id, path.join(work, 'cert-key.pub.pem'));
    const ca = makeCertificateAuthority(path.join(work, 'ca'));
    const leaf = issueLeafForPublicKey(path.join(work, 'ca'), ca, publicKey, 'kms-leaf');
    const sig = path.join(work, 'kms-cert.sig');
    ok(
      await ours([
        'sign',
        'certificate',
        dirModel,
        '--private-key',
        `kms://aws/${key.id}`,
        '--signing-certificate',
        leaf,
        '--certificate-chain',
        ca.intermediateCert,
        '--signature',
        sig,
      ]),
      'our sign',
    );
    ok(await ours(['verify', 'certificate', dirModel, '--signature', sig, '--certificate-chain', ca.rootCert]), 'our verify');
    ok(await reference(['verify', 'certificate', dirModel, '--signature', sig, '--certificate_chain', ca.rootCert]), 'reference verify');
  });
});

describe('AWS KMS with --incremental', () => {
  it('checks the previous signature with the public key from KMS, reuses, equals a full sign; refuses another key', async () => {
    const savedCache = process.env['XDG_CACHE_HOME'];
    // Children inherit it: the records go to a cache of this test only.
    process.env['XDG_CACHE_HOME'] = path.join(work, 'incremental-cache');
    // The record vouches only for files older than the settle time when it is written: the CLI runs see a clock that much ahead.
    const restoreClocks = shiftChildClocks(settledShiftMs());
    try {
      const model = path.join(work, 'incremental-model');
      await fs.mkdir(path.join(model, 'weights'), { recursive: true });
      await fs.writeFile(path.join(model, 'README.md'), '# card\n');
      await fs.writeFile(path.join(model, 'weights/model.bin'), Buffer.alloc(1024 * 1024, 5));
      const key = await createKey('ECC_NIST_P256');
      const publicKey = await exportPublicKey(key.id, path.join(work, 'incremental.pub.pem'));
      const sig = path.join(work, 'kms-incremental.sig');
      const args = ['sign', 'key', model, '--private-key', `kms://aws/${key.id}`, '--signature', sig];
      ok(await ours(args), 'full sign');
      await fs.appendFile(path.join(model, 'README.md'), 'edited\n');
      const out = await ours([...args, '--incremental', '--json']);
      ok(out, 'incremental sign');
      expect(JSON.parse(out.stdout)).toMatchObject({
        incremental: true,
        reuse: { reusedFiles: 1, rehashedFiles: 1, reusedBytes: 1024 * 1024 },
      });
      const full = path.join(work, 'kms-incremental-full.sig');
      ok(await ours([...args.slice(0, -1), full]), 'full sign for comparison');
      const payloadOf = async (file: string) =>
        (JSON.parse(await fs.readFile(file, 'utf8')) as { dsseEnvelope: { payload: string } }).dsseEnvelope.payload;
      expect(await payloadOf(sig)).toBe(await payloadOf(full));
      ok(await reference(['verify', 'key', model, '--signature', sig, '--public_key', publicKey]), 'reference verify');

      const other = await createKey('ECC_NIST_P256');
      const target = path.join(work, 'kms-incremental-refused.sig');
      const refused = await ours([
        'sign',
        'key',
        model,
        '--private-key',
        `kms://aws/${other.id}`,
        '--signature',
        target,
        '--incremental',
        '--previous-signature',
        sig,
        '--json',
      ]);
      expect(refused.code).toBe(1);
      expect(JSON.parse(refused.stdout).error.code).toBe('KEY_MISMATCH');
      await expect(fs.access(target)).rejects.toThrow();
    } finally {
      restoreClocks();
      if (savedCache === undefined) delete process.env['XDG_CACHE_HOME'];
      else process.env['XDG_CACHE_HOME'] = savedCache;
    }
  });
});

describe('AWS KMS errors leave no signature file', () => {
  const cases: Array<[string, () => Promise<{ key: string; env?: Record<string, string> }>, number, string, RegExp]> = [
    ['a missing key', async () => ({ key: 'kms://aws/alias/no-such-key' }), 1, 'NOT_FOUND', /no-such-key/],
    ['an RSA key', async () => ({ key: `kms://aws/${(await createKey('RSA_2048')).id}` }), 1, 'BAD_KEY', /RSA_2048/],
    [
      'an ENCRYPT_DECRYPT key',
      async () => ({ key: `kms://aws/${(await createKey('SYMMETRIC_DEFAULT', 'ENCRYPT_DECRYPT')).id}` }),
      1,
      'BAD_KEY',
      /ENCRYPT_DECRYPT/,
    ],
    ['a secp256k1 key', async () => ({ key: `kms://aws/${(await createKey('ECC_SECG_P256K1')).id}` }), 1, 'BAD_KEY', /ECC_SECG_P256K1/],
    [
      'an unreachable endpoint',
      async () => ({ key: `kms://aws/${(await createKey('ECC_NIST_P256')).id}`, env: { AWS_ENDPOINT_URL_KMS: 'http://127.0.0.1:9' } }),
      1,
      'NETWORK_ERROR',
      /ECONNREFUSED/,
    ],
    [
      'an unsupported provider',
      async () => ({ key: 'kms://gcp/projects/p/locations/l/keyRings/r/cryptoKeys/k' }),
      2,
      'INVALID_ARGUMENT',
      /only kms:\/\/aws/,
    ],
  ];
  it.each(cases)('%s', async (name, setup, exit, code, message) => {
    const { key, env } = await setup();
    const sig = path.join(work, `failed-${name.replace(/\W+/g, '-')}.sig`);
    const saved = { ...process.env };
    Object.assign(process.env, env ?? {});
    let result: RunResult;
    try {
      result = await ours(['sign', 'key', dirModel, '--private-key', key, '--signature', sig, '--json']);
    } finally {
      for (const k of Object.keys(env ?? {})) process.env[k] = saved[k];
    }
    expect(result.code, result.stdout + result.stderr).toBe(exit);
    const error = JSON.parse(result.stdout).error;
    expect(error.code).toBe(code);
    expect(error.message).toMatch(message);
    await expect(fs.access(sig)).rejects.toThrow();
  });
});
