// A hub repo at one commit as a source of core's verified-model session:
// the signature and each file downloaded through @huggingface/hub's
// locations, and the repo's listing with the SHA-256 the hub records for
// LFS files, which the session compares with the signature before any
// weight byte moves.
import { fileDownloadInfo, listFiles } from '@huggingface/hub';
import {
  DEFAULT_SIGNATURE_NAME,
  ModelSigningError,
  openVerifiedSession,
  type ModelIdentity,
  type ListedFile,
  type ListScope,
  type ModelSource,
  type SourceBody,
  type SourceListing,
  type VerifiedSession,
} from '@model-signing/core';
import { CLAIMS_FILE_NAME, normalizeModelPath } from '@model-signing/core/internal';
import {
  hubContext,
  hubFailure,
  repoLabel,
  resolveCommit,
  type HubConnectionParams,
  type HubContext,
  type RepoVerificationParams,
} from './hub.js';

/** A session over a hub repo, and the source it reads. */
export interface HubSession {
  session: VerifiedSession;
  source: HubSource;
}

/**
 * Opens a repo at a revision through core's verified-model session: the
 * revision resolved to a commit (so the signature, the listing and every
 * file come from the same one), the signature read and verified, the repo
 * listed. Shared by the download and the remote check.
 *
 * @throws {PolicyDeniedError} `POLICY_DENIED` under a `policy`: which rule, which requirement, why.
 * @throws {ModelSigningError} `NOT_FOUND` (repo, revision or signature),
 *   `INVALID_ARGUMENT`, the signature's errors (`BUNDLE_TOO_LARGE`,
 *   `SIGNATURE_INVALID`, `KEY_MISMATCH`, …), `NETWORK_ERROR`, `ABORTED`.
 */
export async function openHubSession(
  params: HubConnectionParams & RepoVerificationParams,
  signal: AbortSignal | undefined = params.abortSignal,
): Promise<HubSession> {
  const signaturePath = normalizeModelPath(params.signaturePath ?? DEFAULT_SIGNATURE_NAME);
  const ctx = hubContext(params.repo, params, signal);
  const commit = await resolveCommit(ctx, params.revision ?? 'main');
  const source = new HubSource(ctx, commit, signaturePath, params.revision ?? 'main');
  const session = await openVerifiedSession({
    source,
    // Kept to store in the cache beside the files (download-verified-model).
    keepSignature: true,
    ...(params.verifier ? { verifier: params.verifier } : {}),
    ...(params.policy ? { policy: params.policy } : {}),
    ...(params.model ? { model: params.model } : {}),
    ...(params.maxBundleBytes !== undefined ? { maxBundleBytes: params.maxBundleBytes } : {}),
    ...(params.maxClaimsBytes !== undefined ? { maxClaimsBytes: params.maxClaimsBytes } : {}),
    ...(params.ignoreUnsignedFiles !== undefined ? { ignoreUnsignedFiles: params.ignoreUnsignedFiles } : {}),
    ...(params.ignoreGitPaths !== undefined ? { ignoreGitPaths: params.ignoreGitPaths } : {}),
    ...(params.ignoreAttestationFiles !== undefined ? { ignoreAttestationFiles: params.ignoreAttestationFiles } : {}),
    ...(signal ? { abortSignal: signal } : {}),
  });
  return { session, source };
}

/** A file as the hub lists it. */
export interface HubFile extends ListedFile {
  /** Git blob id. */
  readonly oid: string;
}

/** Where the bytes of a file are, as @huggingface/hub's `fileDownloadInfo` finds them. */
type DownloadInfo = NonNullable<Awaited<ReturnType<typeof fileDownloadInfo>>>;

/** A repo at `commit` with its signature at `signaturePath`, for the session. */
export class HubSource implements ModelSource {
  readonly location: string;
  readonly signatureLocation: string;
  /** The signature's own entry in the listing, once listed (its blob id names it in the cache). */
  signatureEntry: HubFile | undefined;
  private readonly listed = new Map<string, HubFile>();

  constructor(
    private readonly ctx: HubContext,
    readonly commit: string,
    readonly signaturePath: string,
    /** The revision as the caller gave it: what a policy's pinned revision is compared with. */
    readonly revision: string,
  ) {
    this.location = `${repoLabel(ctx.repo)}@${commit}`;
    this.signatureLocation = signaturePath;
    // A policy's Hugging Face rules match model repos; another kind of repo needs the caller's `model`.
    if (ctx.repo.type === 'model') {
      this.identity = () => Promise.resolve({ kind: 'huggingface', repo: ctx.repo.name, revision });
    }
  }

  /**
   * The claims file read beside the signature, once the session read it
   * whole: its path in the repo and its bytes (the download keeps it in the
   * snapshot, so the cached check counts the same claims).
   */
  claimsRead: { path: string; bytes: Uint8Array } | undefined;

  /** The repo at the revision given, for a policy's rules (model repos only). */
  readonly identity?: () => Promise<ModelIdentity>;

  /** `claims.jsonl` in the signature's folder at the commit, when the repo has one. */
  async claims(): Promise<{ body: SourceBody; location: string } | undefined> {
    const { ctx, commit, signaturePath } = this;
    const slash = signaturePath.lastIndexOf('/');
    const claimsPath = `${slash < 0 ? '' : signaturePath.slice(0, slash + 1)}${CLAIMS_FILE_NAME}`;
    let info: DownloadInfo | null;
    try {
      info = await fileDownloadInfo({ repo: ctx.repo, path: claimsPath, revision: commit, hubUrl: ctx.hubUrl, fetch: ctx.fetch });
    } catch (cause) {
      throw hubFailure(cause, `fetching the claims file '${claimsPath}'`, ctx, claimsPath);
    }
    if (!info) return undefined;
    return {
      body: { size: info.size, chunks: this.keepClaims(claimsPath, this.download(claimsPath, info.size, info)) },
      location: claimsPath,
    };
  }

