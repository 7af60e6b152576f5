// A private Sigstore instance of real servers on loopback, for the keyless
// tests: Fulcio (ephemeral CA), Rekor v2 (rekor-tiles on POSIX storage) and a
// timestamp authority, all built by scripts/setup-go-tools.sh; an OIDC issuer
// that signs identity tokens, which Fulcio checks; and a CT log, the one part
// not run as a real server: @sigstore/mock's CT log signs the SCTs Fulcio
// embeds (a real CT log needs Trillian and a database). Everything lives in a
// temporary directory: the servers' state and logs, and the ClientTrustConfig
// (trusted root + signing config, Sigstore's protobuf JSON forms) that
// describes the instance. Start one per test file: about a second.
import { createHash, generateKeyPairSync, randomUUID, sign, X509Certificate } from 'node:crypto';
import fs from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { initializeCTLog } from '@sigstore/mock';
import * as pkijs from 'pkijs';
import { goTool } from './go-tools.mjs';
import { startServer } from './servers.mjs';
import { startTimestampAuthority } from './timestamp-authority.mjs';

const OPERATOR = 'model-signing tests';
const CT_POISON = '1.3.6.1.4.1.11129.2.4.3';
const b64 = (bytes) => Buffer.from(bytes).toString('base64');
const sha256 = (...parts) => parts.reduce((h, p) => h.update(p), createHash('sha256')).digest();
const derOfPem = (pem) =>
  [...pem.matchAll(/-----BEGIN CERTIFICATE-----([^-]+)-----END CERTIFICATE-----/g)].map((m) => Buffer.from(m[1], 'base64'));

