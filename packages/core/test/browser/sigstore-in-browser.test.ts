/**
 * Keyless verification in real Chromium: every case of the shared Sigstore
 * table (test/sigstore-web/verdict-table.ts: the reference's production
 * bundles, bundles signed here against the loopback Sigstore instance and
 * verified in the page with that instance's trusted root, and every refusal)
 * gets from WebSigstoreVerifier in the page the verdict and code the table
 * expects, which is the one the Node verifier (sigstore-js) gives; and a
 * model signed against the loopback instance loads through
 * fetchVerifiedModel, but not after one of its bytes changes.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs } from '../helpers.js';
import { verdictOf, type Verdict } from '../sigstore-web/cases.js';
import { MOCK_IDENTITY, MOCK_ISSUER, nodeSigstoreVerifier, sigstoreTable } from '../sigstore-web/verdict-table.js';
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

describe('a model signed against the loopback instance, loaded in Chromium', () => {
  const options = () => ({ identity: MOCK_IDENTITY, identityProvider: MOCK_ISSUER, trustedRoot: table.mock.trustConfig });

  /** Serves the model at `/<prefix>/`, `weights.bin` with one byte flipped when `changed`; returns each file's SHA-256. */
  async function serveModel(prefix: string, changed: boolean): Promise<Record<string, string>> {
    const digests: Record<string, string> = {};
    for (const name of await fs.readdir(table.mock.modelDir)) {
      const bytes = await fs.readFile(path.join(table.mock.modelDir, name));
      if (changed && name === 'weights.bin') bytes[100] = bytes[100] ^ 0x01;
      browser.serve(`${prefix}/${name}`, bytes);
      digests[name] = createHash('sha256').update(bytes).digest('hex');
    }
    browser.serve(`${prefix}/model.sig`, await fs.readFile(table.mock.signaturePath));
    return digests;
  }

  it('returns the signed files with the instance trusted root, naming the signer', async () => {
    const digests = await serveModel('mock-model', false);
    const outcome = await browser.call<SigstoreFetchOutcome>('fetchSigstoreModel', 'mock-model/', options());
    expect(outcome).toEqual({
      ok: true,
      files: digests,
      signer: { method: 'sigstore', identity: MOCK_IDENTITY, issuer: MOCK_ISSUER, trustRoot: 'custom trust config' },
    });
  });

  it('refuses the model after one changed byte with DIGEST_MISMATCH, naming the file', async () => {
    await serveModel('mock-model-changed', true);
    const outcome = await browser.call<SigstoreFetchOutcome>('fetchSigstoreModel', 'mock-model-changed/', options());
    expect(outcome).toMatchObject({ ok: false, code: 'DIGEST_MISMATCH', path: 'weights.bin' });
  });
});
