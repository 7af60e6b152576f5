// A real OCI registry on loopback for the OCI tests, and the tools around it:
// go-containerregistry's in-memory registry (plain HTTP, as `registry -port N`
// serves it; with `referrers: true` the same registry with its OCI 1.1
// referrers API on, built from test-fixtures/oci-registry), the ORAS CLI run
// with its Docker config kept in the test's directory, and a token service
// in front of a registry, for the distribution spec's Bearer token flow
// (go-containerregistry's registry has no authentication of its own).
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { goTool } from './go-tools.mjs';
import { startServer } from './servers.mjs';

/** Starts a registry on a free port of 127.0.0.1; its log goes to `dir/registry*.log`. */
export async function startRegistry({ dir, referrers = false }) {
  const name = referrers ? 'registry-referrers' : 'registry';
  const server = await startServer({
    name,
    bin: goTool(name),
    args: ([port]) => ['-port', String(port)],
    logFile: path.join(dir, `${name}.log`),
    readyUrl: ([port]) => `http://127.0.0.1:${port}/v2/`,
  });
  const host = `127.0.0.1:${server.ports[0]}`;
  return { host, url: `http://${host}`, stop: server.stop };
}

/**
 * Runs the ORAS CLI with `args` in `cwd`. Its credentials live in
 * `dockerConfigDir` (default `cwd/.docker`), never in the user's home.
 * Resolves with its output; rejects with it when ORAS fails.
 */
export function oras(args, { cwd, dockerConfigDir = path.join(cwd, '.docker') }) {
  return new Promise((resolve, reject) => {
    execFile(
      goTool('oras'),
      args,
      { cwd, env: { ...process.env, DOCKER_CONFIG: dockerConfigDir, HOME: cwd, NO_COLOR: '1' }, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) reject(Object.assign(new Error(`oras ${args.join(' ')} failed: ${stderr || stdout}`), { stdout, stderr }));
        else resolve({ stdout, stderr });
      },
    );
  });
}

/**
 * A token service in front of `registryHost`, on its own free port: every
 * registry request without a valid Bearer token is answered 401 with
 * `WWW-Authenticate: Bearer realm="…/token",service="oci-test",scope="repository:<name>:<actions>"`;
 * `/token` issues tokens for the scopes asked, to Basic `username:password`
 * only (pulls too: the registry is private), or by POST to an OAuth2
 * refresh-token grant of `identityToken` (Docker's identity tokens). Tokens carry their scopes, so a
 * pull token does not push. `requests` records what the service saw.
 */
export async function startTokenService({ registryHost, username, password, identityToken }) {
  const tokens = new Map();
  const requests = [];
  const issue = (res, scopes) => {
    const token = randomBytes(16).toString('hex');
    tokens.set(token, scopes);
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ access_token: token, expires_in: 300 }));
  };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://local');
    if (url.pathname === '/token' && req.method === 'POST') {
      // OAuth2 refresh-token grant, as Docker exchanges an identity token.
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        const form = new URLSearchParams(body);
        const scopes = (form.get('scope') ?? '').split(' ').filter(Boolean);
        requests.push({ kind: 'token', user: '<identity token>', scopes, service: form.get('service') });
        if (identityToken === undefined || form.get('grant_type') !== 'refresh_token' || form.get('refresh_token') !== identityToken) {
          res
            .writeHead(401, { 'content-type': 'application/json' })
            .end('{"errors":[{"code":"UNAUTHORIZED","message":"bad refresh token"}]}');
          return;
        }
        issue(res, scopes);
      });
      return;
    }
    if (url.pathname === '/token') {
      const basic = (req.headers.authorization ?? '').replace(/^Basic /, '');
      const [user, ...rest] = Buffer.from(basic, 'base64').toString('utf8').split(':');
      const scopes = url.searchParams.getAll('scope');
      requests.push({ kind: 'token', user, scopes, service: url.searchParams.get('service') });
      if (user !== username || rest.join(':') !== password) {
        res.writeHead(401, { 'content-type': 'application/json' }).end('{"errors":[{"code":"UNAUTHORIZED","message":"bad credentials"}]}');
        return;
      }
      issue(res, scopes);
      return;
    }
    const repository = /^\/v2\/(.+?)\/(?:manifests|blobs|referrers|tags)\//.exec(url.pathname)?.[1];
    const action = req.method === 'GET' || req.method === 'HEAD' ? 'pull' : 'push';
    const granted = tokens.get((req.headers.authorization ?? '').replace(/^Bearer /, '')) ?? [];
    const allowed =
      repository !== undefined &&
      granted.some((scope) => {
        const [type, name, actions] = scope.split(':');
        return type === 'repository' && name === repository && actions.split(',').includes(action);
      });
    requests.push({ kind: 'registry', method: req.method, path: url.pathname, allowed });
    if (!allowed) {
      const scope = repository === undefined ? '' : `,scope="repository:${repository}:${action === 'pull' ? 'pull' : 'pull,push'}"`;
      res.writeHead(401, {
        'content-type': 'application/json',
        'www-authenticate': `Bearer realm="http://${req.headers.host}/token",service="oci-test"${scope}`,
      });
      res.end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
      return;
    }
    const headers = { ...req.headers, host: registryHost };
    delete headers.authorization;
    const upstream = http.request(
      { host: '127.0.0.1', port: Number(registryHost.split(':')[1]), method: req.method, path: req.url, headers },
      (answer) => {
        res.writeHead(answer.statusCode, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', (err) => res.destroy(err));
    req.pipe(upstream);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const host = `127.0.0.1:${server.address().port}`;
  return {
    host,
    url: `http://${host}`,
    requests,
    stop: () => new Promise((resolve) => server.close(resolve)).then(() => server.closeAllConnections?.()),
  };
}

/** Writes a Docker config file holding `auths` for `host` (as `docker login` writes it) into `dir`; returns its path. */
export function writeDockerConfig(dir, host, username, password) {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'config.json');
  fs.writeFileSync(file, JSON.stringify({ auths: { [host]: { auth: Buffer.from(`${username}:${password}`).toString('base64') } } }));
  return file;
}
