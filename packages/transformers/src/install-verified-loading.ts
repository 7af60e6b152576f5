// Runtime-neutral: only @model-signing/core/browser and web APIs, so the
// browser entry can bundle it; each entry adds its store (files, Cache API).
import type { env as transformersEnv } from '@huggingface/transformers';
import {
  DEFAULT_MAX_BUNDLE_BYTES,
  fastestCheckerHashers,
  ManifestChecker,
  ManifestMismatchError,
  ModelSigningError,
  normalizeModelPath,
  verifyBundle,
  type IncrementalHash,
  type SignerInfo,
  type VerifiedManifest,
  type Verifier,
} from '@model-signing/core/browser';
import type { VerifiedStore } from './verified-store.js';

/** transformers.js's `env` object (`import { env } from '@huggingface/transformers'`). */
export type TransformersEnv = typeof transformersEnv;

/** The Hugging Face Hub, transformers.js's default `env.remoteHost`. */
export const DEFAULT_HUB_URL = 'https://huggingface.co';
/** Where the signature lives in the repo, as the hub adapter uploads it. */
export const DEFAULT_SIGNATURE_PATH = 'model.sig';
/** The hub's download path, which the hooks parse; set on `env.remotePathTemplate`. */
const REMOTE_PATH_TEMPLATE = '{model}/resolve/{revision}/';
const REPO_ID = /^[A-Za-z0-9][\w.-]*\/[A-Za-z0-9][\w.-]*$/;

type EnvSettings = Pick<
  TransformersEnv,
  | 'fetch'
  | 'customCache'
  | 'useCustomCache'
  | 'useFSCache'
  | 'useBrowserCache'
  | 'allowLocalModels'
  | 'allowRemoteModels'
  | 'remoteHost'
  | 'remotePathTemplate'
>;
/** Each configured env: its settings from before the first call, and which call is current. */
const configured = new WeakMap<TransformersEnv, { previous: EnvSettings; token: object }>();

/** One file transformers.js was given, after it matched the signature. */
export interface VerifiedFileEvent {
  /** Model-relative path, e.g. `onnx/model.onnx`. */
  file: string;
  /** Size in bytes. */
  size: number;
  /** `network`: downloaded and checked; `cache`: read from the verified cache and checked again. */
  source: 'network' | 'cache';
}

/** Options of `configureVerifiedLoading` shared by the Node and the browser entry. */
export interface VerifiedLoadingOptions {
  /** transformers.js's `env`, passed in so the hooks land on the copy the caller's `pipeline` uses. */
  env: TransformersEnv;
  /** Hub repo id, `owner/name`. */
  repo: string;
  /**
   * The revision whose signature is fetched and whose files are loaded: a
   * commit id pins the model; a branch name takes whatever the branch holds
   * now. Every file of this repo is downloaded from this revision, whatever
   * revision transformers.js was given.
   */
  revision: string;
  /**
   * Checks the signature and the signer: in Node a `KeyVerifier`,
   * `CertificateVerifier` or `SigstoreVerifier`; anywhere a `WebKeyVerifier`,
   * `WebCertificateVerifier` or `WebSigstoreVerifier`.
   */
  verifier: Verifier;
  /** Hub base URL. Default: `env.remoteHost` if the caller changed it, else {@link DEFAULT_HUB_URL}. */
  hubUrl?: string;
  /** Path of the signature in the repo. Default {@link DEFAULT_SIGNATURE_PATH}. */
  signaturePath?: string;
  /**
   * Largest signature downloaded, in bytes: the download stops at this many
   * and fails with `BUNDLE_TOO_LARGE`, before anything is decoded. Default
   * 64 MiB (core's `DEFAULT_MAX_BUNDLE_BYTES`).
   */
  maxBundleBytes?: number;
  /** Used for every request to the hub. Default: the `env.fetch` in place before this call. */
  fetch?: typeof fetch;
  /** Cancels the signature download and any later file download. */
  abortSignal?: AbortSignal;
  /** Called for each file once it matched, before transformers.js receives it. */
  onProgress?: (event: VerifiedFileEvent) => void;
}

/** What `configureVerifiedLoading` verified, and a way to undo it. */
export interface VerifiedLoading {
  manifest: VerifiedManifest;
  signer: SignerInfo;
  /** Model-relative paths of the files transformers.js received so far, in order, each after it matched. */
  readonly loadedFiles: readonly string[];
  /** Puts back every `env` setting this call changed; does nothing once a later call replaced this one. */
  restore(): void;
}

