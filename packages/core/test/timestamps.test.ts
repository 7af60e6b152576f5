/**
 * RFC 3161 timestamps on key and certificate signatures, against a real
 * timestamp authority (Sigstore's timestamp-server on loopback, started by
 * test-fixtures/timestamp-authority.mjs; @sigstore/mock's TSA as another
 * authority): what signing puts into the bundle, what the verifiers accept
 * and refuse with which code, a TSA that fails or lies at signing time
 * (through a proxy in front of the real one), and timestamps that other
 * RFC 3161 clients and Sigstore's production TSA wrote.
 */
import { createHash } from 'node:crypto';
import { execFileSync as exec, type ExecFileSyncOptions } from 'node:child_process';
import fsSync from 'node:fs';
import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { TSAWitness } from '@sigstore/sign';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CertificateSigner,
  CertificateVerifier,
  KeySigner,
  KeyVerifier,
  SigstoreSigner,
  signModel,
  verifyModel,
  type SerializedBundle,
  type Signer,
  type TimestampInfo,
  type VerificationResult,
  type Verifier,
} from '../dist/index.js';
import { requestTimestamp } from '../dist/internal.js';
import { verifyTimestamp } from '../dist/methods/timestamp/verify-timestamp.js';
import { parsePemCertificates } from '../dist/methods/certificate/pem-certificates.js';
import { issueLeaf, makeCertificateAuthority, type CertificateAuthority } from '../../../test-fixtures/pki.mjs';
import { startTimestampAuthority, type TimestampAuthority } from '../../../test-fixtures/timestamp-authority.mjs';
import { HISTORICAL, cleanupTempDirs, ecKeyPair, expectCode, tempDir, writeTree } from './helpers.js';
import { startMockInstance, type MockInstance } from './sigstore/mock-instance.js';

/** openssl, its chatter on stderr kept out of the test output. */
const execFileSync = (file: string, args: readonly string[], options: ExecFileSyncOptions = {}) =>
  exec(file, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });

/** The TSA is shared by the test processes of the machine (test-fixtures/timestamp-authority.mjs): joining it may wait for a lock. */
const SETUP_TIMEOUT_MS = 180_000;

let work: string;
let model: string;
let ca: CertificateAuthority;
let keys: { privateKey: string; publicKey: string };
let tsa: TimestampAuthority;
/** Another authority: @sigstore/mock's TSA, behind the mock Sigstore instance. */
let other: MockInstance;
let otherChain: string;
/** The certificates of a PEM chain, in order. */
const pemBlocks = (chain: string) => chain.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g) ?? [];
/** A TSA chain without the TSA's own certificate: its issuers, root last. */
const tsaIssuersPem = (chain: string) => pemBlocks(chain).slice(1).join('');

/** Signature files made in beforeAll, by name. */
const signed: Record<string, string> = {};
/** The short-lived leaf: valid when signed, expired by the time the tests run. */
let shortLeafNotAfter: Date;

const keySigner = () => KeySigner.create({ privateKey: keys.privateKey });
const certSigner = (leaf: { key: string; cert: string }) =>
  CertificateSigner.create({ privateKey: leaf.key, signingCertificate: leaf.cert, certificateChain: [ca.intermediateCert] });
const keyVerifier = (tsaCertificateChain?: string[]) =>
  KeyVerifier.create({ publicKey: keys.publicKey, ...(tsaCertificateChain ? { tsaCertificateChain } : {}) });
const certVerifier = (tsaCertificateChain?: string[]) =>
  CertificateVerifier.create({ certificateChain: [ca.rootCert], ...(tsaCertificateChain ? { tsaCertificateChain } : {}) });

async function sign(name: string, signer: Signer, url?: string): Promise<string> {
  const signaturePath = path.join(work, `${name}.sig`);
  await signModel({ modelPath: model, signaturePath, signer, ...(url ? { timestampAuthority: { url } } : {}) });
  signed[name] = signaturePath;
  return signaturePath;
}

const verify = (signaturePath: string, verifier: Verifier): Promise<VerificationResult> =>
  verifyModel({ modelPath: model, signaturePath, verifier });

const readBundle = async (file: string): Promise<SerializedBundle> => JSON.parse(await fs.readFile(file, 'utf8')) as SerializedBundle;

