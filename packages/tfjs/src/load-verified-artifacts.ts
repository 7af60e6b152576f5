import fs from 'node:fs/promises';
import path from 'node:path';
import { DEFAULT_SIGNATURE_NAME, ModelSigningError, openVerifiedModel, type ModelFile, type VerifiedModelFiles } from '@model-signing/core';
import { isUnderAny, outcomeOf, throwIfAborted, type VerificationOutcome } from '@model-signing/core/internal';
import { io } from '@tensorflow/tfjs-core';
import { MODEL_JSON_FILE_NAME } from './layout.js';
import { parseModelJson } from './model-json.js';
import type { VerifiedLoadOptions } from './verified-load-options.js';

/** Options for {@link loadVerifiedArtifacts}: the shared options of a verified load, and where the model is on disk. */
export interface LoadVerifiedArtifactsOptions extends VerifiedLoadOptions {
  /** The model directory: `model.json`, its weight files and the signature. */
  modelDir: string;
  /** The signature file. Default: `model.sig` inside `modelDir`. */
  signaturePath?: string;
  /**
   * Tolerate files in the directory that the signature does not cover (they
   * are never read). `model.json` and every weight file must be signed
   * regardless. Default false.
   */
  ignoreUnsignedFiles?: boolean;
}

/** A model whose every byte matched its signature. */
export interface VerifiedArtifacts extends VerificationOutcome {
  /** Built only from the checked bytes; pass to `tf.io.fromMemory` or return from a load handler. */
  artifacts: io.ModelArtifacts;
  /** Model-relative paths of every file whose bytes were checked. */
  files: string[];
}

/**
 * Verifies a TensorFlow.js model directory and returns its artifacts.
 *
 * The signature is checked first; then the directory must hold exactly the
 * signed files (nothing missing, nothing unsigned). `model.json` and every
 * weight file it names are read once, checked against the signature, and the
 * artifacts are built from those very bytes, so a file changed after the check
 * can never reach the model. Signed files that `model.json` does not name are
 * checked too. Works for layers and graph models.
 *
 * @throws {PolicyDeniedError} `POLICY_DENIED` under a `policy`: which rule, which requirement, why.
 * @throws {ModelSigningError} `NOT_FOUND` (directory or signature),
 *   `SPECIAL_FILE`, `BUNDLE_TOO_LARGE`, `BAD_BUNDLE`, `SIGNATURE_INVALID`, `KEY_MISMATCH` and the other bundle
 *   errors; `PATH_ESCAPE` for a weight path outside the directory;
 *   `ManifestMismatchError` (`DIGEST_MISMATCH`, `MISSING_FILE`,
 *   `UNSIGNED_FILE`) naming the files; `INVALID_ARGUMENT` for a malformed
 *   `model.json`; `ABORTED`.
 */
export async function loadVerifiedArtifacts(options: LoadVerifiedArtifactsOptions): Promise<VerifiedArtifacts> {
  const modelDir = path.resolve(options.modelDir);
  const signaturePath = path.resolve(options.signaturePath ?? path.join(modelDir, DEFAULT_SIGNATURE_NAME));
  const signal = options.abortSignal;
  const model = await openVerifiedModel({
    modelPath: modelDir,
    signaturePath,
    ...(options.verifier ? { verifier: options.verifier } : {}),
    ...(options.policy ? { policy: options.policy } : {}),
    ...(options.model ? { model: options.model } : {}),
    ...(options.maxClaimsBytes !== undefined ? { maxClaimsBytes: options.maxClaimsBytes } : {}),
    ignoreUnsignedFiles: options.ignoreUnsignedFiles ?? false,
    ...(options.maxBundleBytes !== undefined ? { maxBundleBytes: options.maxBundleBytes } : {}),
    ...(signal ? { abortSignal: signal } : {}),
  });
  throwIfAborted(signal);
  if (model.isSingleFile) {
    throw new ModelSigningError({
      code: 'INVALID_ARGUMENT',
      path: options.modelDir,
      message: `'${options.modelDir}' is a file; a TensorFlow.js model is a directory holding ${MODEL_JSON_FILE_NAME}`,
    });
  }
  // Report every missing and unsigned file at once, before reading any bytes.
  model.checkListing();

  const toCheck = model.files;
  let filesDone = 0;
  const reporting = (file: ModelFile) => ({
    onBytes: (bytes: number) =>
      options.onProgress?.({ file: file.name, bytes, totalBytes: file.size, filesDone, filesTotal: toCheck.length }),
  });
  const checked = () => {
    filesDone += 1;
    throwIfAborted(signal);
  };

  const modelJsonFile = await signedFile(modelDir, MODEL_JSON_FILE_NAME, model);
  const modelJsonBytes = await model.read(MODEL_JSON_FILE_NAME, reporting(modelJsonFile));
  checked();
  // Parsed only now: nothing in an unverified model.json is ever interpreted.
  const { json, weightPaths } = parseModelJson(modelJsonBytes);

  const weightFiles: ModelFile[] = [];
  for (const name of weightPaths) weightFiles.push(await signedFile(modelDir, name, model));
  const weightData = new Uint8Array(weightFiles.reduce((sum, f) => sum + f.size, 0));
  const offsets = new Map<string, number>();
  let offset = 0;
  for (const file of weightFiles) {
    const slice = weightData.subarray(offset, offset + file.size);
    const earlier = offsets.get(file.name);
    if (earlier !== undefined) {
      // A path listed twice is read once; its checked bytes are copied.
      slice.set(weightData.subarray(earlier, earlier + file.size));
    } else {
      offsets.set(file.name, offset);
      await model.read(file.name, { into: slice, ...reporting(file) });
      checked();
    }
    offset += file.size;
  }

  const referenced = new Set([MODEL_JSON_FILE_NAME, ...weightPaths]);
  for (const file of toCheck) {
    if (referenced.has(file.name)) continue;
    await model.checkFile(file.name, reporting(file));
    checked();
  }
  await model.finish();
  const files = toCheck.map((f) => f.name);
  const outcome = outcomeOf(model);
  await options.onVerified?.({ ...outcome, files });
  throwIfAborted(signal);

  const artifacts = await io.getModelArtifactsForJSON(json, async (groups) => [groups.flatMap((g) => g.weights), weightData.buffer]);
  return { artifacts, ...outcome, files };
}

/**
 * The walked file `name`, which must be covered by the signature even when
 * unsigned files are tolerated: the model is built from it.
 */
async function signedFile(modelDir: string, name: string, model: VerifiedModelFiles): Promise<ModelFile> {
  const file = model.file(name);
  const role = name === MODEL_JSON_FILE_NAME ? 'the model description' : `a weight file named in ${MODEL_JSON_FILE_NAME}`;
  if (file !== undefined && model.isSigned(name)) return file;
  const exists =
    file !== undefined ||
    (await fs.lstat(path.join(modelDir, name)).then(
      () => true,
      () => false,
    ));
  if (!exists) {
    throw new ModelSigningError({
      code: 'NOT_FOUND',
      path: name,
      message: `'${name}' (${role}) is not in the model directory '${modelDir}'; the model was not loaded`,
    });
  }
  const ignored = isUnderAny(name, model.manifest.serialization.ignorePaths);
  throw new ModelSigningError({
    code: 'UNSIGNED_FILE',
    path: name,
    differences: [{ kind: 'unsigned', name }],
    message: `'${name}' (${role}) is not covered by the signature${ignored ? " (it lies under one of the signature's ignore paths)" : ''}; a model is only loaded from signed files. Sign the directory again.`,
  });
}
