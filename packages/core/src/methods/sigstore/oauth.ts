import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { abortedError } from '../../cancellation.js';
import { ModelSigningError } from '../../errors.js';
import { decodeClaims } from './jwt.js';

/** The redirect URI of the copy-paste ("out of band") flow, as sigstore-python uses. */
export const OOB_REDIRECT_URI = 'urn:ietf:wg:oauth:2.0:oob';

/** Options for {@link interactiveIdentityToken}. */
export interface InteractiveIdentityTokenOptions {
  /** Cancels the operation: it rejects with a `ModelSigningError` coded `ABORTED`. */
  abortSignal?: AbortSignal;
  /** The OIDC issuer, e.g. `https://oauth2.sigstore.dev/auth`; its discovery document names the endpoints. */
  issuerUrl: string;
  clientId: string;
  clientSecret: string;
  /** Copy-paste flow: the provider shows a code that the user types in (via `readOobCode`). */
  forceOob?: boolean;
  /** Called with the URL the user must open in a browser. */
  onAuthorizationUrl: (url: string) => void;
  /** Out-of-band flow only: asks the user for the code the provider showed. */
  readOobCode?: () => Promise<string>;
  fetch?: typeof fetch;
}

interface OpenIdConfiguration {
  authorization_endpoint: string;
  token_endpoint: string;
}

function tokenError(message: string, cause?: unknown): ModelSigningError {
  return new ModelSigningError({ code: 'IDENTITY_TOKEN_ERROR', cause, message });
}

function networkError(what: string, cause: unknown): ModelSigningError {
  return new ModelSigningError({
    code: 'NETWORK_ERROR',
    cause,
    message: `${what} failed: ${(cause as Error).message}; check the network and the issuer URL`,
  });
}

const base64url = (bytes: Buffer) => bytes.toString('base64url');

async function discover(issuerUrl: string, doFetch: typeof fetch, signal: AbortSignal | undefined): Promise<OpenIdConfiguration> {
  const url = new URL('.well-known/openid-configuration', issuerUrl.endsWith('/') ? issuerUrl : `${issuerUrl}/`).href;
  let response: Response;
  try {
    response = await doFetch(url, signal ? { signal } : {});
  } catch (cause) {
    throw networkError(`Fetching the OIDC configuration of '${issuerUrl}'`, cause);
  }
  if (!response.ok) throw tokenError(`The OIDC issuer '${issuerUrl}' answered ${response.status} for ${url}`);
  const config = (await response.json()) as Partial<OpenIdConfiguration>;
  if (typeof config.authorization_endpoint !== 'string' || typeof config.token_endpoint !== 'string') {
    throw tokenError(`The OIDC configuration at ${url} has no authorization_endpoint or token_endpoint`);
  }
  return { authorization_endpoint: config.authorization_endpoint, token_endpoint: config.token_endpoint };
}

