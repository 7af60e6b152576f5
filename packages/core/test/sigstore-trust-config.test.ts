import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SigstoreVerifier, verifyModel } from '../dist/index.js';
import { loadTrustConfig } from '../dist/internal-node.js';
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
