/**
 * Verification in real Chromium, end to end, through the browser entry
 * (`@model-signing/core/browser`, bundled with Node built-ins refused):
 * - every key and certificate vector of the reference and the OMS spec gets
 *   the verdict Node's verifiers give, and its model loads through
 *   fetchVerifiedModel from a loopback server (and fails after one changed byte);
 * - the reference's production Sigstore-signed model loads through
 *   fetchVerifiedModel with WebSigstoreVerifier (the keyless verdicts are
 *   in sigstore-in-browser.test.ts);
 * - fetchVerifiedModel refuses every way a server or a caller can go wrong,
 *   with its code and the file named, and never returns unverified bytes.
 */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import type http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CertificateVerifier, KeySigner, KeyVerifier, signModel, type Verifier } from '../../dist/index.js';
import { HISTORICAL, REFERENCE_KEYS, SPEC_VECTORS, cleanupTempDirs, ecKeyPair, tempDir, writeTree } from '../helpers.js';
import { verdictOf, type Verdict } from '../sigstore-web/cases.js';
import { startBrowser, type BrowserHarness } from './harness.js';
import type { FetchCall, FetchOutcome, VerifierSpec } from './page/verify-page.js';

const PROD_IDENTITY = 'stefanb@us.ibm.com';
const PROD_ISSUER = 'https://sigstore.verify.ibm.com/oauth2';
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const read = (file: string) => fs.readFile(file, 'utf8');

let browser: BrowserHarness;
const fetchModel = (call: FetchCall) => browser.call<FetchOutcome>('fetchModel', call);
const bundleVerdict = (bundle: string, spec: VerifierSpec) => browser.call<Verdict>('bundleVerdict', bundle, spec);

/** Serves every file of a directory at `/<prefix>/<name>`, the file `changed` with its first byte flipped; returns the bytes served. */
async function serveDir(dir: string, prefix: string, changed?: string): Promise<Map<string, Buffer>> {
  const served = new Map<string, Buffer>();
  for (const name of await fs.readdir(dir)) {
    const bytes = await fs.readFile(path.join(dir, name));
    if (name === changed) bytes[0] = bytes[0] ^ 1;
    browser.serve(`${prefix}/${name}`, bytes);
    served.set(name, bytes);
  }
  return served;
}

/** The page's and Node's verdicts agree: same signer, or same code. */
function expectSameVerdict(web: Verdict, node: Verdict): void {
  if (web.ok && node.ok) expect(web.signer).toEqual(node.signer);
  else expect({ ok: web.ok, code: web.ok ? undefined : web.code }).toEqual({ ok: node.ok, code: node.ok ? undefined : node.code });
}

beforeAll(async () => {
  browser = await startBrowser({ entry: new URL('./page/verify-page.ts', import.meta.url).pathname });
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await cleanupTempDirs();
});

