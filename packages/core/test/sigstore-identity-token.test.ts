import { afterEach, describe, expect, it } from 'vitest';
import { isModelSigningError } from '../dist/index.js';
import { getIdentityToken, interactiveIdentityToken } from '../dist/internal-node.js';
import { startFakeOidcProvider, type FakeOidcProvider } from './sigstore/fake-oidc.js';

const EMAIL = 'bob@example.com';
const claimsOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'));

let provider: FakeOidcProvider | undefined;
afterEach(async () => {
  await provider?.close();
  provider = undefined;
});

/** Plays the user's browser: opens the authorization URL and follows the provider's redirect to the loopback server. */
async function browse(url: string): Promise<void> {
  const response = await fetch(url, { redirect: 'manual' });
  expect(response.status).toBe(302);
  const location = response.headers.get('location')!;
  expect(location).toMatch(/^http:\/\/localhost:\d+\/auth\/callback\?/);
  const callback = await fetch(location.replace('//localhost:', '//127.0.0.1:'));
  expect(await callback.text()).toContain('Authentication complete');
}

describe('interactive OAuth sign-in with PKCE', () => {
  it('exchanges the code from the loopback redirect for an identity token', async () => {
    provider = await startFakeOidcProvider({ email: EMAIL, clientId: 'sigstore', clientSecret: '' });
    const urls: string[] = [];
    const token = await interactiveIdentityToken({
      issuerUrl: provider.issuer,
      clientId: 'sigstore',
      clientSecret: '',
      onAuthorizationUrl: (url) => {
        urls.push(url);
        void browse(url);
      },
    });
    expect(claimsOf(token).email).toBe(EMAIL);
    const auth = new URL(urls[0]).searchParams;
    expect(auth.get('scope')).toBe('openid email');
    expect(auth.get('code_challenge_method')).toBe('S256');
    const exchange = provider.tokenRequests[0];
    expect(exchange.get('redirect_uri')).toBe(auth.get('redirect_uri'));
    expect(exchange.get('code_verifier')).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('runs the out-of-band flow with a client secret', async () => {
    provider = await startFakeOidcProvider({ email: EMAIL, clientId: 'my-client', clientSecret: 's3cret:/' });
    let shown = '';
    const token = await getIdentityToken({
      issuerUrl: provider.issuer,
      clientId: 'my-client',
      clientSecret: 's3cret:/',
      oauthForceOob: true,
      onAuthorizationUrl: (url) => (shown = url),
      // The user reads the code on the provider's page and types it in.
      readOobCode: async () => `${await (await fetch(shown)).text()}\n`,
    });
    expect(new URL(shown).searchParams.get('redirect_uri')).toBe('urn:ietf:wg:oauth:2.0:oob');
    expect(claimsOf(token).sub).toBe(EMAIL);
  });

  it('fails when the PKCE verifier does not match (wrong client secret, wrong code)', async () => {
    provider = await startFakeOidcProvider({ email: EMAIL, clientId: 'sigstore', clientSecret: 'right' });
    let shown = '';
    const wrongSecret = interactiveIdentityToken({
      issuerUrl: provider.issuer,
      clientId: 'sigstore',
      clientSecret: 'wrong',
      forceOob: true,
      onAuthorizationUrl: (url) => (shown = url),
      readOobCode: async () => (await fetch(shown)).text(),
    });
    await expect(wrongSecret).rejects.toMatchObject({ code: 'IDENTITY_TOKEN_ERROR', message: expect.stringContaining('invalid_client') });
    const wrongCode = interactiveIdentityToken({
      issuerUrl: provider.issuer,
      clientId: 'sigstore',
      clientSecret: 'right',
      forceOob: true,
      onAuthorizationUrl: () => {},
      readOobCode: async () => 'not-the-code',
    });
    await expect(wrongCode).rejects.toMatchObject({ code: 'IDENTITY_TOKEN_ERROR', message: expect.stringContaining('invalid_grant') });
  });

  it('rejects a redirect with another state and a token for another sign-in', async () => {
    provider = await startFakeOidcProvider({ email: EMAIL, clientId: 'sigstore', clientSecret: '' });
    const forged = interactiveIdentityToken({
      issuerUrl: provider.issuer,
      clientId: 'sigstore',
      clientSecret: '',
      onAuthorizationUrl: (url) => {
        const redirect = new URL(new URL(url).searchParams.get('redirect_uri')!.replace('//localhost:', '//127.0.0.1:'));
        redirect.search = 'code=abc&state=forged';
        void fetch(redirect);
      },
    });
    await expect(forged).rejects.toMatchObject({ code: 'IDENTITY_TOKEN_ERROR', message: expect.stringContaining('state mismatch') });
    await provider.close();

    provider = await startFakeOidcProvider({ email: EMAIL, clientId: 'sigstore', clientSecret: '', replayNonce: 'old-nonce' });
    const replayed = interactiveIdentityToken({
      issuerUrl: provider.issuer,
      clientId: 'sigstore',
      clientSecret: '',
      onAuthorizationUrl: (url) => void browse(url),
    });
    await expect(replayed).rejects.toMatchObject({ code: 'IDENTITY_TOKEN_ERROR', message: expect.stringContaining('nonce mismatch') });
  });

  it('reports a provider error from the redirect and stops on abort', async () => {
    provider = await startFakeOidcProvider({ email: EMAIL, clientId: 'sigstore', clientSecret: '' });
    const denied = interactiveIdentityToken({
      issuerUrl: provider.issuer,
      clientId: 'sigstore',
      clientSecret: '',
      onAuthorizationUrl: (url) => {
        const redirect = new URL(new URL(url).searchParams.get('redirect_uri')!.replace('//localhost:', '//127.0.0.1:'));
        redirect.search = 'error=access_denied';
        void fetch(redirect);
      },
    });
    await expect(denied).rejects.toMatchObject({ code: 'IDENTITY_TOKEN_ERROR', message: expect.stringContaining('access_denied') });

    const controller = new AbortController();
    const waiting = interactiveIdentityToken({
      issuerUrl: provider.issuer,
      clientId: 'sigstore',
      clientSecret: '',
      onAuthorizationUrl: () => controller.abort(),
      abortSignal: controller.signal,
    });
    await expect(waiting).rejects.toMatchObject({ code: 'ABORTED' });
  });

  it('reports an unreachable issuer as a network error', async () => {
    const error = await interactiveIdentityToken({
      issuerUrl: 'http://127.0.0.1:9/auth',
      clientId: 'sigstore',
      clientSecret: '',
      onAuthorizationUrl: () => {},
    }).catch((e: unknown) => e);
    expect(isModelSigningError(error, 'NETWORK_ERROR')).toBe(true);
  });
});

describe('identity token sources, in the reference precedence', () => {
  it('uses an explicit token before anything else', async () => {
    const token = await getIdentityToken({
      identityToken: 'explicit',
      useAmbientCredentials: true,
      issuerUrl: 'http://127.0.0.1:9',
      env: { SIGSTORE_ID_TOKEN: 'ambient' },
    });
    expect(token).toBe('explicit');
  });

  it('uses SIGSTORE_ID_TOKEN, then GitHub Actions, only with ambient credentials enabled', async () => {
    provider = await startFakeOidcProvider({ email: EMAIL, clientId: 'sigstore', clientSecret: '' });
    const actionsEnv = {
      ACTIONS_ID_TOKEN_REQUEST_URL: provider.actionsRequestUrl,
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: provider.actionsRequestToken,
    };
    expect(
      await getIdentityToken({
        useAmbientCredentials: true,
        issuerUrl: provider.issuer,
        env: { ...actionsEnv, SIGSTORE_ID_TOKEN: 'from-env' },
      }),
    ).toBe('from-env');
    const fromActions = await getIdentityToken({ useAmbientCredentials: true, issuerUrl: provider.issuer, env: actionsEnv });
    expect(claimsOf(fromActions).iss).toBe('https://token.actions.githubusercontent.com');
    expect(provider.actionsAudiences).toEqual(['sigstore']);

    const badRequestToken = getIdentityToken({
      useAmbientCredentials: true,
      issuerUrl: provider.issuer,
      env: { ...actionsEnv, ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'nope' },
    });
    await expect(badRequestToken).rejects.toMatchObject({
      code: 'IDENTITY_TOKEN_ERROR',
      message: expect.stringContaining('id-token: write'),
    });

    const ambientOff = getIdentityToken({ issuerUrl: provider.issuer, env: { SIGSTORE_ID_TOKEN: 'from-env' } });
    await expect(ambientOff).rejects.toMatchObject({
      code: 'IDENTITY_TOKEN_ERROR',
      message: expect.stringContaining('the identityToken option'),
    });
  });
});
