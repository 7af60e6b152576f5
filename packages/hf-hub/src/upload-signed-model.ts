import { constants, openAsBlob } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { commitIter, createRepo, type CommitOperation, type CommitOutput } from '@huggingface/hub';
import {
  DEFAULT_MAX_BUNDLE_BYTES,
  DEFAULT_SIGNATURE_NAME,
  ManifestMismatchError,
  ModelSigningError,
  readClaims,
  type ClaimsWarning,
  type HashAlgorithm,
  type HashProgress,
  type Manifest,
  type SerializationMethod,
  type SerializedBundle,
  type Signer,
  type TimestampAuthorityOptions,
} from '@model-signing/core';
import { CLAIMS_FILE_NAME, normalizeModelPath, serializeBundle } from '@model-signing/core/internal';
import { createSignature, isClaimsPath, subjectDigest } from '@model-signing/core/internal/node';
import { hubContext, hubFailure, repoLabel, type HubConnectionParams, type HubContext, type HubRepo } from './hub.js';

/** Parameters of {@link uploadSignedModel}. */
export interface UploadSignedModelParams extends HubConnectionParams {
  repo: HubRepo;
  /** The local model directory. */
  modelPath: string;
  /** Any signer from core: key, certificate, Sigstore keyless. */
  signer: Signer;
  /**
   * An RFC 3161 timestamp authority to timestamp the signature with, as
   * `signModel` takes it (key and certificate signers; docs/timestamps.md).
   * Nothing is uploaded when it does not answer with a valid timestamp.
   */
  timestampAuthority?: TimestampAuthorityOptions;
  /**
   * Path of the signature in the repo. Default `model.sig`. A local file of
   * that name is neither signed nor uploaded. A path ending in `.jsonl`
   * (`claims.jsonl`) selects the claims layout: the new OMS signature is
   * appended to the model's local file of that name, if any, and the whole
   * is uploaded (the local file is left as it is). With any other name, the
   * model's `claims.jsonl` beside the signature is uploaded as it is. See
   * {@link UploadSignedModelResult.claims}.
   */
  signaturePath?: string;
  /** Paths to leave out of both the signature and the upload (model-relative, or absolute inside the model). */
  ignorePaths?: string[];
  /** Leave out `.git`, `.gitattributes`, `.github`, `.gitignore`. Default true, as for signing. */
  ignoreGitPaths?: boolean;
  /** Follow symlinks to files inside the model. Default false. */
  allowSymlinks?: boolean;
  /** `files` (default) or `shards`. Only sha256 `files` signatures let downloaders check LFS metadata before downloading. */
  method?: SerializationMethod;
  /** Default `sha256`. */
  hashAlgorithm?: HashAlgorithm;
  /** Shard size in bytes for `shards`. */
  shardSize?: number;
  /** Hashing worker threads. Default: all cores. */
  workers?: number;
  /** Create the repository first if it does not exist (with the account's default visibility). Default false. */
  createRepo?: boolean;
  /** Default `main`. */
  branch?: string;
  /** Open a pull request instead of committing to the branch. */
  isPullRequest?: boolean;
  /** Fail if the branch head is no longer this commit. */
  parentCommit?: string;
  commitTitle?: string;
  commitDescription?: string;
  onProgress?: (progress: UploadProgress) => void;
}

/** Progress of {@link uploadSignedModel}. */
export type UploadProgress =
  /** The model is being hashed for the signature. */
  | ({ phase: 'hashing' } & HashProgress)
  /** The manifest is being signed. */
  | { phase: 'signing' }
  /** The hub client's phases. */
  | { phase: 'preuploading' | 'uploadingLargeFiles' | 'committing' }
  /** One file's upload (or the client's own LFS hashing), `progress` from 0 to 1. */
  | { phase: 'file'; path: string; state: 'hashing' | 'uploading' | 'error'; progress: number };

