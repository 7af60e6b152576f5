import path from 'node:path';
import { serializeBundle, type SerializedBundle } from '../bundle/bundle.js';
import { writeFileAtomic } from '../bundle/write.js';
import { ModelSigningError } from '../errors.js';
import { hashModel, type HashModelOptions } from '../hash/hash-model.js';
import type { Manifest } from '../manifest/manifest.js';
import { PAYLOAD_TYPE, manifestToPayload } from '../statement/statement.js';
import { signPayload } from './bundle-builder.js';
import { refuseModelFileAsSignature } from './signature-path.js';
import type { Signer } from './signer.js';
import { abortSignalOf, type Cancellable } from '../cancellation.js';

/** Options for {@link signManifest}. */
export interface SignManifestOptions extends Cancellable {
  manifest: Manifest;
  signer: Signer;
}

/**
 * Signs a manifest the caller already computed (e.g. while writing the files).
 *
 * @throws {ModelSigningError} `EMPTY_MODEL` when the manifest lists nothing.
 */
export async function signManifest(options: SignManifestOptions): Promise<SerializedBundle> {
  if (options.manifest.resources.length === 0) {
    throw new ModelSigningError({
      code: 'EMPTY_MODEL',
      message: 'The model has no file to sign once ignored paths are excluded (the OMS spec forbids signing an empty model)',
    });
  }
  const request = { payload: manifestToPayload(options.manifest), payloadType: PAYLOAD_TYPE, signer: options.signer };
  const signal = abortSignalOf(options);
  return signPayload(signal ? { ...request, signal } : request);
}

/** Writes a bundle to `signaturePath` atomically (temporary file + rename). */
export async function writeSignature(signaturePath: string, bundle: SerializedBundle): Promise<void> {
  await writeFileAtomic(signaturePath, serializeBundle(bundle));
}

/** Options for {@link signModel}. */
export interface SignModelOptions extends HashModelOptions {
  signer: Signer;
  /** Where to write the signature; excluded from the manifest when inside the model. */
  signaturePath: string;
}

/** The outcome of {@link signModel}. */
export interface SignModelResult {
  manifest: Manifest;
  bundle: SerializedBundle;
  signaturePath: string;
}

/**
 * Hashes a model, signs its manifest and writes the signature atomically.
 * Nothing is written unless signing succeeds.
 *
 * @throws {ModelSigningError} walk, hashing, key and `EMPTY_MODEL` errors;
 *   `WRITE_FAILED`; `INVALID_ARGUMENT` when `signaturePath` is the model or
 *   an existing file of the model that is not a signature.
 */
export async function signModel(options: SignModelOptions): Promise<SignModelResult> {
  const signaturePath = path.resolve(options.signaturePath);
  await refuseModelFileAsSignature(options.modelPath, signaturePath);
  const manifest = await hashModel({ ...options, ignorePaths: [...(options.ignorePaths ?? []), signaturePath] });
  const signal = abortSignalOf(options);
  const bundle = await signManifest(signal ? { manifest, signer: options.signer, abortSignal: signal } : { manifest, signer: options.signer });
  // The path as given (same file: the working directory has not changed), so a failure names what the user typed.
  await writeSignature(options.signaturePath, bundle);
  return { manifest, bundle, signaturePath };
}
