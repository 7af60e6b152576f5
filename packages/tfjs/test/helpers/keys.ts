import { KeySigner, KeyVerifier } from '@model-signing/core';
import { ecKeyPair } from '../../../../test-fixtures/fixtures.mjs';

/** A fresh P-256 key pair as a core signer and verifier. */
export async function makeKeyPair(): Promise<{ signer: KeySigner; verifier: KeyVerifier }> {
  const { privateKey, publicKey } = ecKeyPair();
  return { signer: await KeySigner.create({ privateKey }), verifier: await KeyVerifier.create({ publicKey }) };
}
