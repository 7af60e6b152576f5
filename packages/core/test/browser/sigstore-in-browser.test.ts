/**
 * Keyless verification in real Chromium: every case of the shared Sigstore
 * table (test/sigstore-web/verdict-table.ts: the reference's production
 * bundles, bundles signed here against the loopback Sigstore instances (real
 * servers with Rekor v2, and @sigstore/mock with Rekor v1) and verified in
 * the page with that instance's trusted root, and every refusal) gets from
 * WebSigstoreVerifier in the page the verdict and code the table expects,
 * which is the one the Node verifier (sigstore-js) gives; and a model signed
 * against the real instance loads through fetchVerifiedModel, but not after
 * one of its bytes changes.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs } from '../helpers.js';
import { verdictOf, type Verdict } from '../sigstore-web/cases.js';
import { REAL_IDENTITY, nodeSigstoreVerifier, sigstoreTable } from '../sigstore-web/verdict-table.js';
import { startBrowser, type BrowserHarness } from './harness.js';
import type { SigstoreFetchOutcome } from './page/sigstore-page.js';

const table = await sigstoreTable();
let browser: BrowserHarness;

beforeAll(async () => {
  browser = await startBrowser({ entry: new URL('./page/sigstore-page.ts', import.meta.url).pathname });
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await table.close();
  await cleanupTempDirs();
});

const codeOf = (v: Verdict) => (v.ok ? 'ok' : v.code);

describe('the shared Sigstore table in Chromium', () => {
  for (const c of table.cases) {
    it(`${c.name}: ${c.expected} in the page, as from the Node verifier`, async () => {
      const [page, node] = await Promise.all([
        browser.call<Verdict>('sigstoreVerdict', c.bundle, c.options),
        nodeSigstoreVerifier(c.options).then((v) => verdictOf(v, c.bundle)),
      ]);
      expect(codeOf(page), page.ok ? '' : page.message).toBe(c.expected);
      expect(codeOf(node), node.ok ? '' : node.message).toBe(c.expected);
      if (page.ok && node.ok) expect(page.signer).toEqual(node.signer);
    });
  }
});

describe('a model signed against the real loopback instance (Rekor v2), loaded in Chromium', () => {
  const options = () => ({ identity: REAL_IDENTITY, identityProvider: table.real.issuer, trustedRoot: table.real.trustConfig });

  /** Serves the model at `/<prefix>/`, `weights.bin` with one byte flipped when `changed`; returns each file's SHA-256. */
  async function serveModel(prefix: string, changed: boolean): Promise<Record<string, string>> {
    const digests: Record<string, string> = {};
    for (const name of await fs.readdir(table.real.modelDir)) {
      const bytes = await fs.readFile(path.join(table.real.modelDir, name));
      if (changed && name === 'weights.bin') bytes[100] = bytes[100] ^ 0x01;
      browser.serve(`${prefix}/${name}`, bytes);
      digests[name] = createHash('sha256').update(bytes).digest('hex');
    }
    browser.serve(`${prefix}/model.sig`, await fs.readFile(table.real.signaturePath));
    return digests;
  }

  it('returns the signed files with the instance trusted root, naming the signer', async () => {
    const digests = await serveModel('real-model', false);
    const outcome = await browser.call<SigstoreFetchOutcome>('fetchSigstoreModel', 'real-model/', options());
    expect(outcome).toEqual({
      ok: true,
      files: digests,
      signer: { method: 'sigstore', identity: REAL_IDENTITY, issuer: table.real.issuer, trustRoot: 'custom trust config' },
    });
  });

  it('refuses the model after one changed byte with DIGEST_MISMATCH, naming the file', async () => {
    await serveModel('real-model-changed', true);
    const outcome = await browser.call<SigstoreFetchOutcome>('fetchSigstoreModel', 'real-model-changed/', options());
    expect(outcome).toMatchObject({ ok: false, code: 'DIGEST_MISMATCH', path: 'weights.bin' });
  });
});
