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
  type ModelSource,
  type VerifiedSession,
} from '@model-signing/core/browser';
import {
  CLAIMS_FILE_NAME,
  errorNamingFile,
  normalizeModelPath,
  outcomeOf,
  type LoadLimits,
  type TrustOptions,
  type VerificationOutcome,
} from '@model-signing/core/internal';
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
  /** The model id it belongs to, as configured (`repo`). */
  repo: string;
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

/**
 * Options of `configureVerifiedLoading` shared by the Node and the browser
 * entry. One `verifier` or `policy` judges every repo the app loads: a
 * policy's rule for each repo at `revision` (with `localModelPath`, the
 * folder's path or URL); a refusal loads nothing.
 */
export interface VerifiedLoadingOptions extends LoadLimits, Omit<TrustOptions, 'model'> {
  /** transformers.js's `env`, passed in so the hooks land on the copy the caller's `pipeline` uses. */
  env: TransformersEnv;
  /**
   * The model id the pipeline is given: a hub repo `owner/name`, or with
   * `localModelPath` a folder name. A list verifies several at once, for an
   * app whose pipelines load several repos: each is opened (its signature
   * read and judged) now, and its files are checked against its own signature.
   */
  repo: string | readonly string[];
  /**
   * The hub revision whose signature is fetched and whose files are loaded:
   * a commit id pins the model; a branch name takes whatever the branch holds
   * now. Every file of this repo is downloaded from this revision, whatever
   * revision transformers.js was given. Default `main`; with several repos,
   * the revision of each. Not used with `localModelPath`.
   */
  revision?: string;
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

/** One model `configureVerifiedLoading` verified. */
export interface VerifiedRepo extends VerificationOutcome {
  /** The model id, as configured. */
  repo: string;
  /** Model-relative paths of the files transformers.js received so far, each once, in order, each after it matched. */
  readonly loadedFiles: readonly string[];
}

/** What `configureVerifiedLoading` verified (the fields of the first repo configured, and every repo in `repos`), and a way to undo it. */
export interface VerifiedLoading extends VerifiedRepo {
  /** Every repo configured, in order. */
  repos: readonly VerifiedRepo[];
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
  const { env } = params;
  const repos = typeof params.repo === 'string' ? [params.repo] : [...params.repo];
  if (repos.length === 0) throw new ModelSigningError({ code: 'INVALID_ARGUMENT', message: 'repo must name at least one model' });
  for (const repo of repos) {
    if (!REPO_ID.test(repo) || repo.includes('..')) {
      throw new ModelSigningError({ code: 'INVALID_ARGUMENT', message: `'${repo}' is not a model id of the form 'owner/name' or 'name'` });
    }
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
  const { repo: _repos, ...sessionParams } = params;
  // Each repo through its own session, judged by the one verifier or policy: any refusal fails the call, before any hook is set.
  const models: OpenedRepo[] = [];
  for (const repo of repos) {
    const source: ModelSource = local
      ? params.localSource!(`${params.localModelPath!.replace(/\/+$/, '')}/${repo}`, signaturePath)
      : // The hub's resolve URLs of one revision are an HTTP folder; errors name the repo's own paths.
        httpSource({
          baseUrl: `${hubUrl}/${repo}/resolve/${encodeURIComponent(revision)}/`,
          signatureUrl: `${hubUrl}/${repo}/resolve/${encodeURIComponent(revision)}/${signaturePath.split('/').map(encodeURIComponent).join('/')}`,
          fetch: baseFetch,
          names: { model: `${repo}@${revision}`, signature: signaturePath, claims: claimsBeside(signaturePath) },
        });
    const session = await openVerifiedSession({
      ...sessionParams,
      source,
      // A policy matches the hub repo at the revision loaded; a local folder by its own path or URL.
      ...(params.policy && !local ? { model: { kind: 'huggingface' as const, repo, revision } } : {}),
    });
    models.push({ repo, session, source, loadedFiles: [] });
  }
  const hooks = verifyingHooks({ params, models, hubUrl, baseFetch, origin: local ? 'local' : 'network' });

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

  const verified = models.map(describeRepo);
  return {
    ...verified[0],
    repos: verified,
    restore: () => {
      if (configured.get(env)?.token !== token) return;
      Object.assign(env, previous);
      configured.delete(env);
    },
  };
}

/** Where the session reads claims beside a one-bundle signature: `claims.jsonl` in its folder, as the repo names it. */
function claimsBeside(signaturePath: string): string {
  const slash = signaturePath.lastIndexOf('/');
  return `${slash < 0 ? '' : signaturePath.slice(0, slash + 1)}${CLAIMS_FILE_NAME}`;
}

/** A repo opened through its session, and the files transformers.js received of it. */
interface OpenedRepo {
  repo: string;
  session: VerifiedSession;
  source: ModelSource;
  loadedFiles: string[];
}

/** What the caller sees of an opened repo (its `loadedFiles` grow as transformers.js loads). */
function describeRepo(model: OpenedRepo): VerifiedRepo {
  const { session } = model;
  return {
    repo: model.repo,
    ...outcomeOf(session),
    loadedFiles: model.loadedFiles,
  };
}

interface HooksContext {
  params: InstallVerifiedLoadingParams;
  models: readonly OpenedRepo[];
  hubUrl: string;
  baseFetch: typeof fetch;
  /** Where the session's bytes come from, for {@link VerifiedFileEvent.source}. */
  origin: 'network' | 'local';
}

/** transformers.js's `env.fetch` and `env.customCache`, answering the configured repos only with checked bytes. */
function verifyingHooks(context: HooksContext) {
  const { params, models, hubUrl, baseFetch, origin } = context;
  const { store } = params;
  // The hub resolves ids in any letter case.
  const byId = new Map(models.map((m) => [m.repo.toLowerCase(), m]));
  // Keyed by what was signed, not by the revision's name: when a branch moves
  // to a newly signed commit, its files get entries of their own instead of
  // failing against the old ones.
  const storeKey = (model: OpenedRepo, file: string) => `${model.repo}/${encodeURIComponent(model.session.manifest.rootDigest)}/${file}`;
  const loaded = new Set<string>();
  // A cache entry that failed its check: transformers.js swallows errors
  // from `match` and falls back to the network, so the refusal is kept here
  // and thrown by the download that follows.
  const refusedEntries = new Map<string, ModelSigningError>();
  const inflight = new Map<string, Promise<Uint8Array>>();

  /**
   * What a URL or cache key names: a file of a configured repo (in any
   * letter case, as the hub resolves ids; any revision maps to the verified
   * one: transformers.js 4 loads `config.json` at `main` while planning a
   * pipeline whatever revision it was given), another URL of the hub, or a
   * URL elsewhere.
   */
  const classify = (url: string): { model: OpenedRepo; file: string } | 'hub' | 'elsewhere' => {
    if (!url.startsWith(`${hubUrl}/`)) return 'elsewhere';
    const segments = url
      .slice(hubUrl.length + 1)
      .split(/[?#]/)[0]
      .split('/');
    const at = segments[1] === 'resolve' ? 1 : segments[2] === 'resolve' ? 2 : -1;
    const model = byId.get(segments.slice(0, Math.max(at, 0)).join('/').toLowerCase());
    if (at < 0 || !model || segments.length < at + 3) return 'hub';
    return {
      model,
      file: normalizeModelPath(
        segments
          .slice(at + 2)
          .map(decodeURIComponent)
          .join('/'),
      ),
    };
  };

  /** The file's bytes as transformers.js gets them; the first time, it is recorded and reported. */
  const hand = (model: OpenedRepo, file: string, bytes: Uint8Array, from: VerifiedFileEvent['source']): Response => {
    const key = `${model.repo}\u0000${file}`;
    if (!loaded.has(key)) {
      loaded.add(key);
      model.loadedFiles.push(file);
      params.onProgress?.({ repo: model.repo, file, size: bytes.length, source: from });
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
      const names = models.map((m) => m.repo).join(', ');
      throw new ModelSigningError({
        code: 'UNSIGNED_FILE',
        path: href,
        message: `transformers.js asked the hub for ${href}, which is not a ${hubUrl}/<repo>/resolve/<revision>/<file> download of a verified repo (${names}); it cannot be checked against a signature, so it is refused (configure that repo too, or set allowOtherRepos to load other repos unchecked)`,
      });
    }
    const { model, file } = target;
    const { session, source } = model;
    const key = `${model.repo}\u0000${file}`;
    const refused = refusedEntries.get(key);
    if (refused) {
      refusedEntries.delete(key);
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
    let pending = inflight.get(key);
    if (!pending) {
      pending = session.read(file, signal ? { abortSignal: signal } : {}).finally(() => inflight.delete(key));
      inflight.set(key, pending);
    }
    return hand(model, file, await pending, origin);
  };

  const cache = {
    match: async (url: string): Promise<Response | undefined> => {
      const target = classify(url);
      if (typeof target !== 'object') return undefined;
      const { model, file } = target;
      const bytes = await store.read(storeKey(model, file));
      if (bytes === undefined) return undefined;
      try {
        await model.session.checkBytes(file, bytes);
      } catch (err) {
        // Nothing unverified stays cached.
        await store.remove(storeKey(model, file));
        if (err instanceof ModelSigningError) refusedEntries.set(`${model.repo}\u0000${file}`, cachedEntryError(err, file));
        throw err;
      }
      return hand(model, file, bytes, 'cache');
    },
    put: async (url: string, response: Response): Promise<void> => {
      const target = classify(url);
      if (typeof target !== 'object') return;
      const { model, file } = target;
      const bytes = new Uint8Array(await response.arrayBuffer());
      // Checked again here: only bytes that match are ever written.
      await model.session.checkBytes(file, bytes);
      await store.write(storeKey(model, file), bytes).catch((err: unknown) => {
        throw errorNamingFile(err, file);
      });
    },
  };
  return { fetch, cache };
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
