// A small OIDC provider for tests: discovery, an authorization endpoint that
// "signs in" at once and redirects (or shows a code out of band), a token
// endpoint that checks the client, the redirect URI and the PKCE verifier,
// and GitHub Actions' token request endpoint.
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeOidcProvider {
  issuer: string;
  /** Token request URL for ACTIONS_ID_TOKEN_REQUEST_URL (already carries a query, as GitHub's does). */
  actionsRequestUrl: string;
  actionsRequestToken: string;
  /** The last token requests' form parameters, for assertions. */
  tokenRequests: URLSearchParams[];
  actionsAudiences: string[];
  close(): Promise<void>;
}

interface Grant {
  clientId: string;
  redirectUri: string;
  challenge: string;
  nonce: string | null;
}

const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
const idToken = (claims: object) => `${part({ alg: 'none', typ: 'JWT' })}.${part(claims)}.`;

export async function startFakeOidcProvider(options: {
  email: string;
  clientId: string;
  clientSecret: string;
  replayNonce?: string;
}): Promise<FakeOidcProvider> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const issuer = `${base}/auth`;
  const grants = new Map<string, Grant>();
  const tokenRequests: URLSearchParams[] = [];
  const actionsAudiences: string[] = [];
  const actionsRequestToken = randomBytes(8).toString('hex');

  server.on('request', (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', (): void => {
      const url = new URL(req.url ?? '/', base);
      const json = (status: number, body: object) =>
        res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
      if (url.pathname === '/auth/.well-known/openid-configuration') {
        json(200, { issuer, authorization_endpoint: `${issuer}/authorize`, token_endpoint: `${issuer}/token` });
      } else if (url.pathname === '/auth/authorize') {
        const q = url.searchParams;
        if (
          q.get('response_type') !== 'code' ||
          q.get('code_challenge_method') !== 'S256' ||
          !q.get('code_challenge') ||
          q.get('client_id') !== options.clientId
        ) {
          res.writeHead(400).end('bad authorization request');
          return;
        }
        const code = randomBytes(12).toString('hex');
        grants.set(code, {
          clientId: q.get('client_id')!,
          redirectUri: q.get('redirect_uri')!,
          challenge: q.get('code_challenge')!,
          nonce: q.get('nonce'),
        });
        if (q.get('redirect_uri') === 'urn:ietf:wg:oauth:2.0:oob') {
          res.writeHead(200, { 'Content-Type': 'text/plain' }).end(code);
        } else {
          const target = new URL(q.get('redirect_uri')!);
          target.searchParams.set('code', code);
          target.searchParams.set('state', q.get('state') ?? '');
          res.writeHead(302, { Location: target.href }).end();
        }
      } else if (url.pathname === '/auth/token' && req.method === 'POST') {
        const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
        tokenRequests.push(form);
        const [id, secret] = Buffer.from((req.headers.authorization ?? '').replace(/^Basic /, ''), 'base64')
          .toString('utf8')
          .split(':')
          .map(decodeURIComponent);
        const grant = grants.get(form.get('code') ?? '');
        grants.delete(form.get('code') ?? '');
        const challenge = createHash('sha256')
          .update(form.get('code_verifier') ?? '')
          .digest('base64url');
        if (id !== options.clientId || secret !== options.clientSecret) json(401, { error: 'invalid_client' });
        else if (!grant || grant.redirectUri !== form.get('redirect_uri') || form.get('grant_type') !== 'authorization_code')
          json(400, { error: 'invalid_grant' });
        else if (challenge !== grant.challenge) json(400, { error: 'invalid_grant', error_description: 'PKCE verification failed' });
        else {
          const now = Math.floor(Date.now() / 1000);
          json(200, {
            access_token: 'unused',
            token_type: 'bearer',
            id_token: idToken({
              iss: issuer,
              aud: grant.clientId,
              sub: options.email,
              email: options.email,
              email_verified: true,
              iat: now,
              exp: now + 300,
              nonce: options.replayNonce ?? grant.nonce,
            }),
          });
        }
      } else if (url.pathname === '/actions/token') {
        if (req.headers.authorization !== `bearer ${actionsRequestToken}`) {
          json(403, { message: 'bad request token' });
          return;
        }
        const audience = url.searchParams.get('audience') ?? '';
        actionsAudiences.push(audience);
        const now = Math.floor(Date.now() / 1000);
        json(200, {
          value: idToken({
            iss: 'https://token.actions.githubusercontent.com',
            aud: audience,
            sub: 'repo:org/model:ref:refs/heads/main',
            iat: now,
            exp: now + 300,
          }),
        });
      } else {
        res.writeHead(404).end();
      }
    });
  });

  return {
    issuer,
    actionsRequestUrl: `${base}/actions/token?api-version=2.0`,
    actionsRequestToken,
    tokenRequests,
    actionsAudiences,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
