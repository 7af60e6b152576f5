import { openAsBlob } from 'node:fs';
import fs from 'node:fs/promises';
import { commitIter, createRepo, type CommitOperation, type CommitOutput } from '@huggingface/hub';
import {
  DEFAULT_SIGNATURE_NAME,
  ManifestMismatchError,
  ModelSigningError,
  type HashAlgorithm,
  type HashProgress,
  type Manifest,
  type SerializationMethod,
  type SerializedBundle,
  type Signer,
} from '@model-signing/core';
import { normalizeModelPath, serializeBundle } from '@model-signing/core/internal';
import { createSignature } from '@model-signing/core/internal/node';
import { hubContext, hubFailure, repoLabel, type HubConnectionParams, type HubContext, type HubRepo } from './hub.js';

/** Parameters of {@link uploadSignedModel}. */
export interface UploadSignedModelParams extends HubConnectionParams {
  repo: HubRepo;
  /** The local model directory. */
  modelPath: string;
  /** Any signer from core: key, certificate, Sigstore keyless. */
  signer: Signer;
  /** Path of the signature in the repo. Default `model.sig`. A local file of that name is neither signed nor uploaded. */
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
 *   `NETWORK_ERROR`, `ABORTED`.
 */
export async function uploadSignedModel(params: UploadSignedModelParams): Promise<UploadSignedModelResult> {
  const ctx = hubContext(params.repo, params);
  const signaturePath = normalizeModelPath(params.signaturePath ?? DEFAULT_SIGNATURE_NAME);
  const onProgress = params.onProgress ?? (() => undefined);
  // Stat, then open: Node refuses to read a file-backed Blob whose file changed after it was opened.
  const contents = new Map<string, { blob: Blob; absolutePath: string; stamp: string }>();
  const { manifest, bundle } = await createSignature({
    signer: params.signer,
    walk: {
      modelPath: params.modelPath,
      ignorePaths: [...(params.ignorePaths ?? []), signaturePath],
      ignoreGitPaths: params.ignoreGitPaths ?? true,
      allowSymlinks: params.allowSymlinks ?? false,
    },
    method: params.method ?? 'files',
    hashAlgorithm: params.hashAlgorithm ?? 'sha256',
    ...(params.shardSize ? { shardSize: params.shardSize } : {}),
    ...(params.workers !== undefined ? { workers: params.workers } : {}),
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

  const files = [...contents.keys()].sort();
  const operations: CommitOperation[] = files.map((name) => ({ operation: 'addOrUpdate', path: name, content: contents.get(name)!.blob }));
  operations.push({ operation: 'addOrUpdate', path: signaturePath, content: new Blob([serializeBundle(bundle)]) });
  if (params.createRepo) await ensureRepo(ctx);
  let output: CommitOutput | undefined;
  try {
    const events = commitIter({
      repo: ctx.repo,
      operations,
      title: params.commitTitle ?? `Upload signed model (${files.length} files + ${signaturePath})`,
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
  };
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
