import { generateKeyPairSync } from 'node:crypto';
import { KeySigner, KeyVerifier } from '@model-signing/core';

/** A fresh P-256 key pair as a core signer and verifier. */
export async function makeKeyPair(): Promise<{ signer: KeySigner; verifier: KeyVerifier }> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    signer: await KeySigner.create({ privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }) }),
    verifier: await KeyVerifier.create({ publicKey: publicKey.export({ type: 'spki', format: 'pem' }) }),
  };
}