/** The bundle's DSSE signature and its one timestamp token. */
async function partsOf(file: string): Promise<{ signature: Buffer; token: Buffer }> {
  const bundle = await readBundle(file);
  const stamps = (bundle.verificationMaterial['timestampVerificationData'] as { rfc3161Timestamps: { signedTimestamp: string }[] })
    .rfc3161Timestamps;
  expect(stamps).toHaveLength(1);
  return {
    signature: Buffer.from(bundle.dsseEnvelope.signatures[0].sig, 'base64'),
    token: Buffer.from(stamps[0].signedTimestamp, 'base64'),
  };
}

/** A copy of a signature file with its timestamps replaced. */
async function withTimestamps(file: string, name: string, tokens: readonly (Uint8Array | string)[]): Promise<string> {
  const bundle = await readBundle(file);
  bundle.verificationMaterial['timestampVerificationData'] = {
    rfc3161Timestamps: tokens.map((t) => ({ signedTimestamp: typeof t === 'string' ? t : Buffer.from(t).toString('base64') })),
  };
  const out = path.join(work, `${name}.sig`);
  await fs.writeFile(out, JSON.stringify(bundle));
  return out;
}

/** A token from `url` over `signature`, asked for with certReq and without a nonce, the way sigstore-go asks. */
async function stampWithoutNonce(url: string, signature: Uint8Array): Promise<Uint8Array> {
  const request = new pkijs.TimeStampReq({
    version: 1,
    messageImprint: new pkijs.MessageImprint({
      hashAlgorithm: new pkijs.AlgorithmIdentifier({ algorithmId: '2.16.840.1.101.3.4.2.1' }),
      hashedMessage: new asn1js.OctetString({ valueHex: createHash('sha256').update(signature).digest() }),
    }),
    certReq: true,
  });
  const answer = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/timestamp-query' },
    body: new Uint8Array(request.toSchema().toBER()),
  });
  expect(answer.status).toBe(200);
  return new Uint8Array(await answer.arrayBuffer());
}

const exists = (file: string) =>
  fs.access(file).then(
    () => true,
    () => false,
  );

beforeAll(async () => {
  work = await tempDir('oms-tsa-');
  model = path.join(work, 'model');
  await writeTree(model, { 'config.json': '{"layers": 2}', 'weights/model.safetensors': 'w'.repeat(4096) });
  ca = makeCertificateAuthority(path.join(work, 'ca'));
  keys = ecKeyPair('P-256');
  const leaf = issueLeaf(path.join(work, 'ca'), ca, { name: 'leaf' });
  const day = 24 * 3600 * 1000;
  const expired = issueLeaf(path.join(work, 'ca'), ca, {
    name: 'expired',
    validity: { notBefore: new Date(Date.now() - 2 * day), notAfter: new Date(Date.now() - day) },
  });
  const future = issueLeaf(path.join(work, 'ca'), ca, {
    name: 'future',
    validity: { notBefore: new Date(Date.now() + day), notAfter: new Date(Date.now() + 2 * day) },
  });

  tsa = await startTimestampAuthority({ dir: work });
  // A leaf that expires a few seconds from now, signed with and without a timestamp while valid.
  shortLeafNotAfter = new Date(Date.now() + 4000);
  const short = issueLeaf(path.join(work, 'ca'), ca, {
    name: 'short',
    validity: { notBefore: new Date(Date.now() - day), notAfter: shortLeafNotAfter },
  });
  await sign('cert-short', await certSigner(short), tsa.url);
  await sign('cert-short-no-timestamp', await certSigner(short));
  await sign('key', await keySigner(), tsa.url);
  await sign('key-no-timestamp', await keySigner());
  await sign('cert', await certSigner(leaf), tsa.url);
  await sign('cert-expired', await certSigner(expired), tsa.url);
  await sign('cert-future', await certSigner(future), tsa.url);
  // The same signatures stamped by another authority (its client asks for no nonce, as sigstore-go's does).
  other = await startMockInstance();
  const trustConfig = JSON.parse(await fs.readFile(other.trustConfigPath, 'utf8')) as {
    trustedRoot: { timestampAuthorities: { certChain: { certificates: { rawBytes: string }[] } }[] };
  };
  otherChain = trustConfig.trustedRoot.timestampAuthorities[0].certChain.certificates
    .map((c) => `-----BEGIN CERTIFICATE-----\n${c.rawBytes}\n-----END CERTIFICATE-----\n`)
    .join('');
  for (const [name, from] of [
    ['key-other-tsa', 'key'],
    ['cert-other-tsa', 'cert'],
  ] as const) {
    const { signature } = await partsOf(signed[from]);
    signed[name] = await withTimestamps(signed[from], name, [await stampWithoutNonce(`${other.url}/api/v1/timestamp`, signature)]);
  }
  const wait = shortLeafNotAfter.getTime() + 1500 - Date.now();
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
}, SETUP_TIMEOUT_MS);