/** The outcome of {@link uploadSignedModel}. */
export interface UploadSignedModelResult {
  /** The one commit holding the files and their signature. */
  commit: { oid: string; url: string };
  pullRequestUrl?: string;
  manifest: Manifest;
  bundle: SerializedBundle;
  /** Model files uploaded (model-relative paths), without the signature. */
  files: string[];
  signaturePath: string;
  /** The claims file uploaded in the same commit, when there is one. */
  claims?: UploadedClaims;
}

/**
 * The claims file (`claims.jsonl`, docs/claims.md) that {@link uploadSignedModel}
 * uploaded with the signature: the signature itself when its path ends in
 * `.jsonl`, else the model's `claims.jsonl` beside the signature. Claims are
 * uploaded as they are, never verified here (whoever loads the model checks
 * them with the verifiers they trust); what this reports is what a
 * downloader would find suspicious.
 */
export interface UploadedClaims {
  /** Its path in the repo. */
  path: string;
  /** How many lines are claims (the new OMS signature included when it is the signature). */
  claims: number;
  /**
   * Lines whose claim is about other files than those uploaded: its subject
   * is not their root digest (a claim about an earlier version of the model,
   * or made with other hashing options). Uploaded all the same; verifiers
   * report them as about another model.
   */
  otherSubjects: number[];
  /** Lines that are not claims (not JSON, not a bundle, cut short), as readers will skip them. */
  warnings: ClaimsWarning[];
}

/**
 * Signs a local model and uploads it with its signature in one commit, so
 * the hub never holds files without their signature nor a signature without
 * its files. The same ignore rules as signing apply, and exactly the files
 * that were hashed are uploaded: each is opened before hashing, and Node
 * refuses to read a file that changes after that, so the hub cannot receive
 * bytes other than the signed ones (the upload then fails with
 * `DIGEST_MISMATCH` naming the file, before anything is committed).
 *
 * @throws {ModelSigningError} walk and hashing errors (`NOT_FOUND`,
 *   `SYMLINK_REFUSED`, …), `EMPTY_MODEL`, signer errors, `INVALID_ARGUMENT`,
 *   `NETWORK_ERROR`, `ABORTED`; with `timestampAuthority`, `TIMESTAMP_INVALID`.
 */
