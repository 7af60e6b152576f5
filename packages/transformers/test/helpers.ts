// Shared test set-up: keys, temp dirs, the signed tiny model on the loopback hub.
import { KeySigner, KeyVerifier } from '@model-signing/core';
import { ecKeyPair, tempDirs } from '../../../test-fixtures/fixtures.mjs';

export { expectCode, listTree, writeFiles } from '../../../test-fixtures/fixtures.mjs';

/** A fresh P-256 key pair as signer and verifier, plus its PEM texts. */
export async function keyPair(): Promise<{ signer: KeySigner; verifier: KeyVerifier; privatePem: string; publicPem: string }> {
  const { privateKey: privatePem, publicKey: publicPem } = ecKeyPair();
  return {
    signer: await KeySigner.create({ privateKey: privatePem }),
    verifier: await KeyVerifier.create({ publicKey: publicPem }),
    privatePem,
    publicPem,
  };
}

const dirs = tempDirs();

/** A new temporary directory, removed by {@link removeTempDirs}. */
export function tempDir(prefix: string): Promise<string> {
  return dirs.make(`transformers-${prefix}-`);
}

/** Removes every directory {@link tempDir} made in this test file. */
export function removeTempDirs(): Promise<void> {
  return dirs.cleanup();
}
