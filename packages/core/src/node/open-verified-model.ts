// A model on disk, opened through the verified-model session: the
// directory source plus the one thing only a file system offers, a private
// copy that holds exactly the checked bytes. verifyModel and the Node
// loaders (ONNX, TF.js) go through here.
import fs from 'node:fs/promises';
import path from 'node:path';
import { ModelSigningError } from '../errors.js';
import type { LoadLimits } from '../session/limits.js';
import {
  openVerifiedSession,
  type SessionReadOptions,
  type VerifiedSession,
  type VerifiedSessionParams,
} from '../session/verified-session.js';
import { DirectorySource, type DirectorySourceOptions } from './directory-source.js';
import type { ModelFile } from './walk.js';

/** Options for {@link openVerifiedModel}. */
export interface OpenVerifiedModelParams
  extends
    DirectorySourceOptions,
    Pick<LoadLimits, 'maxBundleBytes' | 'maxClaimsBytes'>,
    Pick<VerifiedSessionParams, 'verifier' | 'policy'> {
  /** With `policy`: how the model was addressed (a Hugging Face repo it came from, a URL). Default: its real path. */
  model?: VerifiedSessionParams['model'];
  /** Tolerate files in the model that the signature does not list (they are never read). Default false. */
  ignoreUnsignedFiles?: boolean;
  /** Cancels the load: it rejects with `ABORTED`. */
  abortSignal?: AbortSignal;
}

/**
 * A model on disk whose signature checked out and whose files are being
 * checked: a {@link VerifiedSession} over the directory, with what the walk
 * found. Every byte handed out was hashed and matched the signature.
 */
export interface VerifiedModelFiles extends VerifiedSession {
  /** Absolute path of the model directory or file. */
  readonly root: string;
  readonly isSingleFile: boolean;
  /**
   * The files `finish()` checks: every file walked, or with
   * `ignoreUnsignedFiles` only the signed ones. A single-file model's file
   * is named `.`, however its signature names it.
   */
  readonly files: readonly ModelFile[];
  /** When the walk started (`Date.now()`), for records that trust timestamps. */
  readonly walkedAtMs: number;
  /** The walked file `name`, if the walk found it. */
  file(name: string): ModelFile | undefined;
  /**
   * Copies a file to a new file `destination` (created exclusively, mode
   * 0600, folders 0700), hashing every chunk before it is written, so the
   * copy holds exactly the bytes that were checked. On any failure the
   * copy is removed.
   *
   * @throws as {@link VerifiedSession.read}; `WRITE_FAILED`.
   */
  copyFile(name: string, destination: string, options?: SessionReadOptions): Promise<void>;
}

/**
 * Opens a model on disk for a verified load: checks the signature first (no
 * model file is read before it verifies), then walks the model, applying the
 * ignore paths the signature records and leaving out the signature file.
 * Read the files the caller needs through the returned object, then call
 * `finish()`.
 *
 * @throws {PolicyDeniedError} `POLICY_DENIED` under a `policy`: which rule, which requirement, why.
 * @throws {ModelSigningError} the signature's errors (`NOT_FOUND`,
 *   `SPECIAL_FILE`, `BUNDLE_TOO_LARGE`, `BAD_BUNDLE`, `SIGNATURE_INVALID`,
 *   `KEY_MISMATCH`, `WRONG_METHOD`, …, naming the signature file); walk
 *   errors; `BAD_PAYLOAD`; `INVALID_ARGUMENT`; `ABORTED`.
 */
export async function openVerifiedModel(params: OpenVerifiedModelParams): Promise<VerifiedModelFiles> {
  const {
    verifier,
    policy,
    model,
    ignoreUnsignedFiles,
    abortSignal,
    maxBundleBytes,
    maxClaimsBytes,
    ignoreGitPaths,
    ignoreAttestationFiles,
    ...sourceOptions
  } = params;
  const source = new DirectorySource(sourceOptions);
  const session = await openVerifiedSession({
    source,
    ...(verifier ? { verifier } : {}),
    ...(policy ? { policy } : {}),
    ...(model ? { model } : {}),
    ...(maxBundleBytes !== undefined ? { maxBundleBytes } : {}),
    ...(maxClaimsBytes !== undefined ? { maxClaimsBytes } : {}),
    ...(ignoreUnsignedFiles !== undefined ? { ignoreUnsignedFiles } : {}),
    ...(ignoreGitPaths !== undefined ? { ignoreGitPaths } : {}),
    ...(ignoreAttestationFiles !== undefined ? { ignoreAttestationFiles } : {}),
    ...(abortSignal ? { abortSignal } : {}),
  });
  const { root, isSingleFile, walkedAtMs } = source.walked;
  // The session leaves files out of the walk's list only when some are
  // ignored or unsigned; otherwise the walk's list is the model's (a
  // dataset's million names are not copied into another set and list).
  const walked = source.walked.files;
  const kept = session.files!;
  let files = walked;
  if (kept.length !== walked.length) {
    const listed = new Set(kept.map((f) => f.name));
    files = walked.filter((f) => listed.has(f.name));
  }
  let byName: Map<string, ModelFile> | undefined;
  // The session's methods, bound, with the directory's facts beside them.
  return {
    manifest: session.manifest,
    signer: session.signer,
    source: session.source,
    claims: session.claims,
    ...(session.policy ? { policy: session.policy } : {}),
    ...(session.signature ? { signature: session.signature } : {}),
    signedFiles: session.signedFiles,
    isSigned: (name) => session.isSigned(name),
    checkListing: () => session.checkListing(),
    read: (name, options) => session.read(name, options),
    stream: (name, options) => session.stream(name, options),
    checkFile: (name, options) => session.checkFile(name, options),
    checkBytes: (name, bytes, options) => session.checkBytes(name, bytes, options),
    finish: (options) => session.finish(options),
    root,
    isSingleFile,
    files,
    walkedAtMs,
    file: (name) => (byName ??= new Map(files.map((f) => [f.name, f]))).get(name),
    copyFile: (name, destination, options) => copyVerified(session, name, destination, options),
  };
}

/** {@link VerifiedModelFiles.copyFile}: writes each chunk once it is hashed; the copy is kept only when the whole file matched. */
async function copyVerified(session: VerifiedSession, name: string, destination: string, options: SessionReadOptions = {}): Promise<void> {
  try {
    await fs.mkdir(path.dirname(destination), { recursive: true, mode: 0o700 });
  } catch (cause) {
    throw writeFailed(destination, cause);
  }
  const output = await fs.open(destination, 'wx', 0o600).catch((cause: unknown) => Promise.reject(writeFailed(destination, cause)));
  try {
    try {
      for await (const chunk of session.stream(name, options)) await writeAll(output, chunk, destination);
    } finally {
      await output.close();
    }
  } catch (error) {
    await fs.rm(destination, { force: true });
    throw error;
  }
}

function writeFailed(destination: string, cause: unknown): ModelSigningError {
  return new ModelSigningError({
    code: 'WRITE_FAILED',
    path: destination,
    cause,
    message: `Cannot write '${destination}': ${(cause as Error).message}`,
  });
}

async function writeAll(handle: fs.FileHandle, chunk: Uint8Array, destination: string): Promise<void> {
  let written = 0;
  while (written < chunk.length) {
    const { bytesWritten } = await handle
      .write(chunk, written, chunk.length - written)
      .catch((cause: unknown) => Promise.reject(writeFailed(destination, cause)));
    written += bytesWritten;
  }
}
