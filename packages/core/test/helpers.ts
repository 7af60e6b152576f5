import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ecKeyPair, tempDirs } from '../../../test-fixtures/fixtures.mjs';
import { KeySigner, KeyVerifier, type Manifest, type VerifiedManifest } from '../dist/index.js';
import { serializeBundle, verifyBundle } from '../dist/internal.js';
import { signManifest } from '../dist/internal-node.js';

export { ecKeyPair, expectCode } from '../../../test-fixtures/fixtures.mjs';

/** The repository root. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** Real signed data from the reference and the OMS spec (see test-fixtures/README.md). */
export const VECTORS = path.join(REPO_ROOT, 'test-fixtures/vectors');
export const REFERENCE = path.join(VECTORS, 'model-transparency');
export const HISTORICAL = path.join(REFERENCE, 'historical');
export const REFERENCE_KEYS = path.join(REFERENCE, 'keys/certificate');
export const SPEC_VECTORS = path.join(VECTORS, 'oms-spec/test-vectors/v1.0');

const dirs = tempDirs();

/** A fresh temporary directory, removed by the caller's `afterEach` via {@link cleanupTempDirs}. */
export function tempDir(prefix = 'oms-test-'): Promise<string> {
  return dirs.make(prefix);
}
export function cleanupTempDirs(): Promise<void> {
  return dirs.cleanup();
}

/** Writes a tree of files: `{ 'a/b.txt': 'content' }`. */
export async function writeTree(root: string, files: Record<string, string | Uint8Array>): Promise<void> {
  for (const [name, content] of Object.entries(files)) {
    const file = path.join(root, name);
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, content);
  }
}

/**
 * `manifest` signed with a throw-away key and verified: a real
 * VerifiedManifest (nothing else can make one) for tests of the checker.
 */
export async function verifiedManifestOf(manifest: Manifest): Promise<VerifiedManifest> {
  const keys = ecKeyPair();
  const bundle = await signManifest({ manifest, signer: await KeySigner.create({ privateKey: keys.privateKey }) });
  return (await verifyBundle({ bundle: serializeBundle(bundle), verifier: await KeyVerifier.create({ publicKey: keys.publicKey }) }))
    .manifest;
}
