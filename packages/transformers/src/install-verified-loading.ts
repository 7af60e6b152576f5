// Runtime-neutral: only @model-signing/core/browser and web APIs, so the
// browser entry can bundle it; each entry adds its store (files, Cache API)
// and, for a model that is not on the hub, its source (a local directory,
// the page's own origin). Every byte transformers.js receives for the
// configured repo is read or checked through one core session.
import type { env as transformersEnv } from '@huggingface/transformers';
import {
  DEFAULT_SIGNATURE_NAME,
  ManifestMismatchError,
  ModelSigningError,
  httpSource,
  openVerifiedSession,
  type LoadLimits,
  type ModelSource,
  type SignatureSource,
  type SignerInfo,
  type VerifiedManifest,
  type VerifiedSession,
  type Verifier,
} from '@model-signing/core/browser';
import { errorNamingFile, normalizeModelPath } from '@model-signing/core/internal';
import type { VerifiedStore } from './verified-store.js';

/** transformers.js's `env` object (`import { env } from '@huggingface/transformers'`). */
export type TransformersEnv = typeof transformersEnv;

/** The Hugging Face Hub, transformers.js's default `env.remoteHost`. */
export const DEFAULT_HUB_URL = 'https://huggingface.co';
/** The hub's download path, which the hooks parse; set on `env.remotePathTemplate`. */
const REMOTE_PATH_TEMPLATE = '{model}/resolve/{revision}/';
/** `name` or `owner/name`, as transformers.js accepts model ids. */
const REPO_ID = /^(?:[A-Za-z0-9][\w.-]*\/)?[A-Za-z0-9][\w.-]*$/;

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
  /**
   * `network`: downloaded from the hub and checked; `local`: read from
   * `localModelPath` (a folder on disk, or on the page's origin) and
   * checked; `cache`: read from the verified cache and checked again.
   */
  source: 'network' | 'local' | 'cache';
}

/** Options of `configureVerifiedLoading` shared by the Node and the browser entry. */
export interface VerifiedLoadingOptions extends LoadLimits {
  /** transformers.js's `env`, passed in so the hooks land on the copy the caller's `pipeline` uses. */
  env: TransformersEnv;
  /** The model id the pipeline is given: a hub repo `owner/name`, or with `localModelPath` a folder name. */
  repo: string;
  /**
   * The hub revision whose signature is fetched and whose files are loaded:
   * a commit id pins the model; a branch name takes whatever the branch holds
   * now. Every file of this repo is downloaded from this revision, whatever
   * revision transformers.js was given. Default `main`. Not used with `localModelPath`.
   */
  revision?: string;
  /**
   * Checks the signature and the signer: in Node a `KeyVerifier`,
   * `CertificateVerifier` or `SigstoreVerifier`; anywhere a `WebKeyVerifier`,
   * `WebCertificateVerifier` or `WebSigstoreVerifier`.
   */
  verifier: Verifier;
  /** Hub base URL. Default: `env.remoteHost` if the caller changed it, else {@link DEFAULT_HUB_URL}. */
  hubUrl?: string;
  /**
   * Load the model from a signed folder at `<localModelPath>/<repo>`
   * instead of the hub, as transformers.js's own `env.localModelPath` does:
   * a directory in Node, a URL path on the page's origin in browsers. No
   * hub request is made for the model; every file is checked as from the hub.
   */
  localModelPath?: string;
  /** Path of the signature in the model. Default `model.sig` (core's `DEFAULT_SIGNATURE_NAME`). */
  signaturePath?: string;
  /**
   * Let downloads of other repos from the same hub through unchecked (the
   * pipeline loads a second model you do not verify). Default false: any
   * download from the hub that is not of `repo` is refused, so no file of
   * another (or a look-alike) repo reaches transformers.js unchecked.
   */
  allowOtherRepos?: boolean;
  /** Used for every request to the hub. Default: the `env.fetch` in place before this call. */
  fetch?: typeof fetch;
  /** Cancels the signature download and any later file download. */
  abortSignal?: AbortSignal;
  /** Called once for each file, when transformers.js first receives it (after it matched). */
  onProgress?: (event: VerifiedFileEvent) => void;
}

/** What `configureVerifiedLoading` verified, and a way to undo it. */
export interface VerifiedLoading {
  manifest: VerifiedManifest;
  signer: SignerInfo;
  /** Which signature verified: the signature file as one bundle, or which line of a claims file (`claims.jsonl`). */
  source: SignatureSource;
  /** Model-relative paths of the files transformers.js received so far, each once, in order, each after it matched. */
  readonly loadedFiles: readonly string[];
  /** Puts back every `env` setting this call changed; does nothing once a later call replaced this one. */
  restore(): void;
}