export async function uploadSignedModel(params: UploadSignedModelParams): Promise<UploadSignedModelResult> {
  const ctx = hubContext(params.repo, params);
  const signaturePath = normalizeModelPath(params.signaturePath ?? DEFAULT_SIGNATURE_NAME);
  // The signature itself in the claims layout, else claims.jsonl beside it (where verifiers look for it).
  const claimsLayout = isClaimsPath(signaturePath);
  const claimsPath = claimsLayout ? signaturePath : path.posix.join(path.posix.dirname(signaturePath), CLAIMS_FILE_NAME);
  const onProgress = params.onProgress ?? (() => undefined);
  // Stat, then open: Node refuses to read a file-backed Blob whose file changed after it was opened.
  const contents = new Map<string, { blob: Blob; absolutePath: string; stamp: string }>();
  const { manifest, bundle } = await createSignature({
    signer: params.signer,
    walk: {
      modelPath: params.modelPath,
      ignorePaths: [...(params.ignorePaths ?? []), signaturePath, claimsPath],
      ignoreGitPaths: params.ignoreGitPaths ?? true,
      allowSymlinks: params.allowSymlinks ?? false,
    },
    method: params.method ?? 'files',
    hashAlgorithm: params.hashAlgorithm ?? 'sha256',
    ...(params.shardSize ? { shardSize: params.shardSize } : {}),
    ...(params.workers !== undefined ? { workers: params.workers } : {}),
    ...(params.timestampAuthority ? { timestampAuthority: params.timestampAuthority } : {}),
    ...(params.abortSignal ? { abortSignal: params.abortSignal } : {}),
    onWalked: async (walked) => {
      if (walked.isSingleFile) {
        throw new ModelSigningError({
          code: 'INVALID_ARGUMENT',
          path: params.modelPath,
          message: `'${params.modelPath}' is a file; upload the directory that holds the model`,
        });
      }
      // Opened before hashing, so the bytes uploaded are the bytes hashed.
      for (const file of walked.files) {
        const stamp = await fileStamp(file.absolutePath);
        contents.set(file.name, { blob: await openAsBlob(file.absolutePath), absolutePath: file.absolutePath, stamp });
      }
    },
    onProgress: (p) => onProgress({ phase: 'hashing', ...p }),
    onSigning: () => onProgress({ phase: 'signing' }),
  });

  // Read after signing, so a claim appended meanwhile (attest in another process) goes up too.
  const localClaims = await readLocalClaims(params.modelPath, claimsPath);
  const signatureLine = `${serializeBundle(bundle)}\n`;
  const claimsBytes = claimsLayout ? withLine(localClaims, signatureLine) : localClaims;
  if (claimsBytes && claimsBytes.byteLength > DEFAULT_MAX_BUNDLE_BYTES) {
    throw new ModelSigningError({
      code: 'BUNDLE_TOO_LARGE',
      path: claimsPath,
      message: `The claims file '${claimsPath}' would be ${claimsBytes.byteLength} bytes, more than downloaders read (${DEFAULT_MAX_BUNDLE_BYTES}); nothing was uploaded`,
    });
  }

  const files = [...contents.keys()].sort();
  const operations: CommitOperation[] = files.map((name) => ({ operation: 'addOrUpdate', path: name, content: contents.get(name)!.blob }));
  if (!claimsLayout) operations.push({ operation: 'addOrUpdate', path: signaturePath, content: new Blob([serializeBundle(bundle)]) });
  if (claimsBytes) operations.push({ operation: 'addOrUpdate', path: claimsPath, content: new Blob([claimsBytes]) });
  const claims = claimsBytes ? await describeClaims(claimsPath, claimsBytes, subjectDigest(manifest)) : undefined;
  if (params.createRepo) await ensureRepo(ctx);
  let output: CommitOutput | undefined;
  try {
    const events = commitIter({
      repo: ctx.repo,
      operations,
      title:
        params.commitTitle ??
        `Upload signed model (${files.length} files + ${signaturePath}${claimsBytes && !claimsLayout ? ` + ${claimsPath}` : ''})`,
      ...(params.commitDescription !== undefined ? { description: params.commitDescription } : {}),
      ...(params.branch !== undefined ? { branch: params.branch } : {}),
      ...(params.isPullRequest !== undefined ? { isPullRequest: params.isPullRequest } : {}),
      ...(params.parentCommit !== undefined ? { parentCommit: params.parentCommit } : {}),
      ...(params.abortSignal ? { abortSignal: params.abortSignal } : {}),
      hubUrl: ctx.hubUrl,
      fetch: ctx.fetch,
      // Xet needs its own CAS service; plain LFS keeps the SHA-256 downloaders compare with.
      useXet: false,
    });
    for (;;) {
      const step = await events.next();
      if (step.done) {
        output = step.value;
        break;
      }
      const event = step.value;
      onProgress(
        event.event === 'phase'
          ? { phase: event.phase }
          : { phase: 'file', path: event.path, state: event.state, progress: event.progress },
      );
    }
  } catch (cause) {
    if (cause instanceof Error && cause.name === 'NotReadableError') {
      const changed: string[] = [];
      for (const [name, file] of contents) if ((await fileStamp(file.absolutePath).catch(() => 'gone')) !== file.stamp) changed.push(name);
      const error = new ManifestMismatchError(changed.map((name) => ({ kind: 'mismatch' as const, name })));
      error.message = `${changed.length > 0 ? error.message : 'A model file changed after it was signed'}; nothing was committed. Upload again once the files stop changing.`;
      throw error;
    }
    const error = hubFailure(cause, `uploading to ${repoLabel(ctx.repo)}`, ctx);
    if (error.code === 'NOT_FOUND')
      error.message += ' (does the repository exist? Create it on the hub, or pass createRepo / --create-repo)';
    throw error;
  }
  if (!output)
    throw new ModelSigningError({ code: 'NETWORK_ERROR', message: `The hub did not confirm the commit to ${repoLabel(ctx.repo)}` });
  return {
    commit: output.commit,
    ...(output.pullRequestUrl ? { pullRequestUrl: output.pullRequestUrl } : {}),
    manifest,
    bundle,
    files,
    signaturePath,
    ...(claims ? { claims } : {}),
  };
}