afterAll(async () => {
  await tsa?.close();
  await other?.close();
  await cleanupTempDirs();
});

describe('signing with a timestamp authority', () => {
  it('puts one RFC 3161 timestamp over the DSSE signature into the bundle, which openssl verifies', async () => {
    const bundle = await readBundle(signed['key']);
    expect(Object.keys(bundle.verificationMaterial)).toEqual(['publicKey', 'tlogEntries', 'timestampVerificationData']);
    const { signature, token } = await partsOf(signed['key']);
    // A third-party verifier: the imprint is SHA-256 of the signature bytes and the token is the TSA's.
    await fs.writeFile(path.join(work, 'token.tsr'), token);
    const blocks = pemBlocks(tsa.certificateChainPem);
    await fs.writeFile(path.join(work, 'tsa-root.pem'), blocks.at(-1) ?? '');
    await fs.writeFile(path.join(work, 'tsa-untrusted.pem'), blocks.slice(0, -1).join(''));
    const out = execFileSync('openssl', [
      'ts',
      '-verify',
      '-digest',
      createHash('sha256').update(signature).digest('hex'),
      '-in',
      path.join(work, 'token.tsr'),
      '-CAfile',
      path.join(work, 'tsa-root.pem'),
      '-untrusted',
      path.join(work, 'tsa-untrusted.pem'),
    ]).toString();
    expect(out).toContain('Verification: OK');
    const text = execFileSync('openssl', ['ts', '-reply', '-in', path.join(work, 'token.tsr'), '-text']).toString();
    expect(text).toContain('Status: Granted.');
    expect(text).toMatch(/Nonce: 0x[0-9A-F]+/);
  });

  it('reports the timestamp of a key signature unverified without TSA certificates, verified with them', async () => {
    const before = Date.now();
    const plain = await verify(signed['key'], await keyVerifier());
    const [unverified] = plain.signer.timestamps!;
    expect(unverified).toMatchObject({ verified: false, authority: expect.stringContaining('Test TSA') });
    expect(unverified.time.getTime()).toBeLessThanOrEqual(before);
    expect(before - unverified.time.getTime()).toBeLessThan(10 * 60_000);
    // The chain; its issuers without the TSA's own certificate (the token carries it); that certificate alone.
    for (const chain of [[tsa.certificateChainPem], [tsaIssuersPem(tsa.certificateChainPem)], [pemBlocks(tsa.certificateChainPem)[0]!]]) {
      const result = await verify(signed['key'], await keyVerifier(chain));
      expect(result.signer.timestamps).toEqual<TimestampInfo[]>([{ ...unverified, verified: true }]);
    }
    expect((await verify(signed['key-no-timestamp'], await keyVerifier([tsa.certificateChainPem]))).signer.timestamps).toBeUndefined();
  });

  it('verifies the timestamp of a certificate signature and checks the certificate at its time', async () => {
    const result = await verify(signed['cert'], await certVerifier([tsa.certificateChainPem]));
    expect(result.signer).toMatchObject({ method: 'certificate', certificateSubject: 'CN=leaf', timestamps: [{ verified: true }] });
  });

  it('reads the TSA certificates from files too (the Node verifiers), and refuses an empty list or a file without certificates', async () => {
    const chainFile = path.join(work, 'tsa-chain.pem');
    await fs.writeFile(chainFile, tsa.certificateChainPem);
    expect((await verify(signed['cert'], await certVerifier([chainFile]))).signer.timestamps?.[0]?.verified).toBe(true);
    await expectCode(keyVerifier([]), 'INVALID_ARGUMENT');
    await expectCode(certVerifier([keys.publicKey]), 'BAD_KEY');
    await expectCode(certVerifier([path.join(work, 'missing.pem')]), 'NOT_FOUND');
  });
});