/** {@link installVerifiedLoading}'s options: the shared ones, where verified files are kept, and where a local model is read. */
export interface InstallVerifiedLoadingParams extends VerifiedLoadingOptions {
  /**
   * Keeps verified files between loads under `<repo>/<signed root digest>/<path>`.
   * It need not be trusted: only checked bytes are written to it, and every
   * read is checked again before transformers.js receives it.
   */
  store: VerifiedStore;
  /** The local source the entry made for `localModelPath` (a directory in Node, the page's origin in browsers). */
  localSource?: (folder: string, signaturePath: string) => ModelSource;
}

/**
 * The runtime-neutral core of both entries' `configureVerifiedLoading`:
 * opens the model through core's verified-model session (the signature
 * read and verified first), then sets transformers.js's `env` hooks so that
 * every file of the repo is checked against it (see the entries' TSDoc for
 * the settings it changes).
 *
 * @throws {ModelSigningError} `INVALID_ARGUMENT` for a bad repo id or limit;
 *   `NOT_FOUND` / `NETWORK_ERROR` when the signature cannot be downloaded;
 *   `BUNDLE_TOO_LARGE` when it is over `maxBundleBytes`; the verifier's
 *   codes (`SIGNATURE_INVALID`, `KEY_MISMATCH`, …) when it does not
 *   verify; `ABORTED`.
 */
export async function installVerifiedLoading(params: InstallVerifiedLoadingParams): Promise<VerifiedLoading> {
  const { env, repo } = params;
  if (!REPO_ID.test(repo) || repo.includes('..')) {
    throw new ModelSigningError({ code: 'INVALID_ARGUMENT', message: `'${repo}' is not a model id of the form 'owner/name' or 'name'` });
  }
  const revision = params.revision ?? 'main';
  if (revision === '') throw new ModelSigningError({ code: 'INVALID_ARGUMENT', message: 'revision must not be empty' });
  const signaturePath = normalizeModelPath(params.signaturePath ?? DEFAULT_SIGNATURE_NAME);
  const hubUrl = (params.hubUrl ?? (env.remoteHost === 'https://huggingface.co/' ? DEFAULT_HUB_URL : env.remoteHost)).replace(/\/+$/, '');
  const baseFetch: typeof fetch = params.fetch ?? ((configured.get(env)?.previous.fetch ?? env.fetch) as typeof fetch);
  const local = params.localModelPath !== undefined;
  if (local && !params.localSource) {
    throw new ModelSigningError({ code: 'INVALID_ARGUMENT', message: 'localModelPath is not supported by this entry' });
  }
  const source: ModelSource = local
    ? params.localSource!(`${params.localModelPath!.replace(/\/+$/, '')}/${repo}`, signaturePath)
    : // The hub's resolve URLs of one revision are an HTTP folder; errors name the repo's own paths.
      httpSource({
        baseUrl: `${hubUrl}/${repo}/resolve/${encodeURIComponent(revision)}/`,
        signatureUrl: `${hubUrl}/${repo}/resolve/${encodeURIComponent(revision)}/${signaturePath.split('/').map(encodeURIComponent).join('/')}`,
        fetch: baseFetch,
        names: { model: `${repo}@${revision}`, signature: signaturePath },
      });
  const session = await openVerifiedSession({ ...params, source });
  const hooks = verifyingHooks({ params, session, source, hubUrl, baseFetch, origin: local ? 'local' : 'network' });

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
  env.fetch = hooks.fetch;
  env.customCache = hooks.cache;
  env.useCustomCache = true;
  env.useFSCache = false;
  env.useBrowserCache = false;
  // transformers.js reads local files unchecked (and not through env.fetch in
  // Node): it is made to ask for the model at the hub's URLs, which the hooks
  // answer from the model's source, local or not.
  env.allowLocalModels = false;
  env.allowRemoteModels = true;
  env.remoteHost = `${hubUrl}/`;
  env.remotePathTemplate = REMOTE_PATH_TEMPLATE;
  const token = {};
  configured.set(env, { previous, token });

  return {
    manifest: session.manifest,
    signer: session.signer,
    source: session.source,
    loadedFiles: hooks.loadedFiles,
    restore: () => {
      if (configured.get(env)?.token !== token) return;
      Object.assign(env, previous);
      configured.delete(env);
    },
  };
}

interface HooksContext {
  params: InstallVerifiedLoadingParams;
  session: VerifiedSession;
  source: ModelSource;
  hubUrl: string;
  baseFetch: typeof fetch;
  /** Where the session's bytes come from, for {@link VerifiedFileEvent.source}. */
  origin: 'network' | 'local';
}

