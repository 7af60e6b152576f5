// fetchVerifiedModel in Node, against a loopback server: the HTTP source read
// through the session, with the bounds a hostile server must not get past
// (an endless body, an announced size over the limit) and the argument checks.
import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MAX_FILE_BYTES, KeySigner, KeyVerifier, fetchVerifiedModel, signModel, type Verifier } from '../dist/index.js';
import { cleanupTempDirs, ecKeyPair, expectCode, tempDir, writeTree } from './helpers.js';

const FILES = { 'weights.bin': Buffer.alloc(200_000, 3), 'config.json': Buffer.from('{"a":1}') };
let server: http.Server;
let base: string;
let verifier: Verifier;
let otherVerifier: Verifier;
const routes = new Map<string, (res: http.ServerResponse) => void>();
const requests = new Map<string, number>();
let closedEndless = false;

beforeAll(async () => {
  const keys = ecKeyPair();
  verifier = await KeyVerifier.create({ publicKey: keys.publicKey });
  const dir = await tempDir();
  await writeTree(dir, FILES);
  const signaturePath = path.join(await tempDir(), 'model.sig');
  await signModel({ modelPath: dir, signaturePath, signer: await KeySigner.create({ privateKey: keys.privateKey }) });
  const bundle = await fs.readFile(signaturePath);
  // A claims file as the signature: line 1 by the key trusted here, line 2 by another key, line 3 not a bundle.
  const other = ecKeyPair();
  otherVerifier = await KeyVerifier.create({ publicKey: other.publicKey });
  const claimsPath = path.join(await tempDir(), 'claims.jsonl');
  await signModel({ modelPath: dir, signaturePath: claimsPath, signer: await KeySigner.create({ privateKey: keys.privateKey }) });
  await signModel({ modelPath: dir, signaturePath: claimsPath, signer: await KeySigner.create({ privateKey: other.privateKey }) });
  await fs.appendFile(claimsPath, 'not a bundle\n');
  const claims = await fs.readFile(claimsPath);
  const file = (bytes: Uint8Array) => (res: http.ServerResponse) => res.writeHead(200, { 'content-length': bytes.length }).end(bytes);
  routes.set('/claims/claims.jsonl', file(claims));
  for (const prefix of ['good', 'endless', 'announced', 'claims']) {
    routes.set(`/${prefix}/model.sig`, file(bundle));
    routes.set(`/${prefix}/config.json`, file(FILES['config.json']));
    routes.set(`/${prefix}/weights.bin`, file(FILES['weights.bin']));
  }
  routes.set('/endless/weights.bin', (res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    res.on('close', () => (closedEndless = true));
    const chunk = Buffer.alloc(64 * 1024, 7);
    const pump = () => {
      while (!res.destroyed && res.write(chunk));
      if (!res.destroyed) res.once('drain', pump);
    };
    pump();
  });
  routes.set('/announced/weights.bin', (res) => {
    // Announces far more than the limit and would send it slowly: refused before a byte is read.
    res.writeHead(200, { 'content-length': 10 * 1024 * 1024 * 1024 });
    res.write(Buffer.alloc(16));
  });
  server = http.createServer((req, res) => {
    requests.set(req.url!, (requests.get(req.url!) ?? 0) + 1);
    const route = routes.get(req.url!);
    if (route) route(res);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await cleanupTempDirs();
});

describe('fetchVerifiedModel in Node', () => {
  it('returns every signed file, fetching the signature once', async () => {
    const model = await fetchVerifiedModel({ baseUrl: `${base}/good/`, verifier });
    expect([...model.files.keys()].sort()).toEqual(['config.json', 'weights.bin']);
    expect(Buffer.from(model.files.get('weights.bin')!).equals(FILES['weights.bin'])).toBe(true);
    expect(requests.get('/good/model.sig')).toBe(1);
  });

  it('reads a claims.jsonl as the signature: the newest OMS line the verifier accepts counts, and the result says which', async () => {
    const signatureUrl = `${base}/claims/claims.jsonl`;
    const model = await fetchVerifiedModel({ baseUrl: `${base}/claims/`, signatureUrl, verifier });
    expect([...model.files.keys()].sort()).toEqual(['config.json', 'weights.bin']);
    expect(model.source).toMatchObject({ layout: 'claims', line: 1, lines: 3, warnings: [{ code: 'CLAIM_NOT_JSON', line: 3 }] });
    expect((await fetchVerifiedModel({ baseUrl: `${base}/claims/`, signatureUrl, verifier: otherVerifier })).source).toMatchObject({
      layout: 'claims',
      line: 2,
    });
    expect(requests.get('/claims/claims.jsonl')).toBe(2);
    expect((await fetchVerifiedModel({ baseUrl: `${base}/good/`, verifier })).source).toEqual({ layout: 'bundle', warnings: [] });
  });

  it('stops an endless body at maxFileBytes with BODY_TOO_LARGE, and closes the connection', async () => {
    const started = Date.now();
    const err = await expectCode(
      fetchVerifiedModel({ baseUrl: `${base}/endless`, files: ['weights.bin'], verifier, maxFileBytes: 2 * 1024 * 1024 }),
      'BODY_TOO_LARGE',
      'weights.bin',
    );
    expect(err.message).toContain('maxFileBytes');
    expect(Date.now() - started).toBeLessThan(10_000);
    await expect.poll(() => closedEndless, { timeout: 10_000 }).toBe(true);
  });

  it('refuses a Content-Length over the limit before reading the body; the default limit is 2 GiB', async () => {
    expect(DEFAULT_MAX_FILE_BYTES).toBe(2 * 1024 ** 3);
    await expectCode(
      fetchVerifiedModel({ baseUrl: `${base}/announced/`, files: ['weights.bin'], verifier }),
      'BODY_TOO_LARGE',
      'weights.bin',
    );
  });

  it('refuses bad arguments with INVALID_ARGUMENT before any request', async () => {
    const before = requests.size;
    // No page to resolve a relative URL against in Node.
    await expectCode(fetchVerifiedModel({ baseUrl: 'models/good/', verifier }), 'INVALID_ARGUMENT');
    await expectCode(fetchVerifiedModel({ baseUrl: `${base}/good/`, verifier, maxFileBytes: 0 }), 'INVALID_ARGUMENT');
    await expectCode(fetchVerifiedModel({ baseUrl: `${base}/good/`, verifier, maxBundleBytes: -1 }), 'INVALID_ARGUMENT');
    expect(requests.size).toBe(before);
  });
});