describe('key and certificate vectors in Chromium, as in Node', () => {
  const publicKeyPem = () => read(path.join(REFERENCE_KEYS, 'signing-key-pub.pem'));
  const caPem = () => read(path.join(REFERENCE_KEYS, 'ca-cert.pem'));
  const keySpec = async (): Promise<VerifierSpec> => ({ method: 'key', publicKeyPem: await publicKeyPem() });
  const certSpec = async (): Promise<VerifierSpec> => ({ method: 'certificate', certificateChainPem: [await caPem()] });
  const nodeKey = () => KeyVerifier.create({ publicKey: path.join(REFERENCE_KEYS, 'signing-key-pub.pem') });
  const nodeCert = () => CertificateVerifier.create({ certificateChain: [path.join(REFERENCE_KEYS, 'ca-cert.pem')] });

  const CASES: { dir: string; method: 'key' | 'certificate'; model?: string }[] = [
    ...['v0.2.0', 'v0.3.1', 'v1.0.0', 'v1.0.1', 'v1.1.0'].map((v) => ({ dir: `${v}-certificate`, method: 'certificate' as const })),
    { dir: 'v0.3.1-elliptic-key', method: 'key', model: 'signme-1' },
    { dir: 'v1.0.0-elliptic-key', method: 'key', model: 'signme-1' },
    { dir: 'v1.0.1-elliptic-key', method: 'key' },
    { dir: 'v1.1.0-elliptic-key', method: 'key' },
  ];

  for (const c of CASES) {
    const dir = path.join(HISTORICAL, c.dir);
    const spec = () => (c.method === 'key' ? keySpec() : certSpec());
    const node = () => (c.method === 'key' ? nodeKey() : nodeCert());
    // A single-file model is fetched from the file's own URL; a folder from the folder's.
    const call = (prefix: string, verifier: VerifierSpec): FetchCall => ({
      baseUrl: c.model ? `${prefix}/${c.model}` : `${prefix}/`,
      signatureUrl: `${prefix}/model.sig`,
      verifier,
    });

    it(`${c.dir}: the bundle gets Node's verdict, and the model loads with the bytes served`, async () => {
      const bundle = await read(path.join(dir, 'model.sig'));
      const web = await bundleVerdict(bundle, await spec());
      expect(web).toMatchObject({ ok: true });
      expectSameVerdict(web, await verdictOf(await node(), bundle));

      const served = await serveDir(dir, c.dir);
      const outcome = await fetchModel(call(c.dir, await spec()));
      expect(outcome, JSON.stringify(outcome)).toMatchObject({ ok: true });
      if (!outcome.ok) return;
      const expected = c.model
        ? { '.': served.get(c.model)! }
        : { 'signme-1': served.get('signme-1')!, 'signme-2': served.get('signme-2')! };
      expect(outcome.files).toEqual(
        Object.fromEntries(Object.entries(expected).map(([n, b]) => [n, { sha256: sha256(b), size: b.length }])),
      );
      if (web.ok) expect(outcome.signer).toEqual(web.signer);
    });

    it(`${c.dir}: refuses the model after one changed byte, naming the file`, async () => {
      const prefix = `${c.dir}-changed`;
      await serveDir(dir, prefix, c.model ?? 'signme-2');
      const outcome = await fetchModel(call(prefix, await spec()));
      expect(outcome).toMatchObject({ ok: false, code: 'DIGEST_MISMATCH', path: c.model ? '.' : 'signme-2' });
    });
  }

  it('the OMS spec bundles get the verdicts Node gives', async () => {
    const cases: [string, () => Promise<VerifierSpec>, () => Promise<Verifier>, string][] = [
      ['valid/key.bundle.json', keySpec, nodeKey, 'ok'],
      ['valid/certificate.bundle.json', certSpec, nodeCert, 'ok'],
      ['invalid/empty.bundle.json', keySpec, nodeKey, 'BAD_BUNDLE'],
      ['invalid/missing-envelope.bundle.json', keySpec, nodeKey, 'BAD_BUNDLE'],
      ['invalid/missing-verification-material.bundle.json', keySpec, nodeKey, 'BAD_BUNDLE'],
      ['invalid-payload/wrong-predicate.bundle.json', keySpec, nodeKey, 'SIGNATURE_INVALID'],
      ['invalid/missing-tlog-entries.bundle.json', keySpec, nodeKey, 'WRONG_METHOD'],
      ['valid/key.bundle.json', certSpec, nodeCert, 'WRONG_METHOD'],
    ];
    for (const [file, spec, node, code] of cases) {
      const bundle = await read(path.join(SPEC_VECTORS, file));
      const web = await bundleVerdict(bundle, await spec());
      expect(web.ok ? 'ok' : web.code, file).toBe(code);
      expectSameVerdict(web, await verdictOf(await node(), bundle));
    }
  });

  it("refuses a certificate bundle at a time outside the certificates' validity, as Node does", async () => {
    const bundle = await read(path.join(HISTORICAL, 'v1.1.0-certificate/model.sig'));
    const now = '2036-01-01T00:00:00Z';
    const web = await bundleVerdict(bundle, { method: 'certificate', certificateChainPem: [await caPem()], now });
    expect(web).toMatchObject({ ok: false, code: 'CERT_CHAIN_INVALID' });
    expectSameVerdict(
      web,
      await verdictOf(
        await CertificateVerifier.create({ certificateChain: [path.join(REFERENCE_KEYS, 'ca-cert.pem')], now: new Date(now) }),
        bundle,
      ),
    );
  });

  it('refuses a key bundle against another key, and a certificate bundle against an anchor off its path', async () => {
    const other = ecKeyPair('P-384');
    const keyBundle = await read(path.join(HISTORICAL, 'v1.1.0-elliptic-key/model.sig'));
    const web = await bundleVerdict(keyBundle, { method: 'key', publicKeyPem: other.publicKey });
    expect(web).toMatchObject({ ok: false, code: 'KEY_MISMATCH' });
    expectSameVerdict(web, await verdictOf(await KeyVerifier.create({ publicKey: other.publicKey }), keyBundle));
    // Before v1.1 the bundle embeds the signer's key rather than its hint.
    const oldBundle = await read(path.join(HISTORICAL, 'v1.0.0-elliptic-key/model.sig'));
    const oldWeb = await bundleVerdict(oldBundle, { method: 'key', publicKeyPem: other.publicKey });
    expectSameVerdict(oldWeb, await verdictOf(await KeyVerifier.create({ publicKey: other.publicKey }), oldBundle));
    expect(oldWeb.ok).toBe(false);

    const certBundle = await read(path.join(HISTORICAL, 'v1.1.0-certificate/model.sig'));
    // A public key is no certificate: refused when the verifier is built.
    const notACertificate = await read(path.join(REFERENCE_KEYS, 'signing-key-pub.pem'));
    await expect(bundleVerdict(certBundle, { method: 'certificate', certificateChainPem: [notACertificate] })).resolves.toMatchObject({
      ok: false,
      code: 'BAD_KEY',
    });
    // The production Sigstore bundle's leaf certificate did not issue the reference's signing certificate.
    const sigstoreLeaf = JSON.parse(await read(path.join(HISTORICAL, 'v1.1.0-sigstore/model.sig'))).verificationMaterial.certificate
      .rawBytes as string;
    const strangerPem = `-----BEGIN CERTIFICATE-----\n${sigstoreLeaf.match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----\n`;
    const certWeb = await bundleVerdict(certBundle, { method: 'certificate', certificateChainPem: [strangerPem] });
    expect(certWeb).toMatchObject({ ok: false, code: 'CERT_CHAIN_INVALID' });
    expectSameVerdict(certWeb, await verdictOf(await CertificateVerifier.create({ certificateChain: [strangerPem] }), certBundle));
  });
});

