// The one verified-load path for models on disk: verifyModel and the Node
// adapters (ONNX, TF.js) all go "read the signature (bounded) → verify →
// walk → check each file → that was all of them" through here. It needs
// node:fs to walk and read, so it lives in the Node layer.
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { abortSignalOf, type Cancellable } from '../cancellation.js';
import { ModelSigningError } from '../errors.js';
import { ManifestChecker, type FileHasher } from '../format/checker.js';
import type { ManifestResource } from '../format/manifest.js';
import { duplicateResource, type VerifiedManifest } from '../format/statement.js';
import type { SignerInfo, Verifier } from '../format/verifier.js';
import { hashFiles, type HashFilesOptions } from './hash/hash-model.js';
import { isAttestationFile } from '../format/attestation-files.js';
import { verifySignatureBytes, type SignatureSource, type VerifiedSignature } from '../claims/verify-signature-bytes.js';
import { readSignatureFile, type VerifiedBundle } from './verify-bundle.js';
import { walkSelected, type ModelFile, type WalkOptions } from './walk.js';

/** Read and write in 4 MiB chunks: large enough for throughput, small enough to bound memory. */
const CHUNK_SIZE = 4 * 1024 * 1024;

/** Options for {@link readVerifiedBundle}. */
export interface ReadVerifiedBundleParams {
  /** Path of the signature (bundle) file. */
  signaturePath: string;
  verifier: Verifier;
  /** Largest signature file read, in bytes (`BUNDLE_TOO_LARGE` above). Default 64 MiB (`DEFAULT_MAX_BUNDLE_BYTES`). */
  maxBundleBytes?: number;
}

/**
 * Reads a signature file (bounded, regular files only) and checks it: the
 * signature over the exact payload, the signer, the statement. No model file
 * is touched. A rejection names the signature file, so a wrong key or a
 * corrupt bundle says which file was refused. A claims file (`claims.jsonl`)
 * yields its newest OMS signature that verifies (`verifySignatureBytes`).
 *
 * @throws {ModelSigningError} `NOT_FOUND`, `SPECIAL_FILE`, `BUNDLE_TOO_LARGE`, `BAD_BUNDLE`, `BAD_PAYLOAD`,
 *   `SIGNATURE_INVALID`, `KEY_MISMATCH`, `WRONG_METHOD`, …
 */
export async function readVerifiedBundle(params: ReadVerifiedBundleParams): Promise<VerifiedSignature> {
  const { signaturePath } = params;
  const bytes = await readSignatureFile(signaturePath, { maxBundleBytes: params.maxBundleBytes });
  try {
    return await verifySignatureBytes({ bytes, verifier: params.verifier, name: signaturePath, maxBundleBytes: params.maxBundleBytes });
  } catch (cause) {
    if (!(cause instanceof ModelSigningError)) throw cause;
    throw new ModelSigningError({
      code: cause.code,
      path: signaturePath,
      cause,
      message: `Signature '${signaturePath}' was rejected: ${cause.message}`,
    });
  }
}

/** Options for {@link openVerifiedModel}. */
export interface OpenVerifiedModelParams extends WalkOptions, Cancellable {
  /** Path of the signature file; also left out of the walk when it lies inside the model. */
  signaturePath: string;
  /** Checks the signature and the signer. Give this, or `verified`. */
  verifier?: Verifier;
  /** A signature already checked with {@link readVerifiedBundle}, for callers that choose the model path from its manifest. */
  verified?: Pick<VerifiedBundle, 'manifest' | 'signer'> & { source?: SignatureSource };
  /** Largest signature file read, in bytes. Default 64 MiB (`DEFAULT_MAX_BUNDLE_BYTES`). */
  maxBundleBytes?: number;
  /** Tolerate files in the model that the signature does not list (they are never read). Default false. */
  ignoreUnsignedFiles?: boolean;
  /** Hashing worker threads for {@link VerifiedModelFiles.finish}. Default: all cores. */
  workers?: number;
}

