import { datasetInfo, modelInfo, spaceInfo } from '@huggingface/hub';
import { ModelSigningError } from '@model-signing/core';
import { abortedError, type LoadLimits, type TrustOptions } from '@model-signing/core/internal';

/** The default hub, as in huggingface_hub and @huggingface/hub. */
export const DEFAULT_HUB_URL = 'https://huggingface.co';

/** Kinds of hub repositories that hold files at git revisions. */
export type HubRepoType = 'model' | 'dataset' | 'space';

/**
 * A hub repository: `org/name` (a model), `datasets/org/name`,
 * `spaces/org/name`, or `{ type, name }`, as in @huggingface/hub.
 */
export type HubRepo = string | { type: HubRepoType; name: string };

/** Connection options every function of this package accepts, in @huggingface/hub's style. */
export interface HubConnectionParams {
  /** An access token for the hub (`hf_…` on huggingface.co; any form on other Hub-compatible servers). Default: the `HF_TOKEN` environment variable; none for public repos. */
  accessToken?: string;
  /** The hub's base URL. Default: the `HF_ENDPOINT` environment variable, else https://huggingface.co. */
  hubUrl?: string;
  /** A fetch implementation to use instead of the global one (proxies, custom headers, tests). */
  fetch?: typeof fetch;
  /** Cancels the operation; it then fails with `ABORTED` after cleaning up. */
  abortSignal?: AbortSignal;
}

/**
 * What every verifying function needs: which revision of which repo, and
 * whom to trust (under a `policy`, the rule matching the repo at `revision`;
 * a refusal downloads nothing).
 */
export interface RepoVerificationParams extends TrustOptions, Pick<LoadLimits, 'maxBundleBytes' | 'maxClaimsBytes'> {
  repo: HubRepo;
  /** Branch, tag or commit id. Default `main`. */
  revision?: string;
  /** Path of the signature in the repo. Default `model.sig` (core's `DEFAULT_SIGNATURE_NAME`). */
  signaturePath?: string;
  /** Tolerate files that the signature does not cover; they are never read. Default false. */
  ignoreUnsignedFiles?: boolean;
  /** Treat `.git*` files at the repo root (such as the `.gitattributes` the hub creates) as not part of the model. Default true. */
  ignoreGitPaths?: boolean;
  /**
   * Treat signature and attestation files at the repo root that the
   * signature does not list (`claims.jsonl`, `*.sig`, `*.sigstore.json`) as
   * not part of the model: claims or another signature pushed to a signed
   * repo later never make it fail as unsigned. Default true.
   */
  ignoreAttestationFiles?: boolean;
}

/** A parsed repository designation. */
export interface RepoId {
  type: HubRepoType;
  name: string;
}

/** Resolved connection settings handed to @huggingface/hub calls. */
export interface HubContext {
  repo: RepoId;
  hubUrl: string;
  fetch: typeof fetch;
  /** Whether requests to the hub carry an access token (added by `fetch`). */
  hasToken: boolean;
  signal: AbortSignal | undefined;
}

const NAME_PART = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * Parses a repository designation the way @huggingface/hub does.
 *
 * @throws {ModelSigningError} `INVALID_ARGUMENT`.
 */
export function parseRepo(repo: HubRepo): RepoId {
  let type: HubRepoType = 'model';
  let name: string;
  if (typeof repo === 'string') {
    name = repo;
    for (const [prefix, kind] of [
      ['datasets/', 'dataset'],
      ['spaces/', 'space'],
    ] as const) {
      if (repo.startsWith(prefix)) {
        type = kind;
        name = repo.slice(prefix.length);
      }
    }
  } else {
    type = repo.type;
    name = repo.name;
  }
  const parts = name.split('/');
  const valid =
    ['model', 'dataset', 'space'].includes(type) && parts.length <= 2 && parts.every((p) => NAME_PART.test(p) && !p.includes('..'));
  if (!valid) {
    throw new ModelSigningError({
      code: 'INVALID_ARGUMENT',
      message: `'${typeof repo === 'string' ? repo : `${repo.type}:${repo.name}`}' is not a hub repository; use 'org/name', 'datasets/org/name' or 'spaces/org/name'`,
    });
  }
  return { type, name };
}

/**
 * Applies the defaults (`HF_TOKEN`, `HF_ENDPOINT`) and binds the abort
 * signal and the token into every request.
 *
 * The token is sent by this fetch, not handed to @huggingface/hub, because
 * that client refuses tokens without the `hf_` prefix of huggingface.co's own
 * and private Hub-compatible servers issue other tokens. It goes only to the
 * hub's own origin (as the client sends it), never to another host the hub
 * links to. It replaces any Authorization header the client set: the client
 * is never given the token, so what it sends is at best empty.
 *
 * @throws {ModelSigningError} `INVALID_ARGUMENT` for a hub URL that is not http(s).
 */