describe('a certificate that has expired since it signed', () => {
  it('verifies with a verified timestamp from inside its validity', async () => {
    expect(Date.now()).toBeGreaterThan(shortLeafNotAfter.getTime());
    const result = await verify(signed['cert-short'], await certVerifier([tsa.certificateChainPem]));
    const [stamp] = result.signer.timestamps!;
    expect(stamp.verified).toBe(true);
    expect(stamp.time.getTime()).toBeLessThanOrEqual(shortLeafNotAfter.getTime());
  });

  it('is refused without the TSA certificates, with how to use its timestamp', async () => {
    const err = await expectCode(verify(signed['cert-short'], await certVerifier()), 'CERT_CHAIN_INVALID');
    expect(err.message).toMatch(/has expired.*carries an RFC 3161 timestamp.*tsaCertificateChain/);
  });

  it('is refused without a timestamp, TSA certificates or not', async () => {
    for (const chain of [undefined, [tsa.certificateChainPem]]) {
      const err = await expectCode(verify(signed['cert-short-no-timestamp'], await certVerifier(chain)), 'CERT_CHAIN_INVALID');
      expect(err.message).toMatch(/'CN=short' has expired/);
    }
  });
});

describe('refusals', () => {
  it('a timestamp from another timestamp authority (TIMESTAMP_INVALID), which verifies with that one', async () => {
    await expectCode(verify(signed['key-other-tsa'], await keyVerifier([tsa.certificateChainPem])), 'TIMESTAMP_INVALID');
    const err = await expectCode(verify(signed['cert-other-tsa'], await certVerifier([tsa.certificateChainPem])), 'TIMESTAMP_INVALID');
    expect(err.message).toMatch(/is not a trusted TSA certificate at .*does not chain to any trusted certificate/);
    expect((await verify(signed['cert-other-tsa'], await certVerifier([otherChain]))).signer.timestamps?.[0]?.verified).toBe(true);
  });

  it('a stamped time outside the signing certificate validity (CERT_CHAIN_INVALID)', async () => {
    const expired = await expectCode(verify(signed['cert-expired'], await certVerifier([tsa.certificateChainPem])), 'CERT_CHAIN_INVALID');
    expect(expired.message).toMatch(/'CN=expired' has expired.*verified RFC 3161 timestamp/);
    const future = await expectCode(verify(signed['cert-future'], await certVerifier([tsa.certificateChainPem])), 'CERT_CHAIN_INVALID');
    expect(future.message).toMatch(/'CN=future' is not valid yet/);
  });

  it('a timestamp over other bytes (TIMESTAMP_INVALID), with TSA certificates or without', async () => {
    const { token } = await partsOf(signed['cert']);
    const moved = await withTimestamps(signed['key-no-timestamp'], 'moved-token', [token]);
    for (const chain of [[tsa.certificateChainPem], undefined]) {
      const err = await expectCode(verify(moved, await keyVerifier(chain)), 'TIMESTAMP_INVALID');
      expect(err.message).toMatch(/stamps other bytes than this signature/);
    }
  });

  it('a token that is no timestamp (TIMESTAMP_INVALID), one that is not base64 (BAD_BUNDLE)', async () => {
    const garbage = await withTimestamps(signed['key'], 'garbage-token', [new Uint8Array(64).fill(0x30)]);
    for (const chain of [[tsa.certificateChainPem], undefined])
      await expectCode(verify(garbage, await keyVerifier(chain)), 'TIMESTAMP_INVALID');
    await expectCode(verify(await withTimestamps(signed['key'], 'not-base64', ['!!']), await keyVerifier()), 'BAD_BUNDLE');
    const bundle = await readBundle(signed['key']);
    bundle.verificationMaterial['timestampVerificationData'] = { rfc3161Timestamps: {} };
    await fs.writeFile(path.join(work, 'not-a-list.sig'), JSON.stringify(bundle));
    await expectCode(verify(path.join(work, 'not-a-list.sig'), await keyVerifier()), 'BAD_BUNDLE');
  });

  it('a bad timestamp beside a good one (never skipped)', async () => {
    const { token } = await partsOf(signed['key']);
    const { token: foreign } = await partsOf(signed['key-other-tsa']);
    const both = await withTimestamps(signed['key'], 'good-and-foreign', [token, foreign]);
    await expectCode(verify(both, await keyVerifier([tsa.certificateChainPem])), 'TIMESTAMP_INVALID');
    const twice = await withTimestamps(signed['cert'], 'good-twice', [
      (await partsOf(signed['cert'])).token,
      (await partsOf(signed['cert'])).token,
    ]);
    expect((await verify(twice, await certVerifier([tsa.certificateChainPem]))).signer.timestamps).toHaveLength(2);
  });
});

