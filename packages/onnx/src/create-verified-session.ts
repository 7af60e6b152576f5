import fs from 'node:fs/promises';
import path from 'node:path';
import { InferenceSession, env } from 'onnxruntime-node';
import { DEFAULT_SIGNATURE_NAME, ModelSigningError, type ModelFile } from '@model-signing/core';
import { outcomeOf, throwIfAborted } from '@model-signing/core/internal';
import { checkExternalDataRanges, externalDataReferences, type ExternalDataReference } from './external-data.js';
import { layoutModel } from './model-layout.js';
import { createStagingDirectory } from './staging.js';
import type { VerifiedLoadOptions } from './verified-load-options.js';

/**
 * Default for {@link CreateVerifiedSessionParams.maxInMemoryExternalDataBytes}:
 * 1 GiB. Above it, external data is staged in a private directory instead.
 */
export const DEFAULT_MAX_IN_MEMORY_EXTERNAL_DATA_BYTES = 1024 ** 3;

/** What {@link createVerifiedSession} takes: the shared options of a verified load, where the model is on disk, and how it is staged. */
export interface CreateVerifiedSessionParams extends VerifiedLoadOptions {
  /** A model directory (`.onnx` file, external data, signature), or one `.onnx` file, signed alone or as part of its folder. */
  modelPath: string;
  /**
   * The signature file. Default: `model.sig` inside the model directory, or,
   * for a `.onnx` path, `model.sig` in the same folder as that file.
   */
  signaturePath?: string;
  /** Tolerate files in the model directory that the signature does not list. Default false. */
  ignoreUnsignedFiles?: boolean;
  /** Follow symbolic links to files inside the model directory. Default false: a symlink is an error. */
  allowSymlinks?: boolean;
  /**
   * Passed to `InferenceSession.create`. `externalData` must be left unset:
   * the external data given to onnxruntime is always the verified bytes.
   */
  sessionOptions?: InferenceSession.SessionOptions;
  /**
   * Largest total size of external data held in memory. Above it, each
   * external-data file is copied (while hashed) into a fresh private
   * directory, loaded from there and removed. Default {@link DEFAULT_MAX_IN_MEMORY_EXTERNAL_DATA_BYTES}.
   */
  maxInMemoryExternalDataBytes?: number;
  /** Where to create the private staging directory. Default: the OS temporary directory. */
  stagingDirectory?: string;
}

/**
 * Creates an onnxruntime-node `InferenceSession` from a model only if it
 * matches its signature. Each file is read once; the bytes that were hashed
 * are the bytes handed to onnxruntime (the model buffer plus `externalData`
 * entries, or private verified copies when external data is large), so a
 * file changed on disk during or after the check cannot get in.
 *
 * @throws {PolicyDeniedError} `POLICY_DENIED` under a `policy`: which rule, which requirement, why; no session is created.
 * @throws {ModelSigningError} signature errors naming the signature file
 *   (`NOT_FOUND`, `SIGNATURE_INVALID`, `KEY_MISMATCH`, …);
 *   `ManifestMismatchError` (`DIGEST_MISMATCH`, `MISSING_FILE`,
 *   `UNSIGNED_FILE`) naming the files; `PATH_ESCAPE` for external data
 *   outside the model; `UNSIGNED_FILE` for external data the signature does
 *   not cover; `BAD_MODEL` for external data past the end of its file;
 *   `INVALID_ARGUMENT`; `ABORTED`. Errors from onnxruntime itself
 *   (an invalid graph) are passed through unchanged.
 */
