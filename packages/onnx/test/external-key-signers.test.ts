import { createPublicKey } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { CreateKeyCommand, GetPublicKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeyVerifier, createKmsSigner, createPkcs11Signer, type Signer } from '@model-signing/core';
import { startMoto, type MotoServer } from '../../../test-fixtures/moto.mjs';
import { createSoftHsmToken } from '../../../test-fixtures/softhsm.mjs';
import { createVerifiedSession, saveSignedModel } from '../src/index.js';
import { EXPECTED, WEIGHTS, buildModel, floatBytes, runModel, tempDir } from './fixtures.js';

// An adapter's signed save takes any Signer: here keys on a PKCS#11 token
// (SoftHSM2) and in AWS KMS (moto on loopback) sign an ONNX model as it is
// saved, and the verified session loads it with the public key exported
// from the token or fetched from KMS.

let work: string;
let moto: MotoServer;
afterAll(async () => {
  await moto?.stop();
  if (work) await fs.rm(work, { recursive: true, force: true });
});
beforeAll(async () => {
  work = await tempDir('onnx-external-');
});

async function saveAndLoad(signer: Signer, publicKeyPem: string, name: string): Promise<void> {
  const dir = path.join(work, name);
  await saveSignedModel(dir, {
    model: buildModel({ externalLocation: 'weights.bin' }),
    externalData: [{ path: 'weights.bin', data: floatBytes(WEIGHTS) }],
    signer,
  });
  const verifier = await KeyVerifier.create({ publicKey: publicKeyPem });
  expect(await runModel(await createVerifiedSession({ modelPath: dir, verifier }))).toEqual(EXPECTED);
}

describe('saveSignedModel with keys that never leave their store', () => {
  it('signs with a key on a PKCS#11 token', async () => {
    const token = createSoftHsmToken(path.join(work, 'hsm'));
    token.generateKey('P-384', '01', 'onnx-key');
    const publicKey = token.exportPublicKey('01', path.join(work, 'onnx-key.pub.pem'));
    const signer = await createPkcs11Signer({
      uri: `pkcs11:token=${token.label};object=onnx-key?pin-value=${token.pin}&module-path=${token.module}`,
    });
    await saveAndLoad(signer, await fs.readFile(publicKey, 'utf8'), 'pkcs11');
  });

  it('signs with an AWS KMS key', async () => {
    moto = await startMoto();
    const aws = { region: 'us-east-1', endpoint: moto.endpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } };
    const kms = new KMSClient(aws);
    const { KeyMetadata } = await kms.send(new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' }));
    const { PublicKey } = await kms.send(new GetPublicKeyCommand({ KeyId: KeyMetadata!.KeyId! }));
    kms.destroy();
    const signer = await createKmsSigner({ uri: `kms://aws/${KeyMetadata!.KeyId!}`, aws });
    const publicKeyPem = createPublicKey({ key: Buffer.from(PublicKey!), format: 'der', type: 'spki' })
      .export({ type: 'spki', format: 'pem' })
      .toString();
    await saveAndLoad(signer, publicKeyPem, 'kms');
  });
});
