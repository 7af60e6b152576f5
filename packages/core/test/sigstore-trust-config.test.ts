import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SigningConfig } from '@sigstore/protobuf-specs';
import { SigstoreVerifier, verifyModel } from '../dist/index.js';
import { loadTrustConfig } from '../dist/internal-node.js';
import { selectSigningServices } from '../dist/methods/sigstore/trust-config.js';
import { PRODUCTION_SIGNING_CONFIG } from '../dist/methods/sigstore/roots/production.js';
import { STAGING_SIGNING_CONFIG } from '../dist/methods/sigstore/roots/staging.js';
import { REFERENCE } from './helpers.js';

const VECTORS = REFERENCE;
let dir: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sigstore-trust-'));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe('trusted roots', () => {
  it('ships production and staging roots for offline use', async () => {
    const production = await loadTrustConfig({ offline: true });
    expect(production.source).toBe('production (bundled)');
    expect(production.trustedRoot.tlogs.map((t) => t.baseUrl)).toContain('https://rekor.sigstore.dev');
    expect(production.signingConfig.caUrls[0]?.url).toBe('https://fulcio.sigstore.dev');
    const staging = await loadTrustConfig({ useStaging: true, offline: true });
    expect(staging.source).toBe('staging (bundled)');
    expect(staging.trustedRoot.certificateAuthorities.map((c) => c.uri)).toEqual(['https://fulcio.sigstage.dev']);
    expect(staging.signingConfig.oidcUrls[0]?.url).toBe('https://oauth2.sigstage.dev/auth');
  });

  it('falls back to the bundled root, saying why, when TUF cannot be reached', async () => {
    const requests: string[] = [];
    const mirror = http.createServer((req, res) => {
      requests.push(req.url ?? '');
      res.writeHead(503).end();
    });
    await new Promise<void>((resolve) => mirror.listen(0, '127.0.0.1', resolve));
    try {
      // The production TUF root from @sigstore/tuf, served by a mirror that is down.
      const seeds = createRequire(import.meta.url)('@sigstore/tuf/seeds.json') as Record<string, Record<string, string>>;
      const rootPath = path.join(dir, 'root.json');
      await fs.writeFile(rootPath, Buffer.from(seeds['https://tuf-repo-cdn.sigstore.dev']['root.json'], 'base64'));
      const tuf = {
        mirrorUrl: `http://127.0.0.1:${(mirror.address() as AddressInfo).port}`,
        rootPath,
        cachePath: path.join(dir, 'tuf-cache'),
        timeoutMs: 2000,
      };
      const trust = await loadTrustConfig({ tuf });
      expect(trust.source).toBe('production (bundled)');
      expect(trust.tufError).toBeTruthy();
      expect(requests.length).toBeGreaterThan(0);

      // A verification still succeeds, offline from TUF's point of view.
      const historical = path.join(VECTORS, 'historical/v1.1.0-sigstore');
      const verifier = await SigstoreVerifier.create({
        identity: 'stefanb@us.ibm.com',
        identityProvider: 'https://sigstore.verify.ibm.com/oauth2',
        tuf,
      });
      const result = await verifyModel({ modelPath: historical, signaturePath: path.join(historical, 'model.sig'), verifier });
      expect(result.signer.trustRoot).toBe('production (bundled)');
    } finally {
      mirror.closeAllConnections();
      await new Promise<void>((resolve) => mirror.close(() => resolve()));
    }
  });

  it('reads a ClientTrustConfig written with snake_case keys, as sigstore-python accepts', async () => {
    const trust = await loadTrustConfig({ trustConfig: path.join(VECTORS, 'custom_trust_config.json') });
    expect(trust.source).toBe('custom trust config');
    expect(trust.signingConfig.caUrls.map((c) => c.url)).toContain('https://fulcio.sigstore.dev');
    expect(trust.trustedRoot.ctlogs).toHaveLength(2);
  });

  it('names the file and the problem for a missing or invalid trust config', async () => {
    await expect(loadTrustConfig({ trustConfig: path.join(dir, 'absent.json') })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const invalid = path.join(dir, 'invalid.json');
    await fs.writeFile(invalid, JSON.stringify({ mediaType: 'application/vnd.dev.sigstore.clienttrustconfig.v0.1+json', trustedRoot: {} }));
    await expect(loadTrustConfig({ trustConfig: invalid })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringContaining('signingConfig is missing'),
    });
    await fs.writeFile(invalid, '{"mediaType": "something else"}');
    await expect(loadTrustConfig({ trustConfig: invalid })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringContaining(invalid),
    });
  });
});