/** A loopback server that receives the provider's redirect with the code (RFC 8252). */
async function startRedirectServer(): Promise<{ redirectUri: string; response: Promise<URLSearchParams>; close: () => void }> {
  let deliver!: (params: URLSearchParams) => void;
  const response = new Promise<URLSearchParams>((resolve) => (deliver = resolve));
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== '/auth/callback') {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', Connection: 'close' });
    res.end(
      '<!doctype html><title>model-signing</title><p>Authentication complete. You can close this window and return to the terminal.</p>',
    );
    deliver(url.searchParams);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    // `localhost` because that is the redirect URI public Sigstore clients are registered with.
    redirectUri: `http://localhost:${port}/auth/callback`,
    response,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

function aborted(signal: AbortSignal): Promise<never> {
  return new Promise((_resolve, reject) => {
    const fail = () => reject(abortedError(signal, { doing: 'the interactive sign-in' }));
    if (signal.aborted) fail();
    signal.addEventListener('abort', fail, { once: true });
  });
}

/**
 * Obtains an OIDC identity token interactively with the authorization-code
 * flow and PKCE (S256), as sigstore-python does: the user signs in at the
 * provider in a browser; the provider redirects to a loopback server here
 * (or, with `forceOob`, shows a code the user pastes back). The code is then
 * exchanged at the token endpoint with the PKCE verifier.
 *
 * @throws {ModelSigningError} `IDENTITY_TOKEN_ERROR` (provider error, state
 *   mismatch, no id_token), `NETWORK_ERROR`, `ABORTED`.
 */
export async function interactiveIdentityToken(options: InteractiveIdentityTokenOptions): Promise<string> {
  const doFetch = options.fetch ?? fetch;
  const signal = options.abortSignal;
  const config = await discover(options.issuerUrl, doFetch, signal);
  const codeVerifier = base64url(randomBytes(32));
  const state = base64url(randomBytes(16));
  const nonce = base64url(randomBytes(16));
  const authorizationUrl = (redirectUri: string) => {
    const url = new URL(config.authorization_endpoint);
    url.search = new URLSearchParams({
      response_type: 'code',
      client_id: options.clientId,
      scope: 'openid email',
      redirect_uri: redirectUri,
      code_challenge: base64url(createHash('sha256').update(codeVerifier).digest()),
      code_challenge_method: 'S256',
      state,
      nonce,
    }).toString();
    return url.href;
  };

  let code: string;
  let redirectUri: string;
  if (options.forceOob) {
    if (!options.readOobCode) throw tokenError('The out-of-band sign-in needs a way to read the code (readOobCode)');
    redirectUri = OOB_REDIRECT_URI;
    options.onAuthorizationUrl(authorizationUrl(redirectUri));
    const typed = options.readOobCode();
    code = (await (signal ? Promise.race([typed, aborted(signal)]) : typed)).trim();
    if (!code) throw tokenError('No verification code was entered');
  } else {
    const server = await startRedirectServer();
    redirectUri = server.redirectUri;
    let params: URLSearchParams;
    try {
      options.onAuthorizationUrl(authorizationUrl(redirectUri));
      params = await (signal ? Promise.race([server.response, aborted(signal)]) : server.response);
    } finally {
      server.close();
    }
    const error = params.get('error');
    if (error)
      throw tokenError(
        `The OIDC provider refused the sign-in: ${error}${params.get('error_description') ? ` (${params.get('error_description')})` : ''}`,
      );
    if (params.get('state') !== state) throw tokenError('OAuth state mismatch: the redirect does not belong to this sign-in; try again');
    code = params.get('code') ?? '';
    if (!code) throw tokenError('The OIDC provider redirected without an authorization code');
  }

  let response: Response;
  try {
    response = await doFetch(config.token_endpoint, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/x-www-form-urlencoded',
        Authorization: `Basic ${Buffer.from(`${encodeURIComponent(options.clientId)}:${encodeURIComponent(options.clientSecret)}`).toString('base64')}`,
      },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        redirect_uri: redirectUri,
        code,
        code_verifier: codeVerifier,
      }).toString(),
      ...(signal ? { signal } : {}),
    });
  } catch (cause) {
    throw networkError('The OIDC token request', cause);
  }
  const body = (await response.json().catch(() => ({}))) as { id_token?: unknown; error?: unknown; error_description?: unknown };
  if (!response.ok || body.error) {
    throw tokenError(
      `The OIDC token request failed with ${response.status}${body.error ? `: ${text(body.error)}` : ''}${body.error_description ? ` (${text(body.error_description)})` : ''}`,
    );
  }
  if (typeof body.id_token !== 'string') throw tokenError('The OIDC token response has no id_token');
  // A replayed token would carry another sign-in's nonce.
  const claimedNonce = decodeClaims(body.id_token)['nonce'];
  if (claimedNonce !== undefined && claimedNonce !== nonce)
    throw tokenError('The identity token was issued for another sign-in (nonce mismatch); try again');
  return body.id_token;
}

/** A value from a server's JSON as text: strings as they are, anything else as JSON. */
function text(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}
