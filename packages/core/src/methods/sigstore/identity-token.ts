import { ModelSigningError } from '../../errors.js';
import { interactiveIdentityToken } from './oauth.js';

/** Options for {@link getIdentityToken}. */
export interface IdentityTokenOptions {
  /** Cancels the operation: it rejects with a `ModelSigningError` coded `ABORTED`. */
  abortSignal?: AbortSignal;
  /** An explicit token: used as is, before anything else. */
  identityToken?: string;
  /** Look for CI credentials: `SIGSTORE_ID_TOKEN`, then GitHub Actions OIDC. */
  useAmbientCredentials?: boolean;
  /** OIDC issuer for the interactive flow (from the signing config). */
  issuerUrl: string;
  /** OAuth client, and the audience asked of CI providers. Default `sigstore`. */
  clientId?: string;
  /** Default empty (public client). */
  clientSecret?: string;
  oauthForceOob?: boolean;
  /** Interactive flow: shows the user where to sign in. Without it there is no interactive flow. */
  onAuthorizationUrl?: (url: string) => void;
  /** Interactive out-of-band flow: asks the user for the code. */
  readOobCode?: () => Promise<string>;
  /** Environment to read ambient credentials from. Default `process.env`. */
  env?: Record<string, string | undefined>;
  fetch?: typeof fetch;
}

/** The default OAuth client of the public-good instance, as in the reference. */
export const DEFAULT_CLIENT_ID = 'sigstore';

function tokenError(message: string, cause?: unknown): ModelSigningError {
  return new ModelSigningError({ code: 'IDENTITY_TOKEN_ERROR', cause, message });
}

/**
 * Asks GitHub Actions for an OIDC token for `audience`. Returns undefined
 * outside Actions or when the workflow lacks `permissions: id-token: write`
 * (the request variables are then absent).
 */
async function githubActionsToken(
  env: Record<string, string | undefined>,
  audience: string,
  doFetch: typeof fetch,
  signal: AbortSignal | undefined,
): Promise<string | undefined> {
  const requestUrl = env['ACTIONS_ID_TOKEN_REQUEST_URL'];
  const requestToken = env['ACTIONS_ID_TOKEN_REQUEST_TOKEN'];
  if (!requestUrl || !requestToken) return undefined;
  const url = new URL(requestUrl);
  url.searchParams.set('audience', audience);
  let response: Response;
  try {
    response = await doFetch(url.href, { headers: { Authorization: `bearer ${requestToken}` }, ...(signal ? { signal } : {}) });
  } catch (cause) {
    throw new ModelSigningError({
      code: 'NETWORK_ERROR',
      cause,
      message: `Requesting the GitHub Actions OIDC token failed: ${(cause as Error).message}`,
    });
  }
  if (!response.ok)
    throw tokenError(
      `GitHub Actions refused the OIDC token request (${response.status}); does the job have 'permissions: id-token: write'?`,
    );
  const body = (await response.json().catch(() => ({}))) as { value?: unknown };
  if (typeof body.value !== 'string' || !body.value) throw tokenError('The GitHub Actions OIDC token response has no value');
  return body.value;
}

/**
 * Obtains the OIDC identity token for keyless signing, in the reference's
 * order: the explicit token; else, when allowed, ambient CI credentials
 * (`SIGSTORE_ID_TOKEN`, then GitHub Actions); else the interactive browser
 * flow with PKCE.
 *
 * @throws {ModelSigningError} `IDENTITY_TOKEN_ERROR` (no source available,
 *   provider refused), `NETWORK_ERROR`, `ABORTED`.
 */
export async function getIdentityToken(options: IdentityTokenOptions): Promise<string> {
  if (options.identityToken) return options.identityToken;
  const clientId = options.clientId || DEFAULT_CLIENT_ID;
  const doFetch = options.fetch ?? fetch;
  if (options.useAmbientCredentials) {
    const env = options.env ?? process.env;
    const fromEnv = env['SIGSTORE_ID_TOKEN'];
    if (fromEnv) return fromEnv;
    const fromActions = await githubActionsToken(env, clientId, doFetch, options.abortSignal);
    if (fromActions) return fromActions;
  }
  if (!options.onAuthorizationUrl) {
    throw tokenError(
      'No identity token for Sigstore signing: pass one (the identityToken option), run in CI with the useAmbientCredentials option ' +
        "(GitHub Actions with 'id-token: write', or SIGSTORE_ID_TOKEN), or sign in interactively",
    );
  }
  return interactiveIdentityToken({
    issuerUrl: options.issuerUrl,
    clientId,
    clientSecret: options.clientSecret ?? '',
    forceOob: options.oauthForceOob ?? false,
    onAuthorizationUrl: options.onAuthorizationUrl,
    ...(options.readOobCode ? { readOobCode: options.readOobCode } : {}),
    fetch: doFetch,
    abortSignal: options.abortSignal,
  });
}
