import fs from 'node:fs/promises';
import path from 'node:path';
import { DEFAULT_SIGNATURE_NAME, type HashingOptions, type Manifest, type Signer } from '@model-signing/core';
import { createSignature, removeStaleTemporaries, temporaryName, writeSignature } from '@model-signing/core/internal/node';
import type { io } from '@tensorflow/tfjs-core';
import { MODEL_JSON_FILE_NAME, WEIGHTS_FILE_NAME } from './layout.js';
import { modelJsonForArtifacts } from './model-json.js';
import { moveIntoPlace } from './move-into-place.js';

/** How a signed save hashes, signs and places the model; shared by the handler and the scheme. */
export interface SignedSaveSettings extends HashingOptions {
  /** Signs the manifest: any core signer (`KeySigner`, `CertificateSigner`, …). */
  signer: Signer;
  /**
   * Replace an existing, non-empty model directory. Default false: saving
   * into one fails with `WRITE_FAILED` and leaves it untouched. When true,
   * the whole directory is replaced, so files from the previous save (or
   * anything else in it) are gone afterwards.
   */
  overwrite?: boolean;
}

/** Options for {@link saveSignedArtifacts}. */
export interface SaveSignedArtifactsOptions extends SignedSaveSettings {
  /** The model directory to create. */
  modelDir: string;
  /** What TensorFlow.js passes to a save handler. */
  artifacts: io.ModelArtifacts;
}

/** The outcome of {@link saveSignedArtifacts}. */
export interface SaveSignedArtifactsResult {
  /** Absolute path of the signed model directory. */
  modelDir: string;
  /** Absolute path of the signature inside it. */
  signaturePath: string;
  /** What was signed. */
  manifest: Manifest;
}

/**
 * Writes model artifacts as a signed model directory: `model.json`,
 * `weights.bin` (the layout of TensorFlow.js's file handler) and
 * `model.sig`. Everything is written, hashed and signed in a hidden sibling
 * directory that is renamed into place only once the signature exists, so an
 * error or crash never leaves a directory that claims to be signed.
 *
 * @throws {ModelSigningError} `INVALID_ARGUMENT` (binary topology),
 *   `WRITE_FAILED` (including an existing directory without `overwrite`),
 *   signing and hashing errors, `ABORTED`.
 */
export async function saveSignedArtifacts(options: SaveSignedArtifactsOptions): Promise<SaveSignedArtifactsResult> {
  const { artifacts, signer, overwrite = false, modelDir: requestedDir, ...hashing } = options;
  const modelJson = modelJsonForArtifacts(artifacts);
  const modelDir = path.resolve(requestedDir);
  const parent = path.dirname(modelDir);
  await fs.mkdir(parent, { recursive: true });
  // A staging folder left by a killed save (as large as the model) goes now;
  // one still in use by a running save stays.
  await removeStaleTemporaries(parent);
  // mkdir with a random name, not mkdtemp: the directory becomes the model
  // directory by rename and keeps its mode, which must be what a plain mkdir
  // gives under the user's umask (mkdtemp's is 0700). mkdir fails rather than
  // reuse an existing directory, as mkdtemp does.
  const staging = path.join(parent, temporaryName(`${path.basename(modelDir)}.signing`));
  await fs.mkdir(staging);
  try {
    await writeSynced(path.join(staging, MODEL_JSON_FILE_NAME), [new TextEncoder().encode(JSON.stringify(modelJson))]);
    await writeSynced(path.join(staging, WEIGHTS_FILE_NAME), weightPieces(artifacts.weightData));
    const stagedSignature = path.join(staging, DEFAULT_SIGNATURE_NAME);
    const { manifest, bundle } = await createSignature({
      ...hashing,
      signer,
      walk: { modelPath: staging, ignorePaths: [stagedSignature] },
      // Otherwise the subject name would be the staging directory's random name.
      modelName: path.basename(modelDir),
    });
    await writeSignature(stagedSignature, bundle);
    await moveIntoPlace(staging, modelDir, overwrite);
    return { modelDir, signaturePath: path.join(modelDir, DEFAULT_SIGNATURE_NAME), manifest };
  } catch (err) {
    await fs.rm(staging, { recursive: true, force: true });
    throw err;
  }
}

/** The weight bytes as views, without concatenating them (tfjs ≥ 4.10 may pass a list). */
function weightPieces(weightData: io.ModelArtifacts['weightData']): Uint8Array[] {
  if (weightData == null) return [];
  return (Array.isArray(weightData) ? weightData : [weightData]).map((b) => new Uint8Array(b));
}

/** Writes the pieces and flushes them, so a signature is never renamed into place ahead of its data. */
async function writeSynced(file: string, pieces: readonly Uint8Array[]): Promise<void> {
  const handle = await fs.open(file, 'wx', 0o644);
  try {
    for (const piece of pieces) {
      for (let offset = 0; offset < piece.length;) offset += (await handle.write(piece, offset)).bytesWritten;
    }
    await handle.sync();
  } finally {
    await handle.close();
  }
}
