// A private Sigstore instance for tests: @sigstore/mock's Fulcio (with CT
// log), Rekor and TSA behind one real HTTP server on 127.0.0.1, plus the
// ClientTrustConfig (trusted root + signing config) that describes it. Used
// only for Rekor v1 bundles, which no real server here writes; every other
// keyless test runs on real servers (test-fixtures/sigstore-instance.mjs).
import { X509Certificate, createHash, generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ASN1Obj } from '@sigstore/core';
import { fulcioHandler, initializeCA, initializeCTLog, initializeTLog, initializeTSA, tsaHandler, type HandlerFn } from '@sigstore/mock';
import { HashAlgorithm, PublicKeyDetails, ServiceSelector, SigningConfig, TrustedRoot } from '@sigstore/protobuf-specs';

export interface MockInstance {
  url: string;
  /** Path of the ClientTrustConfig JSON file for this instance. */
  trustConfigPath: string;
  /** Every request the services received, as `METHOD path`. */
  requests: string[];
  close(): Promise<void>;
}

const keyPair = () => generateKeyPairSync('ec', { namedCurve: 'prime256v1' });

/** An unsigned identity token: the mock Fulcio does not check signatures, only reads the claims. */
export function testIdentityToken(claims: { iss: string; email: string } & Record<string, unknown>): string {
  const now = Math.floor(Date.now() / 1000);
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${part({ alg: 'none', typ: 'JWT' })}.${part({
    sub: claims.email,
    email_verified: true,
    aud: 'sigstore',
    iat: now,
    nbf: now,
    exp: now + 600,
    ...claims,
  })}.`;
}

/**
 * Real Rekor turns a proposed `dsse` entry into a canonical body (hashes and
 * signatures, not the envelope); the mock logs whatever it receives. Build
 * that body so clients that check it (sigstore-js, sigstore-python) can.
 */
function canonicalDsseEntry(proposed: { kind?: string; spec?: { proposedContent?: { envelope: string; verifiers: string[] } } }): object {
  const content = proposed.kind === 'dsse' ? proposed.spec?.proposedContent : undefined;
  if (!content) return proposed;
  const envelope = JSON.parse(content.envelope) as { payload: string; signatures: { sig: string }[] };
  const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
  return {
    apiVersion: '0.0.1',
    kind: 'dsse',
    spec: {
      envelopeHash: { algorithm: 'sha256', value: sha256(content.envelope) },
      payloadHash: { algorithm: 'sha256', value: sha256(Buffer.from(envelope.payload, 'base64')) },
      signatures: envelope.signatures.map((s, i) => ({
        signature: s.sig,
        verifier: canonicalPem(content.verifiers[i] ?? content.verifiers[0]),
      })),
    },
  };
}

/** Rekor re-encodes each verifier as Go's PEM encoder would: 64-column base64 lines and a final newline. */
function canonicalPem(base64Pem: string): string {
  const cert = new X509Certificate(Buffer.from(base64Pem, 'base64'));
  const lines = cert.raw.toString('base64').match(/.{1,64}/g) ?? [];
  return Buffer.from(`-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`).toString('base64');
}

/**
 * Real Fulcio also takes the token from the Authorization header and the CSR
 * as base64 of its PEM (what sigstore-python sends); the mock only reads
 * `credentials.oidcIdentityToken` and a PEM CSR. Rewrite such requests into
 * the mock's form.
 */
function fulcioRequestForMock(body: string, authorization: string | undefined): string {
  const request = JSON.parse(body) as { credentials?: { oidcIdentityToken: string }; certificateSigningRequest?: string };
  if (!request.credentials && authorization?.startsWith('Bearer '))
    request.credentials = { oidcIdentityToken: authorization.slice('Bearer '.length) };
  if (request.certificateSigningRequest && !request.certificateSigningRequest.includes('-----BEGIN')) {
    request.certificateSigningRequest = Buffer.from(request.certificateSigningRequest, 'base64').toString('utf8');
  }
  return JSON.stringify(request);
}

/** Decodes a DER RFC 3161 TimeStampReq (what sigstore-python sends) into the mock TSA's request. */
function parseDerTimestampRequest(der: Buffer) {
  const req = ASN1Obj.parseBuffer(der as Buffer<ArrayBuffer>);
  const [, imprint, ...rest] = req.subs;
  const nonce = rest.find((s) => s.tag.number === 0x02);
  const certReq = rest.find((s) => s.tag.number === 0x01);
  const policy = rest.find((s) => s.tag.number === 0x06);
  return {
    hashAlgorithmOID: imprint.subs[0].subs[0].toOID(),
    artifactHash: imprint.subs[1].value,
    // The mock encodes the nonce from a JS number; nobody checks it on the way back.
    nonce: nonce ? Number(nonce.toInteger() & 0xffffffffn) : 0,
    policyOID: policy ? policy.toOID() : '1.3.6.1.4.1.57264.2',
    certReq: certReq ? certReq.toBoolean() : false,
  };
}

/** Starts Fulcio, Rekor (v1) and a TSA on one loopback port and writes a trust config for them. */
export async function startMockInstance(): Promise<MockInstance> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const ctlog = await initializeCTLog(keyPair());
  const ca = await initializeCA(keyPair(), ctlog);
  const tlog = await initializeTLog(url, keyPair());
  // The mock TSA writes genTime's milliseconds without trailing zeros, which
  // @sigstore/core rejects; a clock with 123 ms avoids it. It is moved to
  // "now" before each request so timestamps fall inside the certificate's life.
  const tsaClock = new Date(Math.floor(Date.now() / 1000) * 1000 + 123);
  const tsa = await initializeTSA(keyPair(), tsaClock);

  const fulcio = fulcioHandler(ca);
  const timestamp = tsaHandler(tsa);
  type Route = (body: Buffer) => ReturnType<HandlerFn>;
  const rekor: Route = async (body) => {
    try {
      const entry = await tlog.log(canonicalDsseEntry(JSON.parse(body.toString('utf8'))));
      return { statusCode: 201, response: JSON.stringify(entry), contentType: 'application/json' };
    } catch (e) {
      return { statusCode: 400, response: (e as Error).message };
    }
  };
  const stampDer: Route = async (body) => ({
    statusCode: 200,
    response: await tsa.timestamp(parseDerTimestampRequest(body)),
    contentType: 'application/timestamp-reply',
  });

  const requests: string[] = [];
  server.on('request', (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const route = `${req.method} ${new URL(req.url ?? '/', url).pathname}`;
      requests.push(route);
      const text =
        (fn: HandlerFn): Route =>
        (b) =>
          fn(b.toString('utf8'));
      let handler: Route | undefined;
      if (route === `POST ${fulcio.path}`) handler = (b) => fulcio.fn(fulcioRequestForMock(b.toString('utf8'), req.headers.authorization));
      else if (route === 'POST /api/v1/log/entries') handler = rekor;
      else if (route === `POST ${timestamp.path}`) {
        tsaClock.setTime(Math.floor(Date.now() / 1000) * 1000 + 123);
        handler = req.headers['content-type']?.startsWith('application/timestamp-query') ? stampDer : text(timestamp.fn);
      }
      if (route === 'GET /oauth2/.well-known/openid-configuration') {
        // The reference resolves the signing config's OIDC issuer even when given a token.
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(
          JSON.stringify({ issuer: `${url}/oauth2`, authorization_endpoint: `${url}/oauth2/auth`, token_endpoint: `${url}/oauth2/token` }),
        );
        return;
      }
      if (!handler) {
        res.writeHead(404).end();
        return;
      }
      handler(body).then(
        ({ statusCode, response, contentType }) => {
          res.writeHead(statusCode, contentType ? { 'Content-Type': contentType } : {});
          res.end(typeof response === 'string' ? response : Buffer.from(response.buffer, response.byteOffset, response.byteLength));
        },
        (e: Error) => res.writeHead(500).end(e.message),
      );
    });
  });

  const start = new Date(Date.now() - 60_000);
  const trustedRoot: TrustedRoot = {
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    tlogs: [
      {
        baseUrl: url,
        hashAlgorithm: HashAlgorithm.SHA2_256,
        publicKey: { rawBytes: tlog.publicKey, keyDetails: PublicKeyDetails.PKIX_ECDSA_P256_SHA_256, validFor: { start, end: undefined } },
        logId: { keyId: createHash('sha256').update(tlog.publicKey).digest() },
        checkpointKeyId: undefined,
        operator: 'model-signing tests',
      },
    ],
    certificateAuthorities: [
      {
        subject: { organization: 'sigstore.mock', commonName: 'sigstore' },
        uri: url,
        certChain: {
          certificates: [
            { rawBytes: Buffer.from(ca.rootCertificate.buffer, ca.rootCertificate.byteOffset, ca.rootCertificate.byteLength) },
          ],
        },
        validFor: { start, end: undefined },
        operator: 'model-signing tests',
      },
    ],
    ctlogs: [
      {
        baseUrl: url,
        hashAlgorithm: HashAlgorithm.SHA2_256,
        publicKey: { rawBytes: ctlog.publicKey, keyDetails: PublicKeyDetails.PKIX_ECDSA_P256_SHA_256, validFor: { start, end: undefined } },
        logId: { keyId: Buffer.from(ctlog.logID.buffer, ctlog.logID.byteOffset, ctlog.logID.byteLength) },
        checkpointKeyId: undefined,
        operator: 'model-signing tests',
      },
    ],
    timestampAuthorities: [
      {
        subject: { organization: 'sigstore.mock', commonName: 'tsa' },
        uri: `${url}/api/v1/timestamp`,
        certChain: {
          certificates: [tsa.intCertificate, tsa.rootCertificate].map((c) => ({
            rawBytes: Buffer.from(c.buffer, c.byteOffset, c.byteLength),
          })),
        },
        validFor: { start, end: undefined },
        operator: 'model-signing tests',
      },
    ],
  };
  const service = (serviceUrl: string) => ({
    url: serviceUrl,
    majorApiVersion: 1,
    validFor: { start, end: undefined },
    operator: 'model-signing tests',
  });
  const signingConfig: SigningConfig = {
    mediaType: 'application/vnd.dev.sigstore.signingconfig.v0.2+json',
    caUrls: [service(url)],
    oidcUrls: [service(`${url}/oauth2`)],
    rekorTlogUrls: [service(url)],
    tsaUrls: [service(`${url}/api/v1/timestamp`)],
    rekorTlogConfig: { selector: ServiceSelector.ANY, count: 0 },
    tsaConfig: { selector: ServiceSelector.ANY, count: 0 },
  };
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sigstore-mock-'));
  const trustConfigPath = path.join(dir, 'trust_config.json');
  await fs.writeFile(
    trustConfigPath,
    JSON.stringify({
      mediaType: 'application/vnd.dev.sigstore.clienttrustconfig.v0.1+json',
      trustedRoot: TrustedRoot.toJSON(trustedRoot),
      signingConfig: SigningConfig.toJSON(signingConfig),
    }),
  );
  return {
    url,
    trustConfigPath,
    requests,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}