describe('a production Sigstore-signed model in Chromium', () => {
  // Keyless verdicts (every production vector, loopback-instance bundles, each refusal) are in sigstore-in-browser.test.ts.
  const identity = { method: 'sigstore', identity: PROD_IDENTITY, issuer: PROD_ISSUER } as const;

  it('loads the v1.1.0 Sigstore-signed model through fetchVerifiedModel', async () => {
    const served = await serveDir(path.join(HISTORICAL, 'v1.1.0-sigstore'), 'v1.1.0-sigstore');
    const outcome = await fetchModel({ baseUrl: 'v1.1.0-sigstore/', verifier: identity });
    expect(outcome).toMatchObject({ ok: true, signer: { identity: PROD_IDENTITY } });
    if (outcome.ok)
      expect(outcome.files['signme-1']).toEqual({ sha256: sha256(served.get('signme-1')!), size: served.get('signme-1')!.length });
  });
});

describe('fetchVerifiedModel refusals in Chromium', () => {
  const keys = ecKeyPair('P-256');
  const other = ecKeyPair('P-256');
  const verifier: VerifierSpec = { method: 'key', publicKeyPem: keys.publicKey };
  // Large enough to arrive in several chunks, so a response can be cut mid-file.
  const big = randomBytes(3 * 1024 * 1024);
  const small = Buffer.from('tokenizer config\n');
  let bundle: Buffer;
  let otherBundle: Buffer;
  /** Requests the server saw, by path. */
  const requests = new Map<string, number>();

  /** Serves `bytes` at `/<name>`, counting requests. */
  function counted(name: string, respond: (count: number, res: http.ServerResponse) => void): void {
    browser.route(name, (_req, res) => {
      const count = (requests.get(name) ?? 0) + 1;
      requests.set(name, count);
      respond(count, res);
    });
  }
  const ok = (bytes: Uint8Array) => (_: number, res: http.ServerResponse) =>
    res.writeHead(200, { 'content-length': bytes.length }).end(bytes);

  /** Serves the signed model at `/<prefix>/` with the given overrides. */
  function serveModel(prefix: string, overrides: Record<string, (count: number, res: http.ServerResponse) => void> = {}): void {
    const routes: Record<string, (count: number, res: http.ServerResponse) => void> = {
      'model.sig': ok(bundle),
      'weights.bin': ok(big),
      'tok/config.txt': ok(small),
      ...overrides,
    };
    for (const [name, respond] of Object.entries(routes)) counted(`${prefix}/${name}`, respond);
  }

  beforeAll(async () => {
    for (const [pair, set] of [
      [keys, (b: Buffer) => (bundle = b)],
      [other, (b: Buffer) => (otherBundle = b)],
    ] as const) {
      const dir = await tempDir();
      await writeTree(dir, { 'weights.bin': big, 'tok/config.txt': small });
      const sig = path.join(await tempDir(), 'model.sig');
      await signModel({ modelPath: dir, signaturePath: sig, signer: await KeySigner.create({ privateKey: pair.privateKey }) });
      set(await fs.readFile(sig));
    }
  });

  it('returns exactly the signed bytes, reporting progress', async () => {
    serveModel('good');
    const outcome = await fetchModel({ baseUrl: 'good', verifier });
    expect(outcome).toMatchObject({
      ok: true,
      files: { 'weights.bin': { sha256: sha256(big), size: big.length }, 'tok/config.txt': { sha256: sha256(small), size: small.length } },
    });
    if (outcome.ok) expect(outcome.progressEvents).toBeGreaterThan(1);
    const only = await fetchModel({ baseUrl: 'good/', files: ['tok/config.txt'], verifier });
    expect(only.ok && Object.keys(only.files)).toEqual(['tok/config.txt']);
  });

  // In the browser the manifest checker hashes with @noble/hashes: each
  // algorithm and the shard split must give the digests Node signed with
  // OpenSSL and the native BLAKE3.
  for (const [hashAlgorithm, method, shardSize] of [
    ['sha256', 'shards', 1_000_000],
    ['blake2b', 'files'],
    ['blake2b', 'shards', 777_777],
    ['blake3', 'files'],
    ['blake3', 'shards', 1_048_576],
  ] as const) {
    it(`loads a model signed with ${hashAlgorithm} ${method}${shardSize ? ` of ${shardSize} bytes` : ''} in Node, and refuses a changed byte`, async () => {
      const dir = await tempDir();
      await writeTree(dir, { 'weights.bin': big, 'tok/config.txt': small, 'empty.bin': '' });
      const sig = path.join(await tempDir(), 'model.sig');
      await signModel({
        modelPath: dir,
        signaturePath: sig,
        signer: await KeySigner.create({ privateKey: keys.privateKey }),
        hashAlgorithm,
        method,
        ...(shardSize ? { shardSize } : {}),
      });
      const prefix = `${hashAlgorithm}-${method}`;
      const signed = await fs.readFile(sig);
      serveModel(prefix, { 'model.sig': ok(signed), 'empty.bin': ok(new Uint8Array()) });
      const outcome = await fetchModel({ baseUrl: `${prefix}/`, files: ['weights.bin', 'tok/config.txt'], verifier });
      expect(outcome).toMatchObject({
        ok: true,
        files: { 'weights.bin': { sha256: sha256(big) }, 'tok/config.txt': { sha256: sha256(small) } },
      });
      const changed = Buffer.from(big);
      changed[big.length - 2] ^= 1;
      serveModel(`${prefix}-changed`, { 'model.sig': ok(signed), 'weights.bin': ok(changed) });
      // The error names the file; in shard mode its differences name the shard that changed.
      await expect(fetchModel({ baseUrl: `${prefix}-changed/`, files: ['weights.bin'], verifier })).resolves.toMatchObject({
        ok: false,
        code: 'DIGEST_MISMATCH',
        path: 'weights.bin',
        differences: [{ kind: 'mismatch', name: shardSize ? expect.stringMatching(/^weights\.bin:\d+:\d+$/) : 'weights.bin' }],
      });
    });
  }

  it('refuses a changed byte served, naming the file', async () => {
    const changed = Buffer.from(big);
    changed[big.length - 1] ^= 1;
    serveModel('changed', { 'weights.bin': ok(changed) });
    await expect(fetchModel({ baseUrl: 'changed/', verifier })).resolves.toMatchObject({
      ok: false,
      code: 'DIGEST_MISMATCH',
      path: 'weights.bin',
    });
  });

  it('refuses a file the signature does not list before fetching any file', async () => {
    serveModel('extra', { 'extra.txt': ok(small) });
    const outcome = await fetchModel({ baseUrl: 'extra/', files: ['weights.bin', 'extra.txt'], verifier });
    expect(outcome).toMatchObject({ ok: false, code: 'UNSIGNED_FILE', path: 'extra.txt' });
    expect([requests.get('extra/weights.bin'), requests.get('extra/extra.txt')]).toEqual([undefined, undefined]);
  });

  it('refuses a signed file the server does not have', async () => {
    serveModel('missing');
    browser.unserve('missing/tok/config.txt');
    await expect(fetchModel({ baseUrl: 'missing/', verifier })).resolves.toMatchObject({
      ok: false,
      code: 'MISSING_FILE',
      path: 'tok/config.txt',
    });
  });

  it('refuses a signature made by another key, before fetching any file', async () => {
    serveModel('other-key', { 'model.sig': ok(otherBundle) });
    await expect(fetchModel({ baseUrl: 'other-key/', verifier })).resolves.toMatchObject({ ok: false, code: 'KEY_MISMATCH' });
    // Without the hint the signature itself does not verify.
    const hintless = JSON.parse(otherBundle.toString());
    delete hintless.verificationMaterial.publicKey.hint;
    serveModel('other-key-no-hint', { 'model.sig': ok(Buffer.from(JSON.stringify(hintless))) });
    await expect(fetchModel({ baseUrl: 'other-key-no-hint/', verifier })).resolves.toMatchObject({ ok: false, code: 'SIGNATURE_INVALID' });
    expect(requests.get('other-key/weights.bin')).toBeUndefined();
  });

  it('refuses a truncated, a non-JSON, an oversized and a missing bundle', async () => {
    serveModel('truncated', { 'model.sig': ok(bundle.subarray(0, bundle.length >> 1)) });
    await expect(fetchModel({ baseUrl: 'truncated/', verifier })).resolves.toMatchObject({ ok: false, code: 'BAD_BUNDLE' });
    serveModel('not-json', { 'model.sig': ok(Buffer.from('<html>404 Not Found</html>')) });
    await expect(fetchModel({ baseUrl: 'not-json/', verifier })).resolves.toMatchObject({ ok: false, code: 'BAD_BUNDLE' });
    serveModel('oversized');
    await expect(fetchModel({ baseUrl: 'oversized/', verifier, maxBundleBytes: 1000 })).resolves.toMatchObject({
      ok: false,
      code: 'BUNDLE_TOO_LARGE',
    });
    await expect(fetchModel({ baseUrl: 'no-such-model/', verifier })).resolves.toMatchObject({ ok: false, code: 'NOT_FOUND' });
  });

  it('refuses a name with ../ before any request', async () => {
    serveModel('escape');
    for (const name of ['../weights.bin', 'tok/../../x', '/etc/passwd']) {
      await expect(fetchModel({ baseUrl: 'escape/', files: [name], verifier })).resolves.toMatchObject({
        ok: false,
        code: 'PATH_ESCAPE',
        path: name,
      });
    }
    expect(requests.get('escape/model.sig')).toBeUndefined();
  });

  it('refuses a response cut mid-file, naming the file', async () => {
    serveModel('cut', {
      'weights.bin': (_, res) => {
        res.writeHead(200, { 'content-length': big.length });
        res.write(big.subarray(0, big.length >> 1), () => res.destroy());
      },
    });
    await expect(fetchModel({ baseUrl: 'cut/', verifier })).resolves.toMatchObject({
      ok: false,
      code: 'NETWORK_ERROR',
      path: 'weights.bin',
    });
  });

  it('returns the bytes it hashed when the server changes them between requests', async () => {
    const changed = Buffer.from(big);
    changed[0] ^= 1;
    serveModel('flaky', { 'weights.bin': (count, res) => ok(count === 1 ? big : changed)(count, res) });
    await expect(fetchModel({ baseUrl: 'flaky/', verifier })).resolves.toMatchObject({
      ok: true,
      files: { 'weights.bin': { sha256: sha256(big) } },
    });
    expect(requests.get('flaky/weights.bin')).toBe(1);
    await expect(fetchModel({ baseUrl: 'flaky/', verifier })).resolves.toMatchObject({
      ok: false,
      code: 'DIGEST_MISMATCH',
      path: 'weights.bin',
    });
  });

  it('refuses an endless body at maxFileBytes, and an announced size over it before reading, with BODY_TOO_LARGE', async () => {
    let closed = false;
    serveModel('endless', {
      'weights.bin': (_, res) => {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        res.on('close', () => (closed = true));
        const chunk = Buffer.alloc(64 * 1024, 7);
        const pump = () => {
          while (!res.destroyed && res.write(chunk));
          if (!res.destroyed) res.once('drain', pump);
        };
        pump();
      },
    });
    await expect(fetchModel({ baseUrl: 'endless/', files: ['weights.bin'], verifier, maxFileBytes: 1024 * 1024 })).resolves.toMatchObject({
      ok: false,
      code: 'BODY_TOO_LARGE',
      path: 'weights.bin',
    });
    await expect.poll(() => closed, { timeout: 10_000 }).toBe(true);
    serveModel('announced');
    await expect(fetchModel({ baseUrl: 'announced/', files: ['weights.bin'], verifier, maxFileBytes: 1000 })).resolves.toMatchObject({
      ok: false,
      code: 'BODY_TOO_LARGE',
      path: 'weights.bin',
    });
  });

  it('rejects with ABORTED when cancelled mid-file', async () => {
    serveModel('aborted');
    await expect(fetchModel({ baseUrl: 'aborted/', verifier, abortAfterBytes: 1 })).resolves.toMatchObject({ ok: false, code: 'ABORTED' });
  });
});