/** Per-call options of the reading methods of {@link VerifiedModelFiles}. */
export interface CheckedReadOptions {
  /** Called after each chunk is hashed, with its size in bytes. */
  onBytes?: (count: number) => void;
}

/** Options for {@link VerifiedModelFiles.finish}. */
export type FinishOptions = Pick<HashFilesOptions, 'knownDigests' | 'onProgress'>;

/** The outcome of {@link VerifiedModelFiles.finish}. */
export interface FinishedModel {
  /** Model-relative paths of every file checked. */
  files: string[];
  /** The model's resources as checked (read through this object, hashed now, or known). */
  resources: ManifestResource[];
}

/**
 * A model whose signature checked out and whose files are being checked.
 * Every byte handed out was hashed and matched the signature; bytes that do
 * not match are never returned.
 */
export interface VerifiedModelFiles {
  readonly manifest: VerifiedManifest;
  readonly signer: SignerInfo;
  /** Which signature verified: a bundle file, or which line of a claims file. */
  readonly source?: SignatureSource;
  /** Absolute path of the model directory or file. */
  readonly root: string;
  readonly isSingleFile: boolean;
  /**
   * The files that finish() checks: every file walked, or with
   * `ignoreUnsignedFiles` only the signed ones. A single-file model's file is
   * named `.`, however its signature names it.
   */
  readonly files: readonly ModelFile[];
  /** When the walk started (`Date.now()`), for records that trust timestamps. */
  readonly walkedAtMs: number;
  /** Whether the signature covers `name` (model-relative). */
  isSigned(name: string): boolean;
  /** The walked file `name`, if the walk found it. */
  file(name: string): ModelFile | undefined;
  /**
   * Compares the files present with the signed ones before any byte is read.
   *
   * @throws {ManifestMismatchError} every missing file and, unless tolerated, every unsigned one.
   */
  checkListing(): void;
  /**
   * Reads a file once (at the size the walk saw), hashes the bytes read and
   * returns exactly those bytes if they match. A file changed on disk during
   * or after the check cannot get in: what is returned is what was hashed.
   *
   * @param into where to read (its length must be the file's size); default a new buffer.
   * @throws {ManifestMismatchError} naming the file; `NOT_FOUND` for a file the walk did not find; `ABORTED`.
   */
  readFile(name: string, options?: CheckedReadOptions & { into?: Uint8Array }): Promise<Uint8Array>;
  /** Checks a file chunk by chunk without keeping it. @throws as {@link VerifiedModelFiles.readFile}. */
  checkFile(name: string, options?: CheckedReadOptions): Promise<void>;
  /**
   * Copies a file to a new file `destination` (created exclusively, mode
   * 0600, folders 0700), hashing every chunk before it is written, so the
   * copy holds exactly the bytes that were checked. On any failure the
   * copy is removed.
   *
   * @throws as {@link VerifiedModelFiles.readFile}; `WRITE_FAILED`.
   */
  copyFile(name: string, destination: string, options?: CheckedReadOptions): Promise<void>;
  /**
   * Hashes the files not read yet with the worker-thread engine and applies
   * the completeness rules: nothing missing, nothing unsigned (unless
   * tolerated), nothing changed.
   *
   * @throws {ManifestMismatchError} listing every difference; `ABORTED`.
   */
  finish(options?: FinishOptions): Promise<FinishedModel>;
}

/**
 * Opens a model on disk for a verified load: checks the signature first (no
 * model file is read before it verifies), then walks the model, applying the
 * ignore paths the signature records and leaving out the signature file.
 * Read the files the caller needs through the returned object, then call
 * `finish()`.
 *
 * @throws {ModelSigningError} bundle errors (see {@link readVerifiedBundle}), walk errors,
 *   `BAD_PAYLOAD`, `INVALID_ARGUMENT`, `ABORTED`.
 */
