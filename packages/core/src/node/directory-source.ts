// A model on disk as a source of the verified-model session: the signature
// file (regular files only, opened without blocking), the walk (symlink
// policy, containment, special files), each file read at the size the walk
// saw, and the worker-thread engine for the files nobody read.
import { constants as bufferConstants } from 'node:buffer';
import { constants } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { ModelSigningError } from '../errors.js';
import { CLAIMS_FILE_NAME } from '../format/attestation-files.js';
import { bundleTooLargeToDecode } from '../format/bundle.js';
import type { ManifestResource, Serialization } from '../format/manifest.js';
import type { FinishOptions, ListScope, ModelSource, OpenContext, SourceBody, SourceContext, SourceListing } from '../session/source.js';
import type { ModelIdentity } from '../policy/identity.js';
import { hashFiles } from './hash/hash-model.js';
import { toModelRelative } from './paths.js';
import { countModelFiles, walkSelected, type ModelFile, type WalkOptions } from './walk.js';

/** Read in 4 MiB chunks: large enough for throughput, small enough to bound memory. */
const CHUNK_SIZE = 4 * 1024 * 1024;

// Non-blocking, so a FIFO in place of a file opens at once instead of
// waiting for a writer; no difference for regular files. Windows has no such flag.
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);

/** Options of {@link DirectorySource}. */
export interface DirectorySourceOptions extends WalkOptions {
  /** Path of the signature file; also left out of the walk when it lies inside the model. */
  signaturePath: string;
  /**
   * For a `modelPath` that is a file: the model is that file when the
   * signature covers exactly one file, else the folder holding it (ONNX
   * loads a `.onnx` file signed alone or with its folder). Default false:
   * a file path is a single-file model.
   */
  fileOrFolder?: boolean;
  /** Hashing worker threads for the files nobody read. Default: planned from the cores. */
  workers?: number;
  /**
   * The claims file read with a signature that is one bundle. Default:
   * `claims.jsonl` in the signature file's folder, when it exists.
   */
  claimsPath?: string;
}

/** What the walk found; set by {@link DirectorySource.list}. */
export interface WalkedDirectory {
  /** Absolute path of the model directory or file. */
  root: string;
  isSingleFile: boolean;
  /** The files of the model, as walked. A single-file model's file is named `.`. */
  files: ModelFile[];
  /** When the walk started (`Date.now()`), for records that trust timestamps. */
  walkedAtMs: number;
}

/** A model directory (or file) and its signature file, read for the session. */
export class DirectorySource implements ModelSource {
  readonly location: string;
  readonly signatureLocation: string;
  private walkedModel: WalkedDirectory | undefined;
  /** The walked files by name, built on first use: hashing the whole model never needs it. */
  private byNameMap: Map<string, ModelFile> | undefined;

  constructor(private readonly options: DirectorySourceOptions) {
    this.location = options.modelPath;
    this.signatureLocation = options.signaturePath;
  }

  /** The walk's result; throws before {@link DirectorySource.list} ran. */
  get walked(): WalkedDirectory {
    if (!this.walkedModel) throw new Error('DirectorySource.walked is read before the session listed the model');
    return this.walkedModel;
  }

  /**
   * The signature file ({@link signatureFile}): the path comes with the
   * model, so a FIFO must not hang us and a link to `/dev/zero` must not
   * fill memory.
   */
  signature(): Promise<SourceBody> {
    return signatureFile(this.options.signaturePath);
  }

  /**
   * The `claimsPath` given, else `claims.jsonl` in the signature file's
   * folder when there is one: read as the signature is (a regular file, opened without blocking).
   */
  async claims(): Promise<{ body: SourceBody; location: string } | undefined> {
    const given = this.options.claimsPath;
    if (given !== undefined) return { body: await signatureFile(given), location: given };
    const location = path.join(path.dirname(this.options.signaturePath), CLAIMS_FILE_NAME);
    const exists = await fs.lstat(location).then(
      () => true,
      (err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? false : Promise.reject(unreadableSignature(location, err))),
    );
    return exists ? { body: await signatureFile(location), location } : undefined;
  }

  /** The model's real path ({@link localModelIdentity}). */
  identity(): Promise<ModelIdentity> {
    return localModelIdentity(this.options.modelPath);
  }