/** transformers.js's `env.fetch` and `env.customCache`, answering the configured repo only with checked bytes. */
function verifyingHooks(context: HooksContext) {
  const { params, session, source, hubUrl, baseFetch, origin } = context;
  const { repo, store } = params;
  const { manifest } = session;
  // Keyed by what was signed, not by the revision's name: when a branch moves
  // to a newly signed commit, its files get entries of their own instead of
  // failing against the old ones.
  const storeKey = (file: string) => `${repo}/${encodeURIComponent(manifest.rootDigest)}/${file}`;
  const loadedFiles: string[] = [];
  const loaded = new Set<string>();
  // A cache entry that failed its check: transformers.js swallows errors
  // from `match` and falls back to the network, so the refusal is kept here
  // and thrown by the download that follows.
  const refusedEntries = new Map<string, ModelSigningError>();
  const inflight = new Map<string, Promise<Uint8Array>>();

  /**
   * What a URL or cache key names: a file of the configured repo (in any
   * letter case, as the hub resolves ids; any revision maps to the verified
   * one: transformers.js 4 loads `config.json` at `main` while planning a
   * pipeline whatever revision it was given), another URL of the hub, or a
   * URL elsewhere.
   */
  const classify = (url: string): { file: string } | 'hub' | 'elsewhere' => {
    if (!url.startsWith(`${hubUrl}/`)) return 'elsewhere';
    const segments = url
      .slice(hubUrl.length + 1)
      .split(/[?#]/)[0]
      .split('/');
    const at = segments[1] === 'resolve' ? 1 : segments[2] === 'resolve' ? 2 : -1;
    const named = segments.slice(0, Math.max(at, 0)).join('/');
    if (at < 0 || named.toLowerCase() !== repo.toLowerCase() || segments.length < at + 3) return 'hub';
    return {
      file: normalizeModelPath(
        segments
          .slice(at + 2)
          .map(decodeURIComponent)
          .join('/'),
      ),
    };
  };

  /** The file's bytes as transformers.js gets them; the first time, it is recorded and reported. */
  const hand = (file: string, bytes: Uint8Array, from: VerifiedFileEvent['source']): Response => {
    if (!loaded.has(file)) {
      loaded.add(file);
      loadedFiles.push(file);
      params.onProgress?.({ file, size: bytes.length, source: from });
    }
    return verifiedResponse(bytes);
  };

  const fetch = async (input: string | URL, init?: RequestInit): Promise<Response> => {
    const href = input instanceof URL ? input.href : input;
    const target = classify(href);
    if (target === 'elsewhere' || (target === 'hub' && params.allowOtherRepos)) return baseFetch(input, init);
    if (target === 'hub') {
      // Fail closed: a download of another repo, or of this one in a URL
      // layout the hooks do not parse, cannot be checked against the signature.
      throw new ModelSigningError({
        code: 'UNSIGNED_FILE',
        path: href,
        message: `transformers.js asked the hub for ${href}, which is not a ${hubUrl}/${repo}/resolve/<revision>/<file> download of the verified repo; it cannot be checked against the signature, so it is refused (set allowOtherRepos to load other repos unchecked)`,
      });
    }
    const { file } = target;
    const refused = refusedEntries.get(file);
    if (refused) {
      refusedEntries.delete(file);
      throw refused;
    }
    const signal = params.abortSignal ?? init?.signal ?? undefined;
    if (!session.isSigned(file)) {
      // Ask the source (a range probe stays one): a file it does not have is
      // one the model does not have; a file it has is one the signature leaves out.
      const body = await source.open(file, signal ? { abortSignal: signal } : {});
      if (!body) return new Response(null, { status: 404 });
      void body.chunks[Symbol.asyncIterator]().return?.();
      throw new ManifestMismatchError([{ kind: 'unsigned', name: file }]);
    }
    // transformers.js probes whether a file exists (and its size, for
    // progress) with `Range: bytes=0-0`; for a signed file the signature
    // answers, so the probe costs no request and no hub answer steers the plan.
    if (new Headers(init?.headers).has('range')) return new Response(null, { status: 200 });
    // transformers.js may ask for one file twice at once (under two revisions); one read serves both.
    let pending = inflight.get(file);
    if (!pending) {
      pending = session.read(file, signal ? { abortSignal: signal } : {}).finally(() => inflight.delete(file));
      inflight.set(file, pending);
    }
    return hand(file, await pending, origin);
  };

  const cache = {
    match: async (key: string): Promise<Response | undefined> => {
      const target = classify(key);
      if (typeof target !== 'object') return undefined;
      const { file } = target;
      const bytes = await store.read(storeKey(file));
      if (bytes === undefined) return undefined;
      try {
        await session.checkBytes(file, bytes);
      } catch (err) {
        // Nothing unverified stays cached.
        await store.remove(storeKey(file));
        if (err instanceof ModelSigningError) refusedEntries.set(file, cachedEntryError(err, file));
        throw err;
      }
      return hand(file, bytes, 'cache');
    },
    put: async (key: string, response: Response): Promise<void> => {
      const target = classify(key);
      if (typeof target !== 'object') return;
      const { file } = target;
      const bytes = new Uint8Array(await response.arrayBuffer());
      // Checked again here: only bytes that match are ever written.
      await session.checkBytes(file, bytes);
      await store.write(storeKey(file), bytes).catch((err: unknown) => {
        throw errorNamingFile(err, file);
      });
    },
  };
  return { fetch, cache, loadedFiles };
}

/** A fresh response around verified bytes: nothing of the source's answer but its bytes reaches transformers.js. */
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
