import path from 'node:path';
import { ModelSigningError, walkModel, type ManifestChecker, type ModelFile } from '@model-signing/core';
import { chooseModelFile } from './choose-model-file.js';

/** Options for {@link layoutModel}. */
export interface LayoutModelOptions {
  /** Absolute path the caller gave: a model directory or one `.onnx` file. */
  target: string;
  isFile: boolean;
  /** Absolute path of the signature, left out of the directory walk. */
  signaturePath: string;
  checker: ManifestChecker;
  /** For a directory: the model-relative path of the `.onnx` file to load. */
  modelFile?: string;
  allowSymlinks: boolean;
  ignoreUnsignedFiles: boolean;
}

/** The files of a verified model, before any byte is read. */
export interface ModelLayout {
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
  const { checker } = options;
  const signed = checker.signedFiles;
  const basename = path.basename(options.target);
  const coversOnlyThisFile = signed.length === 1 && (signed[0] === '.' || signed[0] === basename);
  if (options.isFile && coversOnlyThisFile) {
    const walked = await walkModel({ modelPath: options.target, allowSymlinks: options.allowSymlinks });
    const file = { ...walked.files[0]!, name: signed[0]! };
    return { files: new Map([[file.name, file]]), modelFile: file };
  }

  const root = options.isFile ? path.dirname(options.target) : options.target;
  const walked = await walkModel({
    modelPath: root,
    ignorePaths: [...checker.manifest.serialization.ignorePaths, options.signaturePath],
    allowSymlinks: options.allowSymlinks,
  });
  checker.checkListing(walked.files);
  const onDisk = new Map(walked.files.map((f) => [f.name, f]));

  const files = new Map(signed.map((name) => [name, onDisk.get(name)!]));
  const modelName = options.isFile ? basename : chooseModelFile(signed, options.modelFile?.split(path.sep).join('/'), root);
  const modelFile = files.get(modelName);
  if (!modelFile) {
    throw new ModelSigningError({
      code: 'UNSIGNED_FILE',
      path: modelName,
      message: `'${modelName}' is not covered by the signature, so it cannot be loaded verified. Sign the model again including it.`,
    });
  }
  return { files, modelFile };
}
