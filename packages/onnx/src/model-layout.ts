import path from 'node:path';
import { ModelSigningError, openVerifiedModel, type ModelFile, type VerifiedModelFiles, type Verifier } from '@model-signing/core';
import { chooseModelFile } from './choose-model-file.js';

/** Options for {@link layoutModel}. */
export interface LayoutModelOptions {
  /** Absolute path the caller gave: a model directory or one `.onnx` file. */
  target: string;
  isFile: boolean;
  /** Absolute path of the signature, left out of the directory walk. */
  signaturePath: string;
  verifier: Verifier;
  maxBundleBytes?: number;
  /** For a directory: the model-relative path of the `.onnx` file to load. */
  modelFile?: string;
  allowSymlinks: boolean;
  ignoreUnsignedFiles: boolean;
  abortSignal?: AbortSignal;
}

/** The files of a verified model, before any byte is read. */
export interface ModelLayout {
  /** The model opened through core's verified-model session: every file read through it is checked. */
  opened: VerifiedModelFiles;
  /** Every file whose bytes must be checked (all signed files), by model-relative name. */
  files: Map<string, ModelFile>;
  /** The `.onnx` file to load. */
  modelFile: ModelFile;
}

/**
 * Opens the model through core's session: the signature is read and
 * verified once, then the files on disk are matched with it. A `.onnx` path
 * whose signature covers just that file is a single-file model; otherwise
 * the model is the directory (the file's folder, for a `.onnx` path) and,
 * as in `verifyModel`, every file in it must be signed and every signed
 * file present.
 *
 * @throws {ModelSigningError} the signature's errors, walk errors,
 *   `ManifestMismatchError` for missing or unsigned files,
 *   `NOT_FOUND`/`INVALID_ARGUMENT` when the `.onnx` file cannot be chosen.
 */
export async function layoutModel(options: LayoutModelOptions): Promise<ModelLayout> {
  const opened = await openVerifiedModel({
    modelPath: options.target,
    fileOrFolder: true,
    signaturePath: options.signaturePath,
    verifier: options.verifier,
    allowSymlinks: options.allowSymlinks,
    ignoreUnsignedFiles: options.ignoreUnsignedFiles,
    ...(options.maxBundleBytes !== undefined ? { maxBundleBytes: options.maxBundleBytes } : {}),
    ...(options.abortSignal ? { abortSignal: options.abortSignal } : {}),
  });
  opened.checkListing();
  const files = new Map(opened.files.map((f) => [f.name, f]));
  // A single-file model's one file is named `.` by core, whichever way the signature names it.
  const modelName = opened.isSingleFile
    ? '.'
    : options.isFile
      ? path.basename(options.target)
      : chooseModelFile(opened.signedFiles, options.modelFile?.split(path.sep).join('/'), opened.root);
  const modelFile = opened.isSigned(modelName) ? files.get(modelName) : undefined;
  if (!modelFile) {
    throw new ModelSigningError({
      code: 'UNSIGNED_FILE',
      path: modelName,
      message: `'${modelName}' is not covered by the signature, so it cannot be loaded verified. Sign the model again including it.`,
    });
  }
  return { opened, files, modelFile };
}
