import path from 'node:path';
import {
  ManifestChecker,
  ModelSigningError,
  openVerifiedModel,
  type Cancellable,
  type ModelFile,
  type VerifiedBundle,
  type VerifiedModelFiles,
} from '@model-signing/core';
import { chooseModelFile } from './choose-model-file.js';

/** Options for {@link layoutModel}. */
export interface LayoutModelOptions extends Cancellable {
  /** Absolute path the caller gave: a model directory or one `.onnx` file. */
  target: string;
  isFile: boolean;
  /** Absolute path of the signature, left out of the directory walk. */
  signaturePath: string;
  /** The signature, already checked. */
  verified: Pick<VerifiedBundle, 'manifest' | 'signer'>;
  /** For a directory: the model-relative path of the `.onnx` file to load. */
  modelFile?: string;
  allowSymlinks: boolean;
  ignoreUnsignedFiles: boolean;
}

/** The files of a verified model, before any byte is read. */
export interface ModelLayout {
  /** The model opened through core's verified-load path: every file read through it is checked. */
  opened: VerifiedModelFiles;
  /** Every file whose bytes must be checked (all signed files), by model-relative name. */
  files: Map<string, ModelFile>;
  /** The `.onnx` file to load. */
  modelFile: ModelFile;
}

/**
 * Matches the files on disk with the signed manifest. A `.onnx` path whose
 * signature covers just that file is a single-file model; otherwise the
 * model is the directory (the file's folder, for a `.onnx` path) and, as in
 * `verifyModel`, every file in it must be signed and every signed file present.
 *
 * @throws {ModelSigningError} walk errors, `ManifestMismatchError` for
 *   missing or unsigned files, `NOT_FOUND`/`INVALID_ARGUMENT` when the `.onnx`
 *   file cannot be chosen.
 */
export async function layoutModel(options: LayoutModelOptions): Promise<ModelLayout> {
  const signed = new ManifestChecker(options.verified.manifest).signedFiles;
  const basename = path.basename(options.target);
  const singleFile = options.isFile && signed.length === 1 && (signed[0] === '.' || signed[0] === basename);
  const root = options.isFile && !singleFile ? path.dirname(options.target) : options.target;
  const opened = await openVerifiedModel({
    modelPath: root,
    signaturePath: options.signaturePath,
    verified: options.verified,
    allowSymlinks: options.allowSymlinks,
    ignoreUnsignedFiles: options.ignoreUnsignedFiles,
    ...(options.abortSignal ? { abortSignal: options.abortSignal } : {}),
  });
  opened.checkListing();
  const files = new Map(opened.files.map((f) => [f.name, f]));
  // A single-file model's one file is named `.` by core, whichever way the signature names it.
  const modelName = singleFile
    ? '.'
    : options.isFile
      ? basename
      : chooseModelFile(signed, options.modelFile?.split(path.sep).join('/'), root);
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