/** Serves `handler(request, body)` → `{ status, type, body }` on a free loopback port. */
async function serve(handler) {
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      Promise.resolve()
        .then(() => handler(req, Buffer.concat(chunks)))
        .then(
          ({ status, type, body }) => res.writeHead(status, type ? { 'Content-Type': type } : {}).end(body),
          (err) => res.writeHead(500).end(String(err?.message ?? err)),
        );
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** An OIDC issuer that only publishes its discovery document and keys; tests mint its ES256 tokens with `token()`. */
async function startOidcIssuer() {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const kid = randomUUID();
  let issuer = '';
  const json = (value) => ({ status: 200, type: 'application/json', body: JSON.stringify(value) });
  const server = await serve((req) => {
    const { pathname } = new URL(req.url ?? '/', issuer);
    if (pathname === '/auth/.well-known/openid-configuration') {
      return json({
        issuer,
        jwks_uri: `${issuer}/keys`,
        authorization_endpoint: `${issuer}/authorize`,
        token_endpoint: `${issuer}/token`,
        response_types_supported: ['id_token'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: ['ES256'],
      });
    }
    if (pathname === '/auth/keys') return json({ keys: [{ ...publicKey.export({ format: 'jwk' }), kid, alg: 'ES256', use: 'sig' }] });
    return { status: 404 };
  });
  issuer = `${server.url}/auth`;
  const part = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const token = ({ email, ...claims }) => {
    const now = Math.floor(Date.now() / 1000);
    const header = part({ alg: 'ES256', typ: 'JWT', kid });
    const payload = part({
      iss: issuer,
      aud: 'sigstore',
      sub: email,
      email,
      email_verified: true,
      iat: now,
      nbf: now,
      exp: now + 600,
      ...claims,
    });
    const signature = sign('sha256', Buffer.from(`${header}.${payload}`), { key: privateKey, dsaEncoding: 'ieee-p1363' });
    return `${header}.${payload}.${signature.toString('base64url')}`;
  };
  return { issuer, token, close: server.close };
}

/**
 * An RFC 6962 CT log's add-pre-chain, for Fulcio: @sigstore/mock signs the
 * SCT over the precertificate without its poison extension, as a real log does.
 */
async function startCtLog() {
  const log = await initializeCTLog(generateKeyPairSync('ec', { namedCurve: 'P-256' }));
  const server = await serve(async (req, body) => {
    if (req.method !== 'POST' || new URL(req.url ?? '/', 'http://x').pathname !== '/test/ct/v1/add-pre-chain') return { status: 404 };
    const [precert, issuer] = JSON.parse(body.toString('utf8')).chain.map((c) => Buffer.from(c, 'base64'));
    const certificate = pkijs.Certificate.fromBER(precert);
    certificate.extensions = certificate.extensions.filter((e) => e.extnID !== CT_POISON);
    const issuerKeyHash = sha256(new X509Certificate(issuer).publicKey.export({ type: 'spki', format: 'der' }));
    const sct = Buffer.from(await log.log(certificate.toSchema(true).toBER(), issuerKeyHash));
    // The mock's SCT as TLS bytes: length (2), version (1), log ID (32), timestamp (8), no extensions (2), then the signature.
    const response = {
      sct_version: sct[2],
      id: b64(sct.subarray(3, 35)),
      timestamp: Number(sct.readBigUInt64BE(35)),
      extensions: '',
      signature: b64(sct.subarray(45)),
    };
    return { status: 200, type: 'application/json', body: JSON.stringify(response) };
  });
  return { url: `${server.url}/test`, publicKey: log.publicKey, logId: Buffer.from(log.logID.buffer), close: server.close };
}

/** Fulcio with an ephemeral CA, trusting `issuer` for email identities and logging precertificates in `ctLog`. */
async function startFulcio(dir, issuer, ctLog) {
  const config = path.join(dir, 'fulcio-config.json');
  await fs.writeFile(config, JSON.stringify({ OIDCIssuers: { [issuer]: { IssuerURL: issuer, ClientID: 'sigstore', Type: 'email' } } }));
  const ctKey = path.join(dir, 'ctlog-public.pem');
  await fs.writeFile(ctKey, `-----BEGIN PUBLIC KEY-----\n${b64(ctLog.publicKey)}\n-----END PUBLIC KEY-----\n`);
  const server = await startServer({
    name: 'fulcio',
    bin: goTool('fulcio'),
    ports: 3,
    // Every listener on loopback and a port of its own (several instances run at once), the legacy gRPC socket in the temporary directory.
    args: ([port, grpcPort, metricsPort]) => [
      'serve',
      '--ca',
      'ephemeralca',
      '--config-path',
      config,
      '--ct-log-url',
      ctLog.url,
      '--ct-log-public-key-path',
      ctKey,
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--grpc-host',
      '127.0.0.1',
      '--grpc-port',
      String(grpcPort),
      '--metrics-port',
      String(metricsPort),
      '--legacy-unix-domain-socket',
      path.join(dir, `fulcio-legacy-${port}.sock`),
    ],
    logFile: path.join(dir, 'fulcio.log'),
    readyUrl: ([port]) => `http://127.0.0.1:${port}/api/v2/configuration`,
  });
  const url = `http://127.0.0.1:${server.ports[0]}`;
  try {
    const bundle = await (await fetch(`${url}/api/v2/trustBundle`)).json();
    return { url, chain: bundle.chains[0].certificates.flatMap(derOfPem), close: server.stop };
  } catch (err) {
    await server.stop();
    throw err;
  }
}

/** Rekor v2 (rekor-tiles' POSIX server) with a new Ed25519 checkpoint key, its origin `127.0.0.1:<port>`. */
async function startRekor(dir) {
  const key = generateKeyPairSync('ed25519');
  const signer = path.join(dir, 'rekor-log.pem');
  await fs.writeFile(signer, key.privateKey.export({ type: 'pkcs8', format: 'pem' }));
  // Storage named by port: a start retried on other ports begins a new log.
  const storageOf = (port) => path.join(dir, `rekor-tiles-${port}`);
  const server = await startServer({
    name: 'rekor-tiles (posix)',
    bin: goTool('posix'),
    ports: 3,
    args: ([port, grpcPort, metricsPort]) => [
      'serve',
      '--signer-filepath',
      signer,
      '--storage-dir',
      storageOf(port),
      '--http-port',
      String(port),
      '--grpc-port',
      String(grpcPort),
      '--http-metrics-port',
      String(metricsPort),
      '--hostname',
      `127.0.0.1:${port}`,
      // The log answers a write once a checkpoint covers it: sequence and publish at once, not every 10 s.
      '--checkpoint-interval',
      '200ms',
      '--batch-max-age',
      '50ms',
    ],
    logFile: path.join(dir, 'rekor.log'),
    readyUrl: ([port]) => `http://127.0.0.1:${port}/healthz`,
  });
  const [port] = server.ports;
  const origin = `127.0.0.1:${port}`;
  const spki = key.publicKey.export({ type: 'spki', format: 'der' });
  // C2SP signed-note key ID of an Ed25519 key, which rekor-tiles gives as the log ID: SHA-256(origin, "\n", 0x01, public key).
  const logId = sha256(Buffer.from(`${origin}\n`), Uint8Array.of(1), spki.subarray(-32));
  return { url: `http://${origin}`, origin, spki, logId, storageDir: storageOf(port), close: server.stop };
}

/**
 * Starts the instance and writes its ClientTrustConfig.
 *
 * @returns see sigstore-instance.d.mts.
 */
export async function startSigstoreInstance() {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sigstore-instance-'));
  const closers = [];
  const close = async () => {
    await Promise.all(closers.map((c) => c()));
    await fs.rm(dir, { recursive: true, force: true });
  };
  try {
    const [oidc, ctLog] = await Promise.all([startOidcIssuer(), startCtLog()]);
    closers.push(oidc.close, ctLog.close);
    const started = await Promise.allSettled([startFulcio(dir, oidc.issuer, ctLog), startRekor(dir), startTimestampAuthority({ dir })]);
    for (const s of started) if (s.status === 'fulfilled') closers.push(s.value.close);
    for (const s of started) if (s.status === 'rejected') throw s.reason;
    const [fulcio, rekor, tsa] = started.map((s) => s.value);

    const validFor = { start: new Date(Date.now() - 60_000).toISOString() };
    const trustedRoot = {
      mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
      tlogs: [
        {
          baseUrl: rekor.url,
          hashAlgorithm: 'SHA2_256',
          publicKey: { rawBytes: b64(rekor.spki), keyDetails: 'PKIX_ED25519', validFor },
          logId: { keyId: b64(rekor.logId) },
          checkpointKeyId: { keyId: b64(rekor.logId) },
          operator: OPERATOR,
        },
      ],
      certificateAuthorities: [
        {
          subject: { organization: 'sigstore', commonName: 'fulcio (ephemeral CA)' },
          uri: fulcio.url,
          certChain: { certificates: fulcio.chain.map((der) => ({ rawBytes: b64(der) })) },
          validFor,
          operator: OPERATOR,
        },
      ],
      ctlogs: [
        {
          baseUrl: ctLog.url,
          hashAlgorithm: 'SHA2_256',
          publicKey: { rawBytes: b64(ctLog.publicKey), keyDetails: 'PKIX_ECDSA_P256_SHA_256', validFor },
          logId: { keyId: b64(ctLog.logId) },
          operator: OPERATOR,
        },
      ],
      timestampAuthorities: [
        {
          subject: { organization: 'local', commonName: 'Test TSA Timestamping' },
          uri: tsa.url,
          certChain: { certificates: derOfPem(tsa.certificateChainPem).map((der) => ({ rawBytes: b64(der) })) },
          validFor,
          operator: OPERATOR,
        },
      ],
    };
    const service = (url, majorApiVersion = 1) => ({ url, majorApiVersion, validFor, operator: OPERATOR });
    const signingConfig = {
      mediaType: 'application/vnd.dev.sigstore.signingconfig.v0.2+json',
      caUrls: [service(fulcio.url)],
      oidcUrls: [service(oidc.issuer)],
      rekorTlogUrls: [service(rekor.url, 2)],
      tsaUrls: [service(tsa.url)],
      rekorTlogConfig: { selector: 'ANY' },
      tsaConfig: { selector: 'ANY' },
    };
    const trustConfig = { mediaType: 'application/vnd.dev.sigstore.clienttrustconfig.v0.1+json', trustedRoot, signingConfig };
    const trustConfigPath = path.join(dir, 'trust_config.json');
    await fs.writeFile(trustConfigPath, JSON.stringify(trustConfig, null, 2));
    return {
      dir,
      trustConfigPath,
      // Through JSON, so that no two fields of a copy share an object.
      trustConfig: () => JSON.parse(JSON.stringify(trustConfig)),
      urls: { oidc: oidc.issuer, fulcio: fulcio.url, rekor: rekor.url, tsa: tsa.url, ctLog: ctLog.url },
      rekor: { origin: rekor.origin, storageDir: rekor.storageDir },
      identityToken: oidc.token,
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