describe('choosing the services to sign with (selectSigningServices)', () => {
  const NOW = new Date('2026-12-07T12:00:00Z');
  const service = (url: string, majorApiVersion: number, start: string, end?: string, operator = 'sigstore.dev') => ({
    url,
    majorApiVersion,
    validFor: { start, ...(end ? { end } : {}) },
    operator,
  });
  const ca = service('https://fulcio.example', 1, '2022-01-01T00:00:00Z');
  const tsa = service('https://tsa.example/api/v1/timestamp', 1, '2025-01-01T00:00:00Z');
  const config = (json: Record<string, unknown>) =>
    SigningConfig.fromJSON({
      mediaType: 'application/vnd.dev.sigstore.signingconfig.v0.2+json',
      caUrls: [ca],
      oidcUrls: [],
      rekorTlogUrls: [],
      tsaUrls: [tsa],
      rekorTlogConfig: { selector: 'ANY' },
      tsaConfig: { selector: 'ANY' },
      ...json,
    });
  const select = (json: Record<string, unknown>, now = NOW) => selectSigningServices(config(json), 'test', now);
  const urls = (services: { url: string }[]) => services.map((s) => s.url);

  it('picks the newest Rekor v2 log of the shipped staging config, and the log of its day at earlier dates', async () => {
    const staging = SigningConfig.fromJSON(STAGING_SIGNING_CONFIG);
    const at = async (date: string) => (await selectSigningServices(staging, 'staging', new Date(date))).tlog;
    expect(await at('2026-12-07T00:00:00Z')).toMatchObject({ url: 'https://log2025-alpha3.rekor.sigstage.dev', majorApiVersion: 2 });
    expect((await at('2025-09-01T00:00:00Z')).url).toBe('https://log2025-alpha2.rekor.sigstage.dev');
    // Before any v2 log's window: the v1 log.
    expect(await at('2025-01-01T00:00:00Z')).toMatchObject({ url: 'https://rekor.sigstage.dev', majorApiVersion: 1 });
    const services = await selectSigningServices(staging, 'staging', NOW);
    expect(services.ca.url).toBe('https://fulcio.sigstage.dev');
    expect(services.oidc?.url).toBe('https://oauth2.sigstage.dev/auth');
    expect(urls(services.tsas)).toEqual(['https://timestamp.sigstage.dev/api/v1/timestamp']);
  });

  it('keeps the Rekor v1 log of the shipped production config, which lists no v2 log', async () => {
    const production = await selectSigningServices(SigningConfig.fromJSON(PRODUCTION_SIGNING_CONFIG), 'production', NOW);
    expect(production.tlog).toMatchObject({ url: 'https://rekor.sigstore.dev', majorApiVersion: 1 });
  });

  it('prefers the highest API version it speaks to the newest start, and skips versions it does not speak', async () => {
    const { tlog } = await select({
      rekorTlogUrls: [
        service('https://v3.example', 3, '2026-06-01T00:00:00Z'),
        service('https://v1-newer.example', 1, '2026-01-01T00:00:00Z'),
        service('https://v2.example', 2, '2025-01-01T00:00:00Z'),
      ],
    });
    expect(tlog.url).toBe('https://v2.example');
    const { ca: chosen } = await select({
      caUrls: [service('https://fulcio-v2.example', 2, '2026-01-01T00:00:00Z'), ca],
      rekorTlogUrls: [service('https://v1.example', 1, '2021-01-01T00:00:00Z')],
    });
    expect(chosen.url).toBe(ca.url);
  });

  it('takes only services whose validity window holds now, both ends included, and the newest of those', async () => {
    const logs = [
      service('https://future.example', 2, '2027-01-01T00:00:00Z'),
      service('https://ended.example', 2, '2025-01-01T00:00:00Z', '2026-01-01T00:00:00Z'),
      service('https://older.example', 2, '2025-06-01T00:00:00Z'),
      service('https://ends-now.example', 2, '2026-01-01T00:00:00Z', NOW.toISOString()),
    ];
    expect((await select({ rekorTlogUrls: logs })).tlog.url).toBe('https://ends-now.example');
    expect((await select({ rekorTlogUrls: logs }, new Date(NOW.getTime() + 1))).tlog.url).toBe('https://older.example');
    expect((await select({ rekorTlogUrls: [service('https://starts-now.example', 2, NOW.toISOString())] })).tlog.url).toBe(
      'https://starts-now.example',
    );
  });

  it('selects one service per operator, as many as the selector says', async () => {
    const tsas = [
      service('https://a-new.example', 1, '2026-01-01T00:00:00Z', undefined, 'a.example'),
      service('https://a-old.example', 1, '2025-01-01T00:00:00Z', undefined, 'a.example'),
      service('https://b.example', 1, '2025-06-01T00:00:00Z', undefined, 'b.example'),
    ];
    const log = service('https://log.example', 2, '2025-01-01T00:00:00Z');
    const withTsa = (tsaConfig: unknown) =>
      select({ rekorTlogUrls: [log], tsaUrls: tsas, ...(tsaConfig ? { tsaConfig } : { tsaConfig: undefined }) });
    expect(urls((await withTsa({ selector: 'ALL' })).tsas)).toEqual(['https://a-new.example', 'https://b.example']);
    expect(urls((await withTsa({ selector: 'ANY' })).tsas)).toEqual(['https://a-new.example']);
    expect(urls((await withTsa({ selector: 'EXACT', count: 2 })).tsas)).toEqual(['https://a-new.example', 'https://b.example']);
    // No selector: all, as sigstore-python takes them.
    expect(urls((await withTsa(undefined)).tsas)).toEqual(['https://a-new.example', 'https://b.example']);
    for (const [tsaConfig, problem] of [
      [{ selector: 'EXACT', count: 3 }, 'asks for 3 services of distinct operators, and 2 are usable'],
      [{ selector: 'EXACT' }, 'EXACT with no count'],
      [{ selector: 'SERVICE_SELECTOR_UNDEFINED' }, 'selector is undefined'],
    ] as const) {
      await expect(withTsa(tsaConfig)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining(problem) });
    }
  });

  it('logs in one log even when the selector names more: the reference verifies bundles with exactly one entry', async () => {
    const logs = [
      service('https://a.example', 2, '2026-01-01T00:00:00Z', undefined, 'a.example'),
      service('https://b.example', 2, '2026-02-01T00:00:00Z', undefined, 'b.example'),
    ];
    expect((await select({ rekorTlogUrls: logs, rekorTlogConfig: { selector: 'ALL' } })).tlog.url).toBe('https://b.example');
    await expect(select({ rekorTlogUrls: logs, rekorTlogConfig: { selector: 'EXACT', count: 3 } })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
  });

  it('refuses a config with no usable Fulcio, no usable log, or a Rekor v2 log and no timestamp authority', async () => {
    const log = service('https://log.example', 2, '2025-01-01T00:00:00Z');
    for (const [json, problem] of [
      [{ caUrls: [], rekorTlogUrls: [log] }, 'no currently valid Fulcio (v1) service'],
      [{ rekorTlogUrls: [service('https://v3.example', 3, '2025-01-01T00:00:00Z')] }, 'no currently valid Rekor v1 or v2 log'],
      [{ rekorTlogUrls: [log], tsaUrls: [] }, 'gives no signed time'],
    ] as const) {
      await expect(select(json)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining(problem) });
    }
    // A v1 log carries its own signed time (its promise): no TSA needed.
    expect((await select({ rekorTlogUrls: [service('https://v1.example', 1, '2021-01-01T00:00:00Z')], tsaUrls: [] })).tsas).toEqual([]);
  });
});