export async function openVerifiedModel(params: OpenVerifiedModelParams): Promise<VerifiedModelFiles> {
  const signal = abortSignalOf(params);
  if ((params.verifier === undefined) === (params.verified === undefined)) {
    throw new ModelSigningError({ code: 'INVALID_ARGUMENT', message: 'openVerifiedModel needs exactly one of verifier and verified' });
  }
  const { manifest, signer, source } = params.verified ?? (await readVerifiedBundle({ ...params, verifier: params.verifier! }));
  throwIfAborted(signal);
  const signaturePath = path.resolve(params.signaturePath);
  const ignoreUnsignedFiles = params.ignoreUnsignedFiles ?? false;
  const walkOptions: WalkOptions = {
    ...params,
    // Signature and attestation files the signature lists are checked like any file; the others are left out below.
    ignoreAttestationFiles: false,
    ignorePaths: [...(params.ignorePaths ?? []), ...manifest.serialization.ignorePaths, signaturePath],
  };
  const walkedAtMs = Date.now();
  const walked = await walkSelected(walkOptions, ignoreUnsignedFiles ? signedPaths(manifest) : undefined);
  if (walked.isSingleFile) aliasSingleFile(manifest, path.basename(walked.root));
  const checker = new ManifestChecker(manifest, { ignoreUnsignedFiles });
  // A single-file model is walked whole; drop it here if it is not the signed file.
  const keepAttestations = params.ignoreAttestationFiles === false;
  const files = walked.files.filter((f) =>
    ignoreUnsignedFiles || (!keepAttestations && isAttestationFile(f.name)) ? checker.isSigned(f.name) : true,
  );
  const byName = new Map(files.map((f) => [f.name, f]));
  /** Resources of the files already read and matched, by file. */
  const checked = new Map<string, ManifestResource[]>();

  const fileOf = (name: string): ModelFile => {
    const file = byName.get(name);
    if (!file)
      throw new ModelSigningError({ code: 'NOT_FOUND', path: name, message: `'${name}' is not a file of the model '${walked.root}'` });
    return file;
  };
  const done = (name: string, hasher: FileHasher) => checked.set(name, hasher.finish());

  return {
    manifest,
    signer,
    ...(source ? { source } : {}),
    root: walked.root,
    isSingleFile: walked.isSingleFile,
    files,
    walkedAtMs,
    isSigned: (name) => checker.isSigned(name),
    file: (name) => byName.get(name),
    checkListing: () => checker.checkListing(files),

    async readFile(name, options = {}) {
      const file = fileOf(name);
      const target = options.into ?? new Uint8Array(file.size);
      if (target.length !== file.size) {
        throw new ModelSigningError({
          code: 'INVALID_ARGUMENT',
          message: `readFile('${name}'): into has ${target.length} bytes, the file ${file.size}`,
        });
      }
      const hasher = checker.createFileHasher(name);
      const handle = await open(file);
      try {
        // Read at the size the walk saw: a file that grew is cut off, one that
        // shrank leaves zeros; either way only `target` is hashed and returned.
        let filled = 0;
        while (filled < target.length) {
          throwIfAborted(signal);
          const { bytesRead } = await handle.read(target, filled, Math.min(CHUNK_SIZE, target.length - filled), filled);
          if (bytesRead === 0) break;
          hasher.update(target.subarray(filled, filled + bytesRead));
          filled += bytesRead;
          options.onBytes?.(bytesRead);
        }
        if (filled < target.length) hasher.update(target.subarray(filled));
      } finally {
        await handle.close();
      }
      done(name, hasher);
      return target;
    },

    async checkFile(name, options = {}) {
      const file = fileOf(name);
      const hasher = checker.createFileHasher(name);
      for await (const chunk of createReadStream(file.absolutePath, { highWaterMark: CHUNK_SIZE })) {
        throwIfAborted(signal);
        hasher.update(chunk as Buffer);
        options.onBytes?.((chunk as Buffer).length);
      }
      done(name, hasher);
    },

    async copyFile(name, destination, options = {}) {
      const file = fileOf(name);
      const hasher = checker.createFileHasher(name);
      try {
        await fs.mkdir(path.dirname(destination), { recursive: true, mode: 0o700 });
      } catch (cause) {
        throw writeFailed(destination, cause);
      }
      const input = await open(file);
      let created = false;
      try {
        const output = await fs.open(destination, 'wx', 0o600).catch((cause: unknown) => Promise.reject(writeFailed(destination, cause)));
        created = true;
        try {
          const buffer = new Uint8Array(CHUNK_SIZE);
          for (;;) {
            throwIfAborted(signal);
            const { bytesRead } = await input.read(buffer, 0, buffer.length, null);
            if (bytesRead === 0) break;
            const chunk = buffer.subarray(0, bytesRead);
            hasher.update(chunk);
            await writeAll(output, chunk, destination);
            options.onBytes?.(bytesRead);
          }
        } finally {
          await output.close();
        }
        done(name, hasher);
      } catch (error) {
        if (created) await fs.rm(destination, { force: true });
        throw error;
      } finally {
        await input.close();
      }
    },

    async finish(options = {}) {
      throwIfAborted(signal);
      const unread = files.filter((f) => !checked.has(f.name));
      const hashOptions: HashFilesOptions = { ...options };
      if (params.workers !== undefined) hashOptions.workers = params.workers;
      if (signal) hashOptions.abortSignal = signal;
      const hashed = unread.length > 0 ? await hashFiles(unread, manifest.serialization, hashOptions) : [];
      const names = files.map((f) => f.name);
      const resources = [...[...checked.values()].flat(), ...hashed];
      checker.compareAll(names, resources);
      return { files: names, resources };
    },
  };
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) {
    throw new ModelSigningError({ code: 'ABORTED', cause: signal.reason, message: 'The operation was cancelled through its AbortSignal' });
  }
}