  /** The signature file at the commit; its listed size is what the session checks against its limit. */
  async signature(): Promise<SourceBody> {
    const { ctx, commit, signaturePath } = this;
    let info: DownloadInfo | null;
    try {
      info = await fileDownloadInfo({ repo: ctx.repo, path: signaturePath, revision: commit, hubUrl: ctx.hubUrl, fetch: ctx.fetch });
    } catch (cause) {
      throw hubFailure(cause, `fetching the signature '${signaturePath}'`, ctx, signaturePath);
    }
    if (!info) {
      throw new ModelSigningError({
        code: 'NOT_FOUND',
        path: signaturePath,
        message: `${repoLabel(ctx.repo)} has no signature '${signaturePath}' at commit ${commit}: it was not uploaded signed (or the signature has another name: signaturePath / --signature). Nothing was downloaded.`,
      });
    }
    return { size: info.size, chunks: this.download(signaturePath, info.size, info) };
  }

  /** Passes the claims file's chunks on, and keeps its bytes once it was read to the end. */
  private async *keepClaims(claimsPath: string, chunks: AsyncGenerator<Uint8Array>): AsyncGenerator<Uint8Array> {
    const kept: Uint8Array[] = [];
    for await (const chunk of chunks) {
      kept.push(chunk);
      yield chunk;
    }
    this.claimsRead = { path: claimsPath, bytes: Buffer.concat(kept) };
  }

  /**
   * Every file of the repo at the commit (all pages), with its size and,
   * for LFS files, the SHA-256 the hub records; the signature is left out.
   *
   * @throws {ModelSigningError} `INVALID_ARGUMENT` for a signature over a
   *   single file (a repo is a folder); `NOT_FOUND`, `NETWORK_ERROR`, `ABORTED`.
   */
  async list(scope: ListScope): Promise<SourceListing> {
    if (scope.signedFiles.includes('.')) {
      throw new ModelSigningError({
        code: 'INVALID_ARGUMENT',
        message: 'The signature covers a single-file model; a hub repo is a directory of files. Sign the directory that holds the file.',
      });
    }
    const { ctx, commit } = this;
    try {
      for await (const entry of listFiles({ repo: ctx.repo, revision: commit, recursive: true, hubUrl: ctx.hubUrl, fetch: ctx.fetch })) {
        if (entry.type !== 'file') continue;
        const file: HubFile = { name: entry.path, size: entry.size, oid: entry.oid ?? '', ...(entry.lfs ? { sha256: entry.lfs.oid } : {}) };
        if (file.name === this.signaturePath) this.signatureEntry = file;
        else this.listed.set(file.name, file);
      }
    } catch (cause) {
      throw hubFailure(cause, `listing the files of ${repoLabel(ctx.repo)}`, ctx);
    }
    return { files: [...this.listed.values()] };
  }

  /** The repo. */
  get repo(): HubContext['repo'] {
    return this.ctx.repo;
  }

  /** The listed file `name`, after {@link HubSource.list}. */
  file(name: string): HubFile | undefined {
    return this.listed.get(name);
  }

  /** Every listed file but the signature, after {@link HubSource.list}: signed or not, ignored or not. */
  listedFiles(): HubFile[] {
    return [...this.listed.values()];
  }

  open(name: string): Promise<SourceBody | undefined> {
    const file = this.listed.get(name);
    return Promise.resolve(file && { size: file.size, chunks: this.download(name, file.size) });
  }

  /**
   * Streams one file of the repo at the commit. The hub may not send more
   * bytes than `size`, the size it lists, so memory and disk stay bounded
   * whatever it sends. The location comes from @huggingface/hub; the body
   * is read here, from the response itself, because the client's lazy blob
   * turns an HTTP error on the download into a stream that never ends.
   *
   * @throws {ModelSigningError} `NETWORK_ERROR` (naming the file) when the
   *   transfer fails, breaks or overruns, `ABORTED`, `NOT_FOUND`.
   */
  private async *download(name: string, size: number, known?: DownloadInfo): AsyncGenerator<Uint8Array> {
    const { ctx, commit } = this;
    let received = 0;
    let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
    try {
      const location =
        known ?? (await fileDownloadInfo({ repo: ctx.repo, path: name, revision: commit, hubUrl: ctx.hubUrl, fetch: ctx.fetch }));
      if (!location) {
        throw new ModelSigningError({
          code: 'NOT_FOUND',
          path: name,
          message: `'${name}' is listed in ${repoLabel(ctx.repo)} at ${commit} but cannot be downloaded`,
        });
      }
      const response = await ctx.fetch(location.url);
      if (!response.ok || !response.body) {
        void response.body?.cancel().catch(() => undefined);
        throw Object.assign(new Error(`HTTP ${response.status} ${response.statusText}`), { statusCode: response.status });
      }
      reader = response.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        received += value.length;
        if (received > size) {
          throw new ModelSigningError({
            code: 'NETWORK_ERROR',
            path: name,
            message: `The hub sent more than the ${size} bytes it lists for '${name}'; the download was stopped`,
          });
        }
        yield value;
      }
    } catch (cause) {
      throw hubFailure(cause, `downloading '${name}' (${received} of ${size} bytes received)`, ctx, name);
    } finally {
      // Released without waiting: after an abort or a broken connection,
      // undici's cancel may never settle.
      void reader?.cancel().catch(() => undefined);
    }
  }
}