export function hubContext(repo: HubRepo, params: HubConnectionParams, signal: AbortSignal | undefined = params.abortSignal): HubContext {
  const token = params.accessToken || process.env['HF_TOKEN'] || undefined;
  const hubUrl = (params.hubUrl || process.env['HF_ENDPOINT'] || DEFAULT_HUB_URL).replace(/\/+$/, '');
  let origin: string;
  try {
    const url = new URL(hubUrl);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error(`unsupported protocol ${url.protocol}`);
    origin = url.origin;
  } catch (cause) {
    throw new ModelSigningError({
      code: 'INVALID_ARGUMENT',
      cause,
      message: `'${hubUrl}' is not a hub URL (hubUrl / HF_ENDPOINT / --endpoint); use https://host[:port]`,
    });
  }
  const baseFetch = params.fetch ?? globalThis.fetch;
  const boundFetch: typeof fetch = (input, init) => {
    const url = new URL(input instanceof Request ? input.url : input);
    const headers = new Headers(input instanceof Request ? input.headers : undefined);
    new Headers(init?.headers).forEach((value, key) => headers.set(key, value));
    if (token !== undefined && url.origin === origin) headers.set('authorization', `Bearer ${token}`);
    const signals = [init?.signal, signal].filter((s): s is AbortSignal => s != null);
    return baseFetch(input, { ...init, headers, ...(signals.length > 0 ? { signal: AbortSignal.any(signals) } : {}) });
  };
  return { repo: parseRepo(repo), hubUrl, fetch: boundFetch, hasToken: token !== undefined, signal };
}

/** `org/name` for messages, with the type prefix for datasets and spaces. */
export function repoLabel(repo: RepoId): string {
  return repo.type === 'model' ? repo.name : `${repo.type}s/${repo.name}`;
}

/**
 * Turns a failure from the hub client (or the network under it) into a
 * {@link ModelSigningError} that says what was being done. Errors that already
 * are ours pass through unchanged.
 */
export function hubFailure(cause: unknown, doing: string, ctx: Pick<HubContext, 'signal'>, path?: string): ModelSigningError {
  if (cause instanceof ModelSigningError) return cause;
  const where = path === undefined ? {} : { path };
  if (ctx.signal?.aborted || (cause instanceof Error && cause.name === 'AbortError'))
    return abortedError(ctx.signal, { ...where, doing, cause });
  const status = (cause as { statusCode?: unknown }).statusCode;
  const reason = cause instanceof Error ? cause.message : String(cause);
  if (status === 404) {
    return new ModelSigningError({ code: 'NOT_FOUND', cause, ...where, message: `Not found on the hub while ${doing}: ${reason}` });
  }
  const hint = status === 401 || status === 403 ? ' (check the access token: accessToken / HF_TOKEN / --token)' : '';
  return new ModelSigningError({
    code: 'NETWORK_ERROR',
    cause,
    ...where,
    message: `The hub request failed while ${doing}${typeof status === 'number' ? ` (HTTP ${status})` : ''}: ${reason}${hint}`,
  });
}

/**
 * Resolves a branch, tag or commit to the commit id, so that the signature,
 * the listing and every file are read from the same commit even if the
 * branch moves meanwhile.
 *
 * @throws {ModelSigningError} `NOT_FOUND`, `NETWORK_ERROR`, `ABORTED`.
 */
export async function resolveCommit(ctx: HubContext, revision: string): Promise<string> {
  const params = { name: ctx.repo.name, revision, hubUrl: ctx.hubUrl, fetch: ctx.fetch, additionalFields: ['sha' as const] };
  let sha: unknown;
  try {
    const info =
      ctx.repo.type === 'model'
        ? await modelInfo(params)
        : ctx.repo.type === 'dataset'
          ? await datasetInfo(params)
          : await spaceInfo(params);
    sha = info.sha;
  } catch (cause) {
    throw hubFailure(cause, `resolving revision '${revision}' of ${repoLabel(ctx.repo)}`, ctx);
  }
  if (typeof sha !== 'string' || !/^[0-9a-f]{40}$/.test(sha)) {
    throw new ModelSigningError({
      code: 'NETWORK_ERROR',
      message: `The hub returned no commit id for revision '${revision}' of ${repoLabel(ctx.repo)}`,
    });
  }
  return sha;
}