/** {@link installVerifiedLoading}'s options: the shared ones and where verified files are kept. */
export interface InstallVerifiedLoadingParams extends VerifiedLoadingOptions {
  /**
   * Keeps verified files between loads under `<repo>/<signed root digest>/<path>`.
   * It need not be trusted: only checked bytes are written to it, and every
   * read is checked again before transformers.js receives it.
   */
  store: VerifiedStore;
}

/**
 * The runtime-neutral core of both entries' `configureVerifiedLoading`:
 * verifies the repo's signature, then sets transformers.js's `env` hooks so
 * that every file of the repo is checked against it (see the entries' TSDoc
 * for the settings it changes).
 *
 * @throws {ModelSigningError} `INVALID_ARGUMENT` for a bad repo id or
 *   `maxBundleBytes`; `NOT_FOUND` / `NETWORK_ERROR` when the signature
 *   cannot be downloaded; `BUNDLE_TOO_LARGE` when it is over `maxBundleBytes`;
 *   the verifier's codes (`SIGNATURE_INVALID`, `KEY_MISMATCH`, …) when it
 *   does not verify; `ABORTED`.
 */
export async function installVerifiedLoading(params: InstallVerifiedLoadingParams): Promise<VerifiedLoading> {
  const { env, repo, revision, store } = params;
  if (!REPO_ID.test(repo) || repo.includes('..')) {
    throw new ModelSigningError({ code: 'INVALID_ARGUMENT', message: `'${repo}' is not a hub repo id of the form 'owner/name'` });
  }
  if (revision === '') throw new ModelSigningError({ code: 'INVALID_ARGUMENT', message: 'revision must not be empty' });
  const maxBundleBytes = params.maxBundleBytes ?? DEFAULT_MAX_BUNDLE_BYTES;
  if (!Number.isSafeInteger(maxBundleBytes) || maxBundleBytes <= 0) {
    throw new ModelSigningError({
      code: 'INVALID_ARGUMENT',
      message: `maxBundleBytes must be a positive integer, got ${String(params.maxBundleBytes)}`,
    });
  }
  const signaturePath = normalizeModelPath(params.signaturePath ?? DEFAULT_SIGNATURE_PATH);
  const hubUrl = (params.hubUrl ?? (env.remoteHost === 'https://huggingface.co/' ? DEFAULT_HUB_URL : env.remoteHost)).replace(/\/+$/, '');
  const baseFetch: typeof fetch = params.fetch ?? ((configured.get(env)?.previous.fetch ?? env.fetch) as typeof fetch);
  const repoPrefix = `${hubUrl}/${repo}/resolve/`;
  const filePrefix = `${repoPrefix}${encodeURIComponent(revision)}/`;
  const signal = params.abortSignal;

  const urlOf = (file: string) => filePrefix + file.split('/').map(encodeURIComponent).join('/');
  // The hub is not trusted until the signature checks out, so its size is bounded before a byte of it is decoded.
  const bundleBytes = await download({
    fetch: baseFetch,
    url: urlOf(signaturePath),
    file: signaturePath,
    signal,
    missing: 'NOT_FOUND',
    maxBytes: maxBundleBytes,
  });
  const { manifest, signer } = await verifyBundle({ bundle: bundleBytes, verifier: params.verifier, maxBundleBytes });
  const checker = new ManifestChecker(manifest);
  // hash-wasm in browsers (several times the checker's @noble/hashes there); Node keeps OpenSSL.
  const createHash = await fastestCheckerHashers(manifest.serialization.hashType);
  const check = (file: string, bytes: Uint8Array) => checkFile(checker, file, bytes, createHash);
  // Keyed by what was signed, not by the revision's name: when a branch moves
  // to a newly signed commit, its files get entries of their own instead of
  // failing against the old ones.
  const storeKey = (file: string) => `${repo}/${encodeURIComponent(manifest.rootDigest)}/${file}`;
  const loadedFiles: string[] = [];
  // A cache entry that failed its check: transformers.js swallows errors
  // from `match` and falls back to the network, so the refusal is kept here
  // and thrown by the download that follows.
  const refusedEntries = new Map<string, ModelSigningError>();
  const inflight = new Map<string, Promise<Uint8Array>>();

  /**
   * The model-relative file a URL or cache key names, if it is in this repo.
   * Any revision maps to the verified one: transformers.js 4 loads
   * `config.json` at `main` while planning a pipeline whatever `revision` it
   * was given, and the bytes are checked against the signature either way.
   */
  const fileOf = (url: string): string | undefined => {
    if (!url.startsWith(repoPrefix)) return undefined;
    const rest = url.slice(repoPrefix.length).split(/[?#]/)[0];
    const slash = rest.indexOf('/');
    if (slash < 0) return undefined;
    return normalizeModelPath(decodeURIComponent(rest.slice(slash + 1)));
  };

  const accept = (file: string, bytes: Uint8Array, source: VerifiedFileEvent['source']): Response => {
    check(file, bytes);
    loadedFiles.push(file);
    params.onProgress?.({ file, size: bytes.length, source });
    return verifiedResponse(bytes);
  };

  const verifyingFetch = async (input: string | URL, init?: RequestInit): Promise<Response> => {
    const href = input instanceof URL ? input.href : input;
    const file = fileOf(href);
    if (file === undefined) {
      // Fail closed: a URL inside the repo that is not a `resolve` download
      // (a change in transformers.js's URL layout) cannot be matched to a
      // signed file, so it must not reach transformers.js unchecked.
      if (href.startsWith(`${hubUrl}/${repo}/`)) {
        throw new ModelSigningError({
          code: 'UNSIGNED_FILE',
          path: href,
          message: `transformers.js asked for ${href}, which is in ${repo} but not a ${repoPrefix}<revision>/<file> download; it cannot be checked against the signature, so it is refused`,
        });
      }
      return baseFetch(input, init);
    }
    const url = urlOf(file);
    const refused = refusedEntries.get(file);
    if (refused) {
      refusedEntries.delete(file);
      throw refused;
    }
    if (!checker.isSigned(file)) {
      // Ask the hub (a range probe stays one): a file it does not have is
      // one the model does not have; a file it has is one the signature leaves out.
      const response = await fetchOrThrow(baseFetch, url, { ...init, signal: signal ?? init?.signal ?? null }, file);
      await response.body?.cancel();
      if (response.status === 404) return new Response(null, { status: 404 });
      throw new ManifestMismatchError([{ kind: 'unsigned', name: file }]);
    }
    // transformers.js probes whether a file exists (and its size, for
    // progress) with `Range: bytes=0-0`; for a signed file the signature
    // answers, so the probe costs no request and no hub answer steers the plan.
    if (new Headers(init?.headers).has('range')) return new Response(null, { status: 200 });
    // transformers.js may ask for one file twice at once (under two revisions); one download serves both.
    let pending = inflight.get(file);
    if (!pending) {
      pending = download({ fetch: baseFetch, url, file, signal, missing: 'MISSING_FILE', init }).finally(() => inflight.delete(file));
      inflight.set(file, pending);
    }
    return accept(file, await pending, 'network');
  };

  const cache = {
    match: async (key: string): Promise<Response | undefined> => {
      const file = fileOf(key);
      if (file === undefined) return undefined;
      const bytes = await store.read(storeKey(file));
      if (bytes === undefined) return undefined;
      try {
        return accept(file, bytes, 'cache');
      } catch (err) {
        // Nothing unverified stays cached.
        await store.remove(storeKey(file));
        if (err instanceof ModelSigningError) refusedEntries.set(file, cachedEntryError(err, file));
        throw err;
      }
    },
    put: async (key: string, response: Response): Promise<void> => {
      const file = fileOf(key);
      if (file === undefined) return;
      const bytes = new Uint8Array(await response.arrayBuffer());
      // Checked again here: only bytes that match are ever written.
      check(file, bytes);
      await store.write(storeKey(file), bytes).catch((err: unknown) => {
        throw onFile(err, file);
      });
    },
  };

  // A second call replaces the first on the same env: its hooks are not wrapped, and restore() returns to the settings from before the first.
  const previous = configured.get(env)?.previous ?? {
    fetch: env.fetch,
    customCache: env.customCache,
    useCustomCache: env.useCustomCache,
    useFSCache: env.useFSCache,
    useBrowserCache: env.useBrowserCache,
    allowLocalModels: env.allowLocalModels,
    allowRemoteModels: env.allowRemoteModels,
    remoteHost: env.remoteHost,
    remotePathTemplate: env.remotePathTemplate,
  };
  env.fetch = verifyingFetch;
  env.customCache = cache;
  env.useCustomCache = true;
  env.useFSCache = false;
  env.useBrowserCache = false;
  env.allowLocalModels = false;
  env.allowRemoteModels = true;
  env.remoteHost = `${hubUrl}/`;
  env.remotePathTemplate = REMOTE_PATH_TEMPLATE;
  const token = {};
  configured.set(env, { previous, token });

  return {
    manifest,
    signer,
    loadedFiles,
    restore: () => {
      if (configured.get(env)?.token !== token) return;
      Object.assign(env, previous);
      configured.delete(env);
    },
  };
}

/**
 * Checks one whole file. A shard-mode signature reports differences per
 * shard (`path:start:end`); the error's `path` is made the file's, so callers
 * always learn which file transformers.js was refused.
 */
function checkFile(checker: ManifestChecker, file: string, bytes: Uint8Array, createHash: (() => IncrementalHash) | undefined): void {
  try {
    checker.checkBytes(file, bytes, createHash ? { createHash } : {});
  } catch (err) {
    throw onFile(err, file);
  }
}

/** The error with `path` set to the model-relative file (the store reports its own keys, the checker its shards). */
function onFile(err: unknown, file: string): unknown {
  if (!(err instanceof ModelSigningError) || err.path === file) return err;
  return new ModelSigningError({
    code: err.code,
    path: file,
    cause: err,
    differences: err.differences,
    message: `'${file}': ${err.message}`,
  });
}

/** A fresh response around verified bytes: nothing of the hub's answer but its bytes reaches transformers.js. */
function verifiedResponse(bytes: Uint8Array): Response {
  return new Response(bytes as Uint8Array<ArrayBuffer>, {
    status: 200,
    headers: { 'content-length': String(bytes.length), 'content-type': 'application/octet-stream' },
  });
}

function cachedEntryError(err: ModelSigningError, file: string): ModelSigningError {
  return new ModelSigningError({
    code: err.code,
    path: file,
    cause: err,
    differences: err.differences,
    message: `The cached copy of '${file}' no longer matches the signature and was removed: ${err.message}`,
  });
}

async function fetchOrThrow(fetchFn: typeof fetch, url: string, init: RequestInit, file: string): Promise<Response> {
  try {
    return await fetchFn(url, init);
  } catch (cause) {
    if (init.signal?.aborted)
      throw new ModelSigningError({ code: 'ABORTED', path: file, cause, message: 'The operation was cancelled through its AbortSignal' });
    throw new ModelSigningError({
      code: 'NETWORK_ERROR',
      path: file,
      cause,
      message: `Downloading '${file}' from ${url} failed: ${(cause as Error).message}`,
    });
  }
}

interface DownloadParams {
  fetch: typeof fetch;
  url: string;
  file: string;
  signal: AbortSignal | undefined;
  /** Code for a 404: the signature (`NOT_FOUND`) or a signed file (`MISSING_FILE`). */
  missing: 'NOT_FOUND' | 'MISSING_FILE';
  init?: RequestInit;
  /** Fail with `BUNDLE_TOO_LARGE` past this many bytes, holding at most one chunk more (for the signature). */
  maxBytes?: number;
}

/** Downloads a whole file; any answer but 200 is an error naming the file. */
async function download(params: DownloadParams): Promise<Uint8Array> {
  const { file, url } = params;
  const init: RequestInit = { ...params.init, signal: params.signal ?? params.init?.signal ?? null };
  const response = await fetchOrThrow(params.fetch, url, init, file);
  if (response.status !== 200) {
    await response.body?.cancel();
    throw new ModelSigningError({
      code: response.status === 404 ? params.missing : 'NETWORK_ERROR',
      path: file,
      message: `Downloading '${file}' from ${url} failed: HTTP ${response.status}`,
    });
  }
  const { maxBytes } = params;
  const declared = Number(response.headers.get('content-length') ?? NaN);
  if (maxBytes !== undefined && declared > maxBytes) {
    await response.body?.cancel();
    throw tooLarge(file, maxBytes, `is ${declared} bytes`);
  }
  try {
    if (maxBytes === undefined || response.body === null) return new Uint8Array(await response.arrayBuffer());
    // Content-Length may be missing or lie: count what arrives and stop at the first chunk past the limit.
    const chunks: Uint8Array[] = [];
    let total = 0;
    const reader = response.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.length;
      if (total > maxBytes) {
        await reader.cancel();
        throw tooLarge(file, maxBytes, `is more than ${maxBytes} bytes`);
      }
      chunks.push(value);
    }
    const bytes = new Uint8Array(total);
    let offset = 0;
    for (const chunk of chunks) {
      bytes.set(chunk, offset);
      offset += chunk.length;
    }
    return bytes;
  } catch (cause) {
    if (cause instanceof ModelSigningError) throw cause;
    if (init.signal?.aborted)
      throw new ModelSigningError({ code: 'ABORTED', path: file, cause, message: 'The operation was cancelled through its AbortSignal' });
    throw new ModelSigningError({
      code: 'NETWORK_ERROR',
      path: file,
      cause,
      message: `Downloading '${file}' from ${url} failed: ${(cause as Error).message}`,
    });
  }
}

function tooLarge(file: string, max: number, size: string): ModelSigningError {
  return new ModelSigningError({
    code: 'BUNDLE_TOO_LARGE',
    path: file,
    message: `The signature '${file}' ${size}, over the limit of ${max} bytes read before its signature is checked; if it is genuine (a model with hundreds of thousands of files), raise the limit with maxBundleBytes`,
  });
}