  /**
   * Counts the model's files from the folders' listings alone (no stat, no
   * check), leaving out the caller's ignore paths and the scope's: for a
   * signature limit that follows the model. A `fileOrFolder` file counts as
   * its folder, which it may stand for.
   */
  async countFiles(scope: Parameters<NonNullable<ModelSource['countFiles']>>[0]): Promise<number> {
    const target = path.resolve(this.options.modelPath);
    const counted = this.options.fileOrFolder
      ? await fs.stat(target).then(
          (s) => (s.isFile() ? path.dirname(target) : target),
          () => target,
        )
      : target;
    const ignorePaths = [...scope.ignorePaths];
    for (const p of this.options.ignorePaths ?? []) {
      const rel = toModelRelative(counted, p);
      if (rel !== undefined) ignorePaths.push(rel);
    }
    return countModelFiles(counted, { ignorePaths, atMost: scope.atMost });
  }

  /**
   * Walks the model, leaving out the ignore paths (the caller's, the
   * signature's, the git files) and the signature file; with unsigned files
   * tolerated, it looks only at the signed paths.
   *
   * @throws {ModelSigningError} `NOT_FOUND`, `SYMLINK_REFUSED`, `PATH_ESCAPE`, `SPECIAL_FILE`, `INVALID_FILE_NAME`, `READ_FAILED`.
   */
  async list(scope: ListScope): Promise<SourceListing> {
    const root = await this.modelRoot(scope);
    const walkedAtMs = Date.now();
    const walked = await walkSelected(
      {
        modelPath: root,
        ignorePaths: [...(this.options.ignorePaths ?? []), ...scope.ignorePaths, path.resolve(this.options.signaturePath)],
        // Git paths arrive in scope.ignorePaths when ignored. Attestation files are
        // listed: the session keeps those the signature lists and leaves out the rest.
        ignoreGitPaths: false,
        ignoreAttestationFiles: false,
        ...(this.options.allowSymlinks !== undefined ? { allowSymlinks: this.options.allowSymlinks } : {}),
        ...(this.options.symlinkTargetRoot !== undefined ? { symlinkTargetRoot: this.options.symlinkTargetRoot } : {}),
        ...(this.options.onFileStats ? { onFileStats: this.options.onFileStats } : {}),
      },
      scope.wanted,
    );
    this.walkedModel = { root: walked.root, isSingleFile: walked.isSingleFile, files: walked.files, walkedAtMs };
    this.byNameMap = undefined;
    return {
      // The walked files themselves (a name and a size each): a dataset's million entries are not copied.
      files: walked.files,
      ...(walked.isSingleFile ? { singleFileName: path.basename(walked.root) } : {}),
    };
  }

  /**
   * A walked file, read at the size the walk saw: a file that grew is cut
   * off there, one that shrank ends early; either way only what was read is
   * hashed and handed out.
   */
  open(name: string, context: OpenContext): Promise<SourceBody | undefined> {
    const file = this.byName.get(name);
    if (!file) return Promise.resolve(undefined);
    return Promise.resolve({ size: file.size, chunks: fileChunks(file, context.into) });
  }

