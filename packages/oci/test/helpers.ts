// Keys, temporary folders, models pushed with ORAS, and coded-error checks for the OCI tests.
import { createHash, generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { KeySigner, KeyVerifier, ModelSigningError } from '@model-signing/core';
import { expect } from 'vitest';
import { writeFiles } from '../../../test-fixtures/fixtures.mjs';
import { oras } from '../../../test-fixtures/oci-registry.mjs';

export { listTree, writeFiles } from '../../../test-fixtures/fixtures.mjs';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const GO_PORT_VECTORS = path.join(REPO_ROOT, 'test-fixtures/vectors/go-port-oci');

/** A fresh P-256 key pair: as signer and verifier, and as PEM files in `dir`. */
export async function keyPair(dir: string): Promise<{ signer: KeySigner; verifier: KeyVerifier; privateKey: string; publicKey: string }> {
  const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const privateKey = path.join(dir, 'key.pem');
  const publicKey = path.join(dir, 'key.pub');
  await fs.writeFile(privateKey, pair.privateKey.export({ type: 'pkcs8', format: 'pem' }));
  await fs.writeFile(publicKey, pair.publicKey.export({ type: 'spki', format: 'pem' }));
  return { signer: await KeySigner.create({ privateKey }), verifier: await KeyVerifier.create({ publicKey }), privateKey, publicKey };
}

const tempDirs: string[] = [];

/** A new temporary folder, removed by {@link removeTempDirs}. */
export async function tempDir(prefix: string): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), `oms-oci-${prefix}-`));
  tempDirs.push(dir);
  return dir;
}

/** Removes every folder {@link tempDir} made in this test file. */
export async function removeTempDirs(): Promise<void> {
  await Promise.all(tempDirs.splice(0).map((dir) => fs.rm(dir, { recursive: true, force: true })));
}

export const sha256 = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');

/**
 * Writes `files` into a folder and pushes them with ORAS as `host/repository:tag`
 * (`oras push --plain-http … name …`, in the order given); returns the folder.
 */
export async function orasPush(host: string, reference: string, files: Record<string, string | Uint8Array>, dir: string): Promise<string> {
  const model = await fs.mkdtemp(path.join(dir, 'push-'));
  await writeFiles(model, files);
  await oras(['push', '--plain-http', `${host}/${reference}`, ...Object.keys(files)], { cwd: model });
  return model;
}

/** Runs `fn`, expects a ModelSigningError with `code`, and returns it. */
export async function expectCode(fn: () => Promise<unknown>, code: string): Promise<ModelSigningError> {
  let error: unknown;
  try {
    await fn();
  } catch (err) {
    error = err;
  }
  expect(error, `expected a ${code} error`).toBeInstanceOf(ModelSigningError);
  expect((error as ModelSigningError).code, (error as Error).message).toBe(code);
  return error as ModelSigningError;
}

/** A fetch that counts the layer blobs it was asked for (signatures' blobs are not layers): to prove a refusal moved no layer byte. */
export function countingFetch(layerDigests: readonly string[]): { fetch: typeof fetch; layersFetched: () => number } {
  let count = 0;
  return {
    fetch: (input, init) => {
      const url = input instanceof Request ? input.url : input.toString();
      if (layerDigests.some((d) => url.endsWith(`/blobs/${d}`))) count++;
      return fetch(input, init);
    },
    layersFetched: () => count,
  };
}