const TST_INFO = '1.2.840.113549.1.9.16.1.4';
const SHA256 = '2.16.840.1.101.3.4.2.1';
const pemDer = (pem: string) => new Uint8Array(Buffer.from(pem.replace(/-----(BEGIN|END) [A-Z ]+-----|\s/g, ''), 'base64'));

/**
 * A TimeStampResp made here with PKI.js (as @sigstore/mock's TSA makes
 * them), signed by any certificate and key: for the rules no real TSA (and
 * no openssl) lets one break, such as signing with a certificate that is
 * not a TSA's.
 */
async function craftedToken(signature: Uint8Array, certFile: string, keyFile: string): Promise<Uint8Array> {
  const cert = pkijs.Certificate.fromBER(pemDer(await fs.readFile(certFile, 'utf8')));
  const key = await crypto.subtle.importKey(
    'pkcs8',
    pemDer(await fs.readFile(keyFile, 'utf8')),
    { name: 'ECDSA', namedCurve: 'P-256' },
    false,
    ['sign'],
  );
  const tstInfo = new pkijs.TSTInfo({
    version: 1,
    policy: '1.3.6.1.4.1.57264.2',
    messageImprint: new pkijs.MessageImprint({
      hashAlgorithm: new pkijs.AlgorithmIdentifier({ algorithmId: SHA256 }),
      hashedMessage: new asn1js.OctetString({ valueHex: createHash('sha256').update(signature).digest() }),
    }),
    serialNumber: new asn1js.Integer({ value: 7 }),
    genTime: new Date(Math.floor(Date.now() / 1000) * 1000),
  });
  const tstDer = tstInfo.toSchema().toBER(false);
  const content = new pkijs.EncapsulatedContentInfo({ eContentType: TST_INFO });
  content.eContent = new asn1js.OctetString({ valueHex: tstDer });
  const signedData = new pkijs.SignedData({
    version: 3,
    encapContentInfo: content,
    certificates: [cert],
    signerInfos: [
      new pkijs.SignerInfo({
        version: 1,
        sid: new pkijs.IssuerAndSerialNumber({ issuer: cert.issuer, serialNumber: cert.serialNumber }),
        signedAttrs: new pkijs.SignedAndUnsignedAttributes({
          type: 0,
          attributes: [
            new pkijs.Attribute({ type: '1.2.840.113549.1.9.3', values: [new asn1js.ObjectIdentifier({ value: TST_INFO })] }),
            new pkijs.Attribute({
              type: '1.2.840.113549.1.9.4',
              values: [new asn1js.OctetString({ valueHex: createHash('sha256').update(Buffer.from(tstDer)).digest() })],
            }),
          ],
        }),
      }),
    ],
  });
  await signedData.sign(key, 0, 'SHA-256');
  const response = new pkijs.TimeStampResp({
    status: new pkijs.PKIStatusInfo({ status: 0 }),
    timeStampToken: new pkijs.ContentInfo({ contentType: '1.2.840.113549.1.7.2', content: signedData.toSchema(true) }),
  });
  return new Uint8Array(response.toSchema().toBER(false));
}

/**
 * A TSA of our own, made with openssl (no server): a root and, for the TSA's
 * key, certificates with the given extensions.
 */