async function open(file: ModelFile): Promise<fs.FileHandle> {
  try {
    return await fs.open(file.absolutePath, 'r');
  } catch (cause) {
    throw new ModelSigningError({
      code: 'READ_FAILED',
      path: file.name,
      cause,
      message: `'${file.name}' cannot be read: ${(cause as Error).message}`,
    });
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

/**
 * Selects the signed files and the folders on their way, so a walk that
 * tolerates unsigned files looks at nothing else.
 */
function signedPaths(manifest: VerifiedManifest): (rel: string) => boolean {
  const paths = new Set<string>();
  for (const file of new ManifestChecker(manifest).signedFiles) {
    const parts = file.split('/');
    for (let i = 1; i <= parts.length; i++) paths.add(parts.slice(0, i).join('/'));
  }
  return (rel) => paths.has(rel);
}

/**
 * A single-file model's resource is `.` for the reference but the file's
 * basename for the spec; accept both by renaming the basename form. A
 * manifest that names the file both ways lists it twice: refused, since
 * either digest could be the one that counts.
 *
 * @throws {ModelSigningError} `BAD_PAYLOAD`.
 */
function aliasSingleFile(manifest: VerifiedManifest, basename: string): void {
  const isShards = manifest.serialization.method === 'shards';
  const shardPrefix = `${basename}:`;
  const aliasOf = (name: string): string => {
    if (!isShards) return name === basename ? '.' : name;
    const range = name.slice(shardPrefix.length);
    return name.startsWith(shardPrefix) && /^\d+:\d+$/.test(range) ? `.:${range}` : name;
  };
  const seen = new Set<string>();
  manifest.resources = manifest.resources.map((r) => {
    const name = aliasOf(r.name);
    if (seen.has(name)) throw duplicateResource(name);
    seen.add(name);
    return name === r.name ? r : { ...r, name };
  });
}
