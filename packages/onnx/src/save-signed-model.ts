import fs from 'node:fs/promises';
import path from 'node:path';
import {
  DEFAULT_SIGNATURE_NAME,
  ModelSigningError,
  type HashAlgorithm,
  type Manifest,
  type SerializationMethod,
  type Signer,
} from '@model-signing/core';
import { GIT_PATHS, normalizeModelPath, staysInside } from '@model-signing/core/internal';
import { createSignature, walkModel, writeFileAtomic, writeSignature, type WalkedModel } from '@model-signing/core/internal/node';
import { throwIfAborted } from '@model-signing/core/internal';
import { externalDataReferences } from './external-data.js';

/** One external-data file to save, in the shape onnxruntime's `externalData` option uses. */
export interface ExternalDataFile {
  /** The location the model refers to, relative to the model file's folder (e.g. `model.onnx.data`). */
  path: string;
  data: Uint8Array;
}

/** Options for {@link saveSignedModel}. */
export interface SaveSignedModelOptions {
  /** Cancels the operation: it rejects with a `ModelSigningError` coded `ABORTED`. */
  abortSignal?: AbortSignal;
  /** The serialized ONNX model (`ModelProto` bytes). */
  model: Uint8Array;
  /** The files the model refers to as external data; each reference must have one. */
  externalData?: readonly ExternalDataFile[];
  signer: Signer;
  /** File name of the model inside the directory. Default `model.onnx`. */
  modelFileName?: string;
  /** Where to write the signature. Default: `model.sig` inside the directory. */
  signaturePath?: string;
  /** `files` (default) or `shards`. */
  method?: SerializationMethod;
  /** `sha256` (default), `blake2b` or `blake3`. */
  hashAlgorithm?: HashAlgorithm;
  /** Shard size in bytes for `shards`. */
  shardSize?: number;
}

/** The outcome of {@link saveSignedModel}. */
export interface SaveSignedModelResult {
  /** Absolute path of the saved `.onnx` file. */
  modelPath: string;
  /** Absolute path of the signature. */
  signaturePath: string;
  /** Model-relative paths of the files written and signed. */
  files: string[];
  /** The signed manifest. */
  manifest: Manifest;
}

/**
 * Writes an ONNX model (and its external data) into `dir` and signs it.
 * The manifest is hashed from the bytes in memory, so exactly what is
 * written is signed. Signing happens before anything is written; an
 * existing signature is removed first and the new one is written last,
 * atomically, so a save that fails part way leaves no signature claiming
 * files that were not written. The result verifies with `verifyModel`,
 * `createVerifiedSession` and `model-signing verify`.
 *
 * @throws {ModelSigningError} `PATH_ESCAPE` for an external-data location
 *   outside the directory; `INVALID_ARGUMENT` for a missing or clashing
 *   file, or a directory that holds other files; signer errors; `WRITE_FAILED`.
 */
export async function saveSignedModel(dir: string, options: SaveSignedModelOptions): Promise<SaveSignedModelResult> {
  const root = path.resolve(dir);
  const modelFileName = options.modelFileName ?? 'model.onnx';
  if (
    modelFileName !== path.posix.basename(modelFileName) ||
    modelFileName === '.' ||
    modelFileName === '..' ||
    modelFileName.includes('\\')
  ) {
    throw invalid(`modelFileName must be a plain file name, got '${modelFileName}'`);
  }
  const signaturePath = path.resolve(options.signaturePath ?? path.join(root, DEFAULT_SIGNATURE_NAME));
  const files = filesToWrite(modelFileName, options);
  const signatureRelative = path.relative(root, signaturePath);
  const signatureName = signatureRelative.split(path.sep).join('/');
  if (files.has(signatureName)) throw invalid(`The signature path '${signaturePath}' is also a model file; choose another signature path`);
  await refuseForeignFiles(root, files, signaturePath);

  const signal = options.abortSignal;
  const ignorePaths = [...new Set([...GIT_PATHS, ...(staysInside(signatureRelative, path.sep) ? [signatureName] : [])])].sort();
  const { manifest, bundle } = await createSignature({
    signer: options.signer,
    inMemory: { files, modelName: path.basename(root), ignorePaths },
    ...(options.method !== undefined ? { method: options.method } : {}),
    ...(options.hashAlgorithm !== undefined ? { hashAlgorithm: options.hashAlgorithm } : {}),
    ...(options.shardSize !== undefined ? { shardSize: options.shardSize } : {}),
    ...(signal ? { abortSignal: signal } : {}),
  });
  throwIfAborted(signal);

  await fs.mkdir(root, { recursive: true });
  // From here on the directory changes; without an old signature, a failure
  // part way leaves files that simply do not claim to be signed.
  await fs.rm(signaturePath, { force: true });
  for (const [name, data] of files) {
    const target = path.join(root, ...name.split('/'));
    await fs.mkdir(path.dirname(target), { recursive: true });
    await writeFileAtomic(target, data);
  }
  await fs.mkdir(path.dirname(signaturePath), { recursive: true });
  await writeSignature(signaturePath, bundle);
  return { modelPath: path.join(root, modelFileName), signaturePath, files: [...files.keys()], manifest };
}

function invalid(message: string): ModelSigningError {
  return new ModelSigningError({ code: 'INVALID_ARGUMENT', message });
}

/**
 * The model file and its external data by model-relative name, checked
 * against the model's own references: every reference needs a file, and
 * no two files may land on the same name.
 */
function filesToWrite(modelFileName: string, options: SaveSignedModelOptions): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>([[modelFileName, options.model]]);
  for (const external of options.externalData ?? []) {
    const name = normalizeModelPath(external.path);
    if (name === '.' || files.has(name)) throw invalid(`externalData path '${external.path}' is empty or names another file of the model`);
    files.set(name, external.data);
  }
  for (const reference of externalDataReferences(options.model, modelFileName)) {
    if (!files.has(reference.name)) {
      throw invalid(
        `The model refers to external data '${reference.location}', but externalData has no entry for it; pass its bytes as { path: '${reference.name}', data }`,
      );
    }
  }
  return files;
}

/**
 * Refuses a directory that already holds files this save does not write:
 * they would not be covered by the signature, so the model would never verify.
 */
async function refuseForeignFiles(root: string, files: Map<string, Uint8Array>, signaturePath: string): Promise<void> {
  let walked: WalkedModel;
  try {
    walked = await walkModel({ modelPath: root, ignorePaths: [signaturePath] });
  } catch (cause) {
    if (cause instanceof ModelSigningError && cause.code === 'NOT_FOUND' && cause.path === root) return;
    throw cause;
  }
  if (walked.isSingleFile) throw invalid(`'${root}' is a file; saveSignedModel saves into a directory`);
  const foreign = walked.files.map((f) => f.name).filter((name) => !files.has(name));
  if (foreign.length > 0) {
    throw invalid(
      `'${root}' already holds files that are not part of this model (${foreign.sort().join(', ')}); they would not be covered by the signature. Save into an empty directory, or remove them.`,
    );
  }
}