function ownTsa(dir: string): { root: string; key: string; issue(name: string, extensions: string[]): string } {
  fsSync.mkdirSync(dir, { recursive: true });
  const run = (args: string[]) => execFileSync('openssl', args, { cwd: dir });
  run(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-out', 'root.key']);
  run([
    'req',
    '-x509',
    '-new',
    '-key',
    'root.key',
    '-subj',
    '/CN=Own TSA Root',
    '-days',
    '30',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign',
    '-out',
    'root.pem',
  ]);
  run(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-out', 'tsa.key']);
  const issue = (name: string, extensions: string[]) => {
    fsSync.writeFileSync(path.join(dir, `${name}.ext`), ['basicConstraints=critical,CA:FALSE', ...extensions].join('\n') + '\n');
    run(['req', '-new', '-key', 'tsa.key', '-subj', `/CN=${name}`, '-out', `${name}.csr`]);
    run([
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'root.pem',
      '-CAkey',
      'root.key',
      '-CAcreateserial',
      '-days',
      '30',
      '-extfile',
      `${name}.ext`,
      '-out',
      `${name}.pem`,
    ]);
    return path.join(dir, `${name}.pem`);
  };
  return { root: fsSync.readFileSync(path.join(dir, 'root.pem'), 'utf8'), key: path.join(dir, 'tsa.key'), issue };
}

describe('the TSA certificate must be one (RFC 3161 §2.3: extended key usage timeStamping alone, critical)', () => {
  let own: ReturnType<typeof ownTsa>;
  beforeAll(() => {
    own = ownTsa(path.join(work, 'own-tsa'));
  });

  it('a token a proper TSA certificate signs verifies (the control)', async () => {
    const { signature } = await partsOf(signed['key']);
    const cert = own.issue('tsa', ['keyUsage=critical,digitalSignature', 'extendedKeyUsage=critical,timeStamping']);
    const stamped = await withTimestamps(signed['key'], 'crafted-control', [await craftedToken(signature, cert, own.key)]);
    expect((await verify(stamped, await keyVerifier([own.root]))).signer.timestamps?.[0]?.verified).toBe(true);
  });

  it.each([
    ['a code-signing certificate', ['keyUsage=critical,digitalSignature', 'extendedKeyUsage=codeSigning']],
    ['timeStamping not critical', ['keyUsage=critical,digitalSignature', 'extendedKeyUsage=timeStamping']],
    ['timeStamping beside another usage', ['keyUsage=critical,digitalSignature', 'extendedKeyUsage=critical,timeStamping,codeSigning']],
    ['no extended key usage', ['keyUsage=critical,digitalSignature']],
  ])('refuses a token signed under the trusted root by %s (TIMESTAMP_INVALID)', async (name, extensions) => {
    const { signature } = await partsOf(signed['key']);
    const cert = own.issue(name.replace(/\W+/g, '-'), extensions);
    const stamped = await withTimestamps(signed['key'], `crafted-${name.replace(/\W+/g, '-')}`, [
      await craftedToken(signature, cert, own.key),
    ]);
    const err = await expectCode(verify(stamped, await keyVerifier([own.root])), 'TIMESTAMP_INVALID');
    expect(err.message).toMatch(/is not a timestamp authority certificate|may not be used for timestamps/);
  });
});

/**
 * A proxy in front of the real TSA that can rewrite the request (another
 * imprint, another nonce, no certReq) before forwarding it, or answer
 * itself (garbage, an HTTP error, nothing at all).
 */
async function misbehavingTsa(
  behaviour: 'other-imprint' | 'other-nonce' | 'no-certificate' | 'garbage' | 'http-500' | 'silent' | 'huge',
): Promise<{ url: string; authorizations: (string | undefined)[]; close(): Promise<void> }> {
  const authorizations: (string | undefined)[] = [];
  const server = http.createServer((req, res) => {
    authorizations.push(req.headers.authorization);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async (): Promise<void> => {
        if (behaviour === 'silent') return;
        if (behaviour === 'garbage') {
          res.writeHead(200, { 'Content-Type': 'application/timestamp-reply' }).end(Buffer.from('not a TimeStampResp'));
        } else if (behaviour === 'http-500') {
          res.writeHead(500).end('internal error');
        } else if (behaviour === 'huge') {
          res.writeHead(200).end(Buffer.alloc(2 * 1024 * 1024, 0x30));
        } else {
          const request = pkijs.TimeStampReq.fromBER(new Uint8Array(Buffer.concat(chunks)));
          if (behaviour === 'other-imprint')
            request.messageImprint.hashedMessage = new asn1js.OctetString({ valueHex: new Uint8Array(32).fill(7) });
          if (behaviour === 'other-nonce') request.nonce = new asn1js.Integer({ value: 42 });
          if (behaviour === 'no-certificate') request.certReq = false;
          const answer = await fetch(tsa.url, {
            method: 'POST',
            headers: { 'Content-Type': 'application/timestamp-query' },
            body: new Uint8Array(request.toSchema().toBER()),
          });
          res.writeHead(answer.status, { 'Content-Type': 'application/timestamp-reply' }).end(Buffer.from(await answer.arrayBuffer()));
        }
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/timestamp`,
    authorizations,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('a timestamp authority that fails at signing: the sign fails with its code and nothing is written', () => {
  it.each([
    ['stamps other bytes', 'other-imprint', 'TIMESTAMP_INVALID', /stamps other bytes/],
    ['answers another nonce', 'other-nonce', 'TIMESTAMP_INVALID', /nonce is not the one sent/],
    ['leaves its certificate out', 'no-certificate', 'TIMESTAMP_INVALID', /certReq/],
    ['answers garbage', 'garbage', 'TIMESTAMP_INVALID', /not a DER TimeStampResp/],
    ['answers too much', 'huge', 'TIMESTAMP_INVALID', /more than 1048576 bytes/],
    ['answers an HTTP error', 'http-500', 'NETWORK_ERROR', /HTTP 500: internal error/],
  ] as const)('a TSA that %s', async (_, behaviour, code, message) => {
    const proxy = await misbehavingTsa(behaviour);
    try {
      const signaturePath = path.join(work, `failed-${behaviour}.sig`);
      const err = await expectCode(
        signModel({ modelPath: model, signaturePath, signer: await keySigner(), timestampAuthority: { url: proxy.url } }),
        code,
      );
      expect(err.message).toMatch(message);
      expect(err.message).toContain(proxy.url);
      expect(await exists(signaturePath)).toBe(false);
    } finally {
      await proxy.close();
    }
  });

  it('a TSA that does not answer in time (NETWORK_ERROR), or a sign aborted while waiting (ABORTED)', async () => {
    const proxy = await misbehavingTsa('silent');
    try {
      const signaturePath = path.join(work, 'failed-silent.sig');
      const slow = signModel({
        modelPath: model,
        signaturePath,
        signer: await keySigner(),
        timestampAuthority: { url: proxy.url, timeoutMs: 300 },
      });
      expect((await expectCode(slow, 'NETWORK_ERROR')).message).toMatch(/did not answer within 300 ms/);
      const controller = new AbortController();
      const aborted = signModel({
        modelPath: model,
        signaturePath,
        signer: await keySigner(),
        abortSignal: controller.signal,
        timestampAuthority: { url: proxy.url },
      });
      setTimeout(() => controller.abort(), 300);
      await expectCode(aborted, 'ABORTED');
      expect(await exists(signaturePath)).toBe(false);
    } finally {
      await proxy.close();
    }
  });

  it('a TSA that is down (NETWORK_ERROR), leaving an existing signature as it was', async () => {
    const down = await misbehavingTsa('garbage');
    await down.close();
    const signaturePath = path.join(work, 'existing.sig');
    await fs.writeFile(signaturePath, 'previous signature');
    const err = await expectCode(
      signModel({ modelPath: model, signaturePath, signer: await keySigner(), timestampAuthority: { url: down.url } }),
      'NETWORK_ERROR',
    );
    expect(err.message).toMatch(/cannot be reached/);
    expect(await fs.readFile(signaturePath, 'utf8')).toBe('previous signature');
    // A password in the URL never reaches a message.
    const withPassword = down.url.replace('http://', 'http://user:s3cret@');
    const refused = await expectCode(
      signModel({ modelPath: model, signaturePath, signer: await keySigner(), timestampAuthority: { url: withPassword } }),
      'NETWORK_ERROR',
    );
    expect(refused.message).toContain(down.url);
    expect(refused.message).not.toContain('s3cret');
  });

  it('sends a user name and password in the URL as HTTP Basic authentication', async () => {
    const proxy = await misbehavingTsa('other-nonce');
    try {
      const url = proxy.url.replace('http://', 'http://ts%20user:s3cret@');
      const err = await expectCode(
        signModel({ modelPath: model, signaturePath: path.join(work, 'auth.sig'), signer: await keySigner(), timestampAuthority: { url } }),
        'TIMESTAMP_INVALID',
      );
      expect(proxy.authorizations).toEqual([`Basic ${Buffer.from('ts user:s3cret').toString('base64')}`]);
      expect(err.message).not.toContain('s3cret');
    } finally {
      await proxy.close();
    }
  });

  it('refuses a URL that is not http(s), and a keyless signer (Sigstore timestamps through its own TSA) with INVALID_ARGUMENT', async () => {
    const signaturePath = path.join(work, 'refused.sig');
    await expectCode(
      signModel({ modelPath: model, signaturePath, signer: await keySigner(), timestampAuthority: { url: 'ftp://tsa.example/' } }),
      'INVALID_ARGUMENT',
    );
    const instance = await startMockInstance();
    try {
      const sigstore = await SigstoreSigner.create({ trustConfig: instance.trustConfigPath, identityToken: 'unused' });
      await expectCode(
        signModel({ modelPath: model, signaturePath, signer: sigstore, timestampAuthority: { url: tsa.url } }),
        'INVALID_ARGUMENT',
      );
      expect(instance.requests).toEqual([]);
    } finally {
      await instance.close();
    }
    expect(await exists(signaturePath)).toBe(false);
  });

  it('requestTimestamp returns the token, its time and its authority', async () => {
    const signature = new Uint8Array([1, 2, 3]);
    const stamp = await requestTimestamp({ url: tsa.url, signature });
    expect(stamp.authority).toMatch(/Test TSA/);
    const anchors = parsePemCertificates([tsa.certificateChainPem], 'chain');
    expect(await verifyTimestamp({ token: stamp.token, signature, authorities: [{ anchors }] })).toMatchObject({ time: stamp.time });
  });
});

describe('timestamps other RFC 3161 clients wrote verify with the same token verifier', () => {
  it("sigstore-js's TSA witness (as Sigstore bundles get theirs: no nonce, no certificate in the token)", async () => {
    const { signature } = await partsOf(signed['key']);
    const witness = new TSAWitness({ tsaBaseURL: tsa.url.replace(/\/api\/v1\/timestamp$/, '') });
    const { rfc3161Timestamps } = await witness.testify({
      $case: 'dsseEnvelope',
      dsseEnvelope: { payload: Buffer.alloc(0), payloadType: '', signatures: [{ sig: signature, keyid: '' }] },
    });
    const stamped = await withTimestamps(signed['key'], 'sigstore-js-witness', [rfc3161Timestamps[0].signedTimestamp]);
    // Without a certificate in the token, the TSA's own certificate must be among those trusted.
    expect((await verify(stamped, await keyVerifier([tsa.certificateChainPem]))).signer.timestamps?.[0]?.verified).toBe(true);
    const err = await expectCode(verify(stamped, await keyVerifier([tsaIssuersPem(tsa.certificateChainPem)])), 'TIMESTAMP_INVALID');
    expect(err.message).toMatch(/not signed by a certificate of this timestamp authority/);
  });

  it('openssl ts without a nonce (as sigstore-go asks)', async () => {
    const { signature } = await partsOf(signed['cert']);
    await fs.writeFile(path.join(work, 'signature.bin'), signature);
    execFileSync('openssl', [
      'ts',
      '-query',
      '-data',
      path.join(work, 'signature.bin'),
      '-sha256',
      '-cert',
      '-no_nonce',
      '-out',
      path.join(work, 'query.tsq'),
    ]);
    const answer = await fetch(tsa.url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/timestamp-query' },
      body: await fs.readFile(path.join(work, 'query.tsq')),
    });
    const stamped = await withTimestamps(signed['cert'], 'openssl-ts', [new Uint8Array(await answer.arrayBuffer())]);
    expect((await verify(stamped, await certVerifier([tsaIssuersPem(tsa.certificateChainPem)]))).signer.timestamps?.[0]?.verified).toBe(
      true,
    );
  });

  it("Sigstore's production TSA (model_signing 1.1.0's keyless bundle), with its chain given as PEM", async () => {
    const bundle = await readBundle(path.join(HISTORICAL, 'v1.1.0-sigstore/model.sig'));
    const token = Buffer.from(
      (bundle.verificationMaterial['timestampVerificationData'] as { rfc3161Timestamps: { signedTimestamp: string }[] })
        .rfc3161Timestamps[0].signedTimestamp,
      'base64',
    );
    const signature = Buffer.from(bundle.dsseEnvelope.signatures[0].sig, 'base64');
    const { PRODUCTION_TRUSTED_ROOT } = await import('../dist/methods/sigstore/web/production-root.js');
    const root = PRODUCTION_TRUSTED_ROOT as { timestampAuthorities: { certChain: { certificates: { rawBytes: string }[] } }[] };
    const pems = root.timestampAuthorities[0].certChain.certificates.map(
      (c) => `-----BEGIN CERTIFICATE-----\n${c.rawBytes}\n-----END CERTIFICATE-----\n`,
    );
    const anchors = parsePemCertificates(pems, 'production TSA chain');
    const verified = await verifyTimestamp({ token, signature, authorities: [{ anchors }] });
    expect(verified.authority).toBe('O=sigstore.dev, CN=sigstore-tsa');
    expect(verified.time.getUTCFullYear()).toBe(2025);
    await expectCode(verifyTimestamp({ token, signature: Buffer.from('other bytes'), authorities: [{ anchors }] }), 'TIMESTAMP_INVALID');
    const ours = parsePemCertificates([tsa.certificateChainPem], 'test TSA chain');
    await expectCode(verifyTimestamp({ token, signature, authorities: [{ anchors: ours }] }), 'TIMESTAMP_INVALID');
  });
});