  /** The files nobody read, through the worker-thread engine. */
  hashFiles(
    names: readonly string[],
    serialization: Readonly<Serialization>,
    options: FinishOptions & SourceContext,
  ): Promise<ManifestResource[]> {
    // Every walked file, in walk order (a whole dataset at the end of a verify): no lookups.
    const all = this.walked.files;
    const files =
      names.length === all.length && names.every((n, i) => n === all[i].name) ? all : names.map((name) => this.byName.get(name)!);
    return hashFiles(files, serialization, {
      ...(this.options.workers !== undefined ? { workers: this.options.workers } : {}),
      ...(options.knownDigests ? { knownDigests: options.knownDigests } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      ...(options.abortSignal ? { abortSignal: options.abortSignal } : {}),
    });
  }

  private get byName(): Map<string, ModelFile> {
    this.byNameMap ??= new Map((this.walkedModel?.files ?? []).map((f) => [f.name, f]));
    return this.byNameMap;
  }

  /** The model path, or with `fileOrFolder` the folder of a file the signature does not cover alone. */
  private async modelRoot(scope: ListScope): Promise<string> {
    const target = path.resolve(this.options.modelPath);
    if (!this.options.fileOrFolder) return target;
    const isFile = await fs.stat(target).then(
      (s) => s.isFile(),
      () => false,
    );
    const signed = scope.signedFiles;
    const alone = signed.length === 1 && (signed[0] === '.' || signed[0] === path.basename(target));
    return isFile && !alone ? path.dirname(target) : target;
  }
}

/**
 * A local model's identity for a trust policy: its real path (symbolic
 * links resolved, so a link cannot dodge a rule), else its absolute path.
 */
export async function localModelIdentity(modelPath: string): Promise<ModelIdentity> {
  const resolved = await fs.realpath(modelPath).catch(() => path.resolve(modelPath));
  return { kind: 'path', path: resolved };
}

/**
 * A signature file's bytes: only a regular file, and not past the runtime's
 * longest string (the text is decoded whole). Its type is checked before
 * and again on the open descriptor, which is opened without blocking.
 *
 * @throws {ModelSigningError} `NOT_FOUND`, `SPECIAL_FILE`; from the chunks `BUNDLE_TOO_LARGE`, `BAD_BUNDLE` (changed while read).
 */
export async function signatureFile(signaturePath: string): Promise<SourceBody> {
  const stats = await fs.stat(signaturePath).catch((cause: unknown) => Promise.reject(unreadableSignature(signaturePath, cause)));
  if (!stats.isFile()) throw notRegular(signaturePath);
  return { size: stats.size, chunks: signatureChunks(signaturePath, stats.size) };
}

async function* signatureChunks(signaturePath: string, size: number): AsyncGenerator<Uint8Array> {
  // The text becomes one string: past the runtime's longest, refuse before allocating.
  if (size > bufferConstants.MAX_STRING_LENGTH) throw bundleTooLargeToDecode(size, signaturePath);
  const handle = await fs
    .open(signaturePath, OPEN_FLAGS)
    .catch((cause: unknown) => Promise.reject(unreadableSignature(signaturePath, cause)));
  try {
    if (!(await handle.stat()).isFile()) throw notRegular(signaturePath);
    let read = 0;
    for (;;) {
      // The whole file in one buffer, so the session joins nothing (a
      // dataset's signature is hundreds of megabytes: one copy, not two).
      // One byte more than expected tells a file that grew while we read it.
      const buffer = Buffer.allocUnsafe(size - read + 1);
      const { bytesRead } = await handle
        .read(buffer, 0, buffer.length, null)
        .catch((cause: unknown) => Promise.reject(unreadableSignature(signaturePath, cause)));
      if (bytesRead === 0) return;
      read += bytesRead;
      if (read > size) {
        throw new ModelSigningError({
          code: 'BAD_BUNDLE',
          path: signaturePath,
          message: `Signature file '${signaturePath}' changed while it was read`,
        });
      }
      yield buffer.subarray(0, bytesRead);
    }
  } finally {
    await handle.close();
  }
}

async function* fileChunks(file: ModelFile, into: Uint8Array | undefined): AsyncGenerator<Uint8Array> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(file.absolutePath, 'r');
  } catch (cause) {
    throw new ModelSigningError({
      code: 'READ_FAILED',
      path: file.name,
      cause,
      message: `'${file.name}' cannot be read: ${(cause as Error).message}`,
    });
  }
  try {
    for (let position = 0; position < file.size;) {
      const length = Math.min(CHUNK_SIZE, file.size - position);
      const target = into ? into.subarray(position, position + length) : Buffer.allocUnsafe(length);
      const { bytesRead } = await handle.read(target, 0, length, position);
      if (bytesRead === 0) return;
      position += bytesRead;
      yield target.subarray(0, bytesRead);
    }
  } finally {
    await handle.close();
  }
}

function unreadableSignature(signaturePath: string, cause: unknown): ModelSigningError {
  return new ModelSigningError({
    code: 'NOT_FOUND',
    path: signaturePath,
    cause,
    message: `Signature file '${signaturePath}' cannot be read: ${(cause as Error).message}`,
  });
}

function notRegular(signaturePath: string): ModelSigningError {
  return new ModelSigningError({
    code: 'SPECIAL_FILE',
    path: signaturePath,
    message: `Signature file '${signaturePath}' is not a regular file (a directory, FIFO, socket or device); refusing to read it`,
  });
}
