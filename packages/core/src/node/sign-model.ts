import path from 'node:path';
import { serializeBundle, type SerializedBundle } from '../format/bundle.js';
import { writeFileAtomic } from './write-bundle.js';
import { ModelSigningError } from '../errors.js';
import { hashFiles, resolveSerialization, type HashModelOptions } from './hash/hash-model.js';
import { HashRecord, statFiles } from './incremental/record.js';
import { everyFileRead, prepareIncrementalSign, summaryOf, type IncrementalOptions, type ReuseSummary } from './incremental/reuse.js';
import type { Manifest } from '../format/manifest.js';
import { walkModel } from './walk.js';
import { PAYLOAD_TYPE, manifestToPayload } from '../format/statement.js';
import { signPayload } from '../format/bundle-builder.js';
import { refuseModelFileAsSignature } from './signature-path.js';
import type { Signer } from '../format/signer.js';
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
  /**
   * Re-sign starting from a previous signature: files the local record
   * proves unchanged keep their digests; the rest are hashed. The result is
   * the payload a full sign would produce. Hashing settings left undefined
   * come from the previous signature; different ones are refused. See
   * docs/incremental.md.
   */
  incremental?: IncrementalOptions;
  /** Directory of the local hash records. Default: `$XDG_CACHE_HOME` or the platform's user cache, `model-signing/records`. */
  cacheDir?: string;
}

/** The outcome of {@link signModel}. */
export interface SignModelResult {
  manifest: Manifest;
  bundle: SerializedBundle;
  signaturePath: string;
  /** How many files and bytes were taken from the record and how many were hashed (nothing is reused without `incremental`). */
  reuse: ReuseSummary;
}

/**
 * Hashes a model, signs its manifest and writes the signature atomically,
 * then records the files' stats and digests in the local hash record (a
 * cache: failing to write it is not an error). Nothing is written unless
 * signing succeeds.
 *
 * @throws {ModelSigningError} walk, hashing, key and `EMPTY_MODEL` errors;
 *   `WRITE_FAILED`; `INVALID_ARGUMENT` when `signaturePath` is the model or
 *   an existing file of the model that is not a signature; with
 *   `incremental`, the previous signature's verification errors and `SETTINGS_CHANGED`.
 */
export async function signModel(options: SignModelOptions): Promise<SignModelResult> {
  const signaturePath = path.resolve(options.signaturePath);
  await refuseModelFileAsSignature(options.modelPath, signaturePath);
  const prepared = options.incremental
    ? await prepareIncrementalSign({ ...options, incremental: options.incremental, signaturePath })
    : await prepareFullSign(options, signaturePath);
  const { walked, serialization, snapshot, record, known } = prepared;
  const resources = await hashFiles(walked.files, serialization, known ? { ...options, knownDigests: known } : options);
  const manifest: Manifest = { modelName: walked.modelName, serialization, resources };
  const signal = abortSignalOf(options);
  const bundle = await signManifest(signal ? { manifest, signer: options.signer, abortSignal: signal } : { manifest, signer: options.signer });
  // The path as given (same file: the working directory has not changed), so a failure names what the user typed.
  await writeSignature(options.signaturePath, bundle);
  await record.save(snapshot, resources);
  return { manifest, bundle, signaturePath, reuse: summaryOf(prepared) };
}

/** A full sign reads every file; the record is only located, to be replaced afterwards. */
async function prepareFullSign(options: SignModelOptions, signaturePath: string) {
  // Taken before any stat of the record: see statFiles.
  const statTimeMs = Date.now();
  const walked = await walkModel({ ...options, ignorePaths: [...(options.ignorePaths ?? []), signaturePath] });
  const serialization = resolveSerialization(options, walked.ignorePaths);
  const snapshot = statFiles(walked.files, statTimeMs);
  const record = await HashRecord.locate({ root: walked.root, serialization, ...(options.cacheDir !== undefined ? { cacheDir: options.cacheDir } : {}) });
  return { walked, serialization, snapshot, record, known: undefined, ...everyFileRead(walked.files) };
}