export async function createVerifiedSession(params: CreateVerifiedSessionParams): Promise<InferenceSession> {
  const model = params.modelPath;
  const signal = params.abortSignal;
  const limit = params.maxInMemoryExternalDataBytes ?? DEFAULT_MAX_IN_MEMORY_EXTERNAL_DATA_BYTES;
  if (params.sessionOptions?.externalData !== undefined) {
    throw new ModelSigningError({
      code: 'INVALID_ARGUMENT',
      message: 'sessionOptions.externalData must not be set: createVerifiedSession passes the verified external data itself',
    });
  }
  if (!Number.isSafeInteger(limit) || limit < 0) {
    throw new ModelSigningError({
      code: 'INVALID_ARGUMENT',
      message: `maxInMemoryExternalDataBytes must be a non-negative integer, got ${limit}`,
    });
  }
  throwIfAborted(signal);

  const target = path.resolve(model);
  const isFile = await isRegularFile(target, model);
  if (isFile && params.modelFile !== undefined) {
    throw new ModelSigningError({ code: 'INVALID_ARGUMENT', message: `modelFile applies to a model directory, but '${model}' is a file` });
  }
  const signaturePath = path.resolve(params.signaturePath ?? path.join(isFile ? path.dirname(target) : target, DEFAULT_SIGNATURE_NAME));
  const layout = await layoutModel({
    target,
    isFile,
    signaturePath,
    ...(params.verifier ? { verifier: params.verifier } : {}),
    ...(params.policy ? { policy: params.policy } : {}),
    ...(params.model ? { model: params.model } : {}),
    ...(params.maxBundleBytes !== undefined ? { maxBundleBytes: params.maxBundleBytes } : {}),
    ...(params.maxClaimsBytes !== undefined ? { maxClaimsBytes: params.maxClaimsBytes } : {}),
    ...(params.modelFile !== undefined ? { modelFile: params.modelFile } : {}),
    allowSymlinks: params.allowSymlinks ?? false,
    ignoreUnsignedFiles: params.ignoreUnsignedFiles ?? false,
    ...(signal ? { abortSignal: signal } : {}),
  });
  const { opened } = layout;

  let filesDone = 0;
  const progressOf = (file: string) => ({
    onBytes: (bytes: number, totalBytes: number | undefined) =>
      params.onProgress?.({ file, bytes, ...(totalBytes !== undefined ? { totalBytes } : {}), filesDone, filesTotal: layout.files.size }),
  });
  const done = <T>(result: T): T => {
    filesDone++;
    return result;
  };

  const modelFile = layout.modelFile;
  const modelBytes = done(await opened.read(modelFile.name, progressOf(modelFile.name)));
  // Parsed only now: these bytes are verified, so what they reference is what was signed.
  const references = externalDataReferences(modelBytes, modelFile.name);
  const externalFiles = externalFilesOf(references, modelFile, layout.files);
  // Before reading them: the sizes are the signed files' (bytes of another size fail their digest).
  checkExternalDataRanges(references, (name) => layout.files.get(name)?.size, modelFile.name);
  const externalBytes = externalFiles.reduce((sum, f) => sum + f.size, 0);
  // onnxruntime looks in-memory external data up by the exact location string
  // and does not normalize `./w.bin`; those models load from staged copies, as
  // do all models on runtimes whose Node binding ignores `externalData`.
  const staged =
    references.length > 0 && (externalBytes > limit || references.some((r) => !r.isCanonical) || !nodeBindingTakesExternalData());

  let stagingDirectory: string | undefined;
  try {
    const inMemory = new Map<string, Uint8Array>([[modelFile.name, modelBytes]]);
    if (staged) {
      stagingDirectory = await createStagingDirectory(params.stagingDirectory);
      for (const file of externalFiles) {
        done(
          await opened.copyFile(
            file.name,
            path.join(stagingDirectory, relativeToModelFolder(file.name, modelFile.name)),
            progressOf(file.name),
          ),
        );
      }
    } else {
      for (const file of externalFiles) inMemory.set(file.name, done(await opened.read(file.name, progressOf(file.name))));
    }
    const loaded = new Set([modelFile.name, ...externalFiles.map((f) => f.name)]);
    for (const file of layout.files.values()) {
      if (!loaded.has(file.name)) done(await opened.checkFile(file.name, progressOf(file.name)));
    }
    await opened.finish();

    await params.onVerified?.({
      ...outcomeOf(opened),
      modelFile: modelFile.name,
      externalDataFiles: externalFiles.map((f) => f.name),
      files: [...layout.files.keys()],
      ...(stagingDirectory !== undefined ? { stagingDirectory } : {}),
    });
    throwIfAborted(signal);

    const sessionOptions = params.sessionOptions ?? {};
    if (stagingDirectory !== undefined) {
      const stagedModel = path.join(stagingDirectory, path.posix.basename(modelFile.name));
      await fs.writeFile(stagedModel, modelBytes, { flag: 'wx', mode: 0o600 });
      return await InferenceSession.create(stagedModel, sessionOptions);
    }
    if (references.length === 0) return await InferenceSession.create(modelBytes, sessionOptions);
    const externalData = references.map((r) => ({ path: r.location, data: inMemory.get(r.name)! }));
    return await InferenceSession.create(modelBytes, { ...sessionOptions, externalData });
  } finally {
    if (stagingDirectory !== undefined) await fs.rm(stagingDirectory, { recursive: true, force: true });
  }
}

/**
 * onnxruntime-node reads `sessionOptions.externalData` from 1.21 on. Older
 * bindings ignore it silently (1.20.1 then refuses the buffer for lacking a
 * model path), so on those versions external data is always staged.
 */
function nodeBindingTakesExternalData(): boolean {
  const [major = 0, minor = 0] = (env.versions.node ?? '').split('.').map(Number);
  return major > 1 || (major === 1 && minor >= 21);
}

async function isRegularFile(target: string, given: string): Promise<boolean> {
  try {
    return (await fs.stat(target)).isFile();
  } catch (cause) {
    throw new ModelSigningError({ code: 'NOT_FOUND', path: given, cause, message: `Model path '${given}' does not exist` });
  }
}

/**
 * The distinct files behind the references, other than the model file
 * itself. Each must be covered by the signature: a reference the signature
 * does not cover is refused even when unsigned files are tolerated.
 */
function externalFilesOf(references: ExternalDataReference[], modelFile: ModelFile, files: Map<string, ModelFile>): ModelFile[] {
  const result = new Map<string, ModelFile>();
  for (const reference of references) {
    if (reference.name === modelFile.name) continue;
    const file = files.get(reference.name);
    if (!file) {
      throw new ModelSigningError({
        code: 'UNSIGNED_FILE',
        path: reference.name,
        message: `'${modelFile.name}' refers to external data '${reference.location}', which the signature does not cover; sign the model directory including '${reference.name}'`,
      });
    }
    result.set(file.name, file);
  }
  return [...result.values()];
}

/** `name` relative to the folder of the model file, where onnxruntime resolves locations. */
function relativeToModelFolder(name: string, modelFile: string): string {
  return path.posix.relative(path.posix.dirname(modelFile), name);
}