/**
 * The model's local claims file at `claimsPath`, whole (at most what
 * downloaders read), or undefined when there is none. Only a regular file,
 * never through a symbolic link (it would publish a file from elsewhere).
 */
async function readLocalClaims(modelPath: string, claimsPath: string): Promise<Uint8Array<ArrayBuffer> | undefined> {
  const file = path.join(modelPath, ...claimsPath.split('/'));
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(file, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0));
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    if (code === 'ELOOP') {
      throw new ModelSigningError({
        code: 'SYMLINK_REFUSED',
        path: file,
        cause,
        message: `The claims file '${file}' is a symbolic link; refusing to upload what it points to (copy the file into the model)`,
      });
    }
    throw new ModelSigningError({
      code: 'NOT_FOUND',
      path: file,
      cause,
      message: `The claims file '${file}' cannot be read: ${(cause as Error).message}`,
    });
  }
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) {
      throw new ModelSigningError({
        code: 'SPECIAL_FILE',
        path: file,
        message: `The claims file '${file}' is not a regular file (a directory, FIFO, socket or device); refusing to upload it`,
      });
    }
    // One byte past the bound tells a file that grew past it while being read.
    const buffer = new Uint8Array(Math.min(stats.size, DEFAULT_MAX_BUNDLE_BYTES) + 1);
    let length = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length === buffer.length) break;
    }
    if (length > DEFAULT_MAX_BUNDLE_BYTES) {
      throw new ModelSigningError({
        code: 'BUNDLE_TOO_LARGE',
        path: file,
        message: `The claims file '${file}' is larger than downloaders read (${DEFAULT_MAX_BUNDLE_BYTES} bytes); nothing was uploaded`,
      });
    }
    return buffer.subarray(0, length);
  } finally {
    await handle.close();
  }
}

/** `existing` with `line` appended, after a newline if its last line lacks one (as appending on disk does). */
function withLine(existing: Uint8Array | undefined, line: string): Uint8Array<ArrayBuffer> {
  const before = existing ?? new Uint8Array(0);
  const separator = before.length > 0 && before[before.length - 1] !== 0x0a ? '\n' : '';
  const added = new TextEncoder().encode(`${separator}${line}`);
  const bytes = new Uint8Array(before.length + added.length);
  bytes.set(before);
  bytes.set(added, before.length);
  return bytes;
}

/** What a downloader will make of the claims file: how many claims, which are about other files, which lines it skips. */
async function describeClaims(claimsPath: string, bytes: Uint8Array, digest: string): Promise<UploadedClaims> {
  const { claims, warnings } = await readClaims({ claims: bytes });
  const about = (c: (typeof claims)[number]) =>
    c.statement.subject.length === 1 && c.statement.subject[0].digest['sha256']?.toLowerCase() === digest.toLowerCase();
  return { path: claimsPath, claims: claims.length, otherSubjects: claims.filter((c) => !about(c)).map((c) => c.line), warnings };
}

/** Size and modification time: what tells that a file changed since it was opened. */
async function fileStamp(file: string): Promise<string> {
  const stats = await fs.stat(file, { bigint: true });
  return `${stats.size}:${stats.mtimeNs}`;
}

/** Creates the repository; one that already exists (HTTP 409) is fine. */
async function ensureRepo(ctx: HubContext): Promise<void> {
  if (!ctx.hasToken) {
    throw new ModelSigningError({
      code: 'INVALID_ARGUMENT',
      message: 'Creating a repository needs an access token (accessToken / HF_TOKEN)',
    });
  }
  try {
    // The client's types demand a token; an empty one makes it send none, and ctx.fetch adds ours (see hubContext).
    await createRepo({ repo: ctx.repo, hubUrl: ctx.hubUrl, fetch: ctx.fetch, accessToken: '' });
  } catch (cause) {
    if ((cause as { statusCode?: unknown }).statusCode !== 409) throw hubFailure(cause, `creating ${repoLabel(ctx.repo)}`, ctx);
  }
}
