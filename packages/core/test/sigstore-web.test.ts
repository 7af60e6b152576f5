// The runtime-neutral Sigstore verifier (WebSigstoreVerifier) against the
// Node one (SigstoreVerifier, sigstore-js), in Node: every case of the shared
// table (sigstore-web/verdict-table.ts: the reference's production bundles,
// bundles signed against a loopback Sigstore instance, and each way to get
// them wrong) gets the same verdict and, when refused, the same error code
// from both, and the one the table expects. browser/sigstore-in-browser.test.ts
// runs the same table in Chromium.
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { WebSigstoreVerifier, isModelSigningError, verifyModel } from '../dist/index.js';
import { cleanupTempDirs, tempDir } from './helpers.js';
import { verdictOf, type BundleJson } from './sigstore-web/cases.js';
import { withRekorV2Entry } from './sigstore-web/rekor-v2.js';
import { MOCK_IDENTITY, MOCK_ISSUER, PRODUCTION_VECTORS, PROD_IDENTITY, PROD_ISSUER, nodeSigstoreVerifier, sigstoreTable } from './sigstore-web/verdict-table.js';

const table = await sigstoreTable();
afterAll(async () => {
  await table.close();
  await cleanupTempDirs();
});

describe('WebSigstoreVerifier and SigstoreVerifier on the shared table', () => {
  for (const c of table.cases) {
    it(`${c.name}: ${c.expected} from both`, async () => {
      const [web, node] = await Promise.all([
        WebSigstoreVerifier.create(c.options).then((v) => verdictOf(v, c.bundle)),
        nodeSigstoreVerifier(c.options).then((v) => verdictOf(v, c.bundle)),
      ]);
      expect(web.ok ? 'ok' : web.code, web.ok ? '' : web.message).toBe(c.expected);
      expect(node.ok ? 'ok' : node.code, node.ok ? '' : node.message).toBe(c.expected);
      if (web.ok && node.ok) expect(web.signer).toEqual(node.signer);
    });
  }
});

describe.each(PRODUCTION_VECTORS)('production bundle $name, offline, with its model', (v) => {
  it('verifies the model files with the real identity and issuer', async () => {
    const web = await WebSigstoreVerifier.create({ identity: PROD_IDENTITY, identityProvider: PROD_ISSUER });
    const result = await verifyModel({ modelPath: v.modelDir, signaturePath: v.signature, ignorePaths: [...v.ignorePaths, 'model.sig'], verifier: web });
    expect(result.signer).toEqual({ method: 'sigstore', identity: PROD_IDENTITY, issuer: PROD_ISSUER, trustRoot: 'production (bundled)' });
  });

  it('refuses the model after one byte changes', async () => {
    const model = path.join(await tempDir('sigweb-'), 'model');
    await fs.cp(v.modelDir, model, { recursive: true, filter: (src) => path.basename(src) !== 'model.sig' });
    const file = path.join(model, 'signme-2');
    const bytes = await fs.readFile(file);
    bytes[0] = bytes[0]! ^ 0x01;
    await fs.writeFile(file, bytes);
    const web = await WebSigstoreVerifier.create({ identity: PROD_IDENTITY, identityProvider: PROD_ISSUER });
    const error = await verifyModel({ modelPath: model, signaturePath: v.signature, ignorePaths: v.ignorePaths, verifier: web }).catch((e: unknown) => e);
    expect(isModelSigningError(error, 'DIGEST_MISMATCH')).toBe(true);
  });
});

describe('the model signed against the loopback instance', () => {
  const options = () => ({ identity: MOCK_IDENTITY, identityProvider: MOCK_ISSUER, trustedRoot: table.mock.trustConfig });

  it('verifies with the instance trusted root, and not after one byte changes', async () => {
    const web = await WebSigstoreVerifier.create(options());
    const result = await verifyModel({ modelPath: table.mock.modelDir, signaturePath: table.mock.signaturePath, verifier: web });
    expect(result.signer).toEqual({ method: 'sigstore', identity: MOCK_IDENTITY, issuer: MOCK_ISSUER, trustRoot: 'custom trust config' });

    const model = path.join(await tempDir('sigweb-'), 'model');
    await fs.cp(table.mock.modelDir, model, { recursive: true });
    const weights = await fs.readFile(path.join(model, 'weights.bin'));
    weights[100] = weights[100]! ^ 0x01;
    await fs.writeFile(path.join(model, 'weights.bin'), weights);
    const error = await verifyModel({ modelPath: model, signaturePath: table.mock.signaturePath, verifier: web }).catch((e: unknown) => e);
    expect(isModelSigningError(error, 'DIGEST_MISMATCH')).toBe(true);
  });

  it('takes the bare trusted root as well as the client trust config', async () => {
    const web = await WebSigstoreVerifier.create({ ...options(), trustedRoot: table.mock.trustConfig.trustedRoot });
    expect(await verdictOf(web, await fs.readFile(table.mock.signaturePath, 'utf8'))).toMatchObject({ ok: true });
  });
});

describe('Rekor v2 entries', () => {
  // The table shows both verifiers refuse them; these show why: the bundles are sound, and the kind is the reason.
  it('builds a v2 dsse/0.0.2 bundle that sigstore-js itself accepts, and a reference-form hashedrekord/0.0.2 one it refuses', async () => {
    const { Verifier, toSignedEntity, toTrustMaterial } = await import('@sigstore/verify');
    const { bundleFromJSON } = await import('@sigstore/bundle');
    const { TrustedRoot } = await import('@sigstore/protobuf-specs');
    const bundle = JSON.parse(await fs.readFile(table.mock.signaturePath, 'utf8')) as BundleJson;
    const sigstoreJs = (form: 'dsse/0.0.2' | 'hashedrekord/0.0.2') => {
      const v2 = withRekorV2Entry(bundle, table.mock.trustConfig, form);
      const verifier = new Verifier(toTrustMaterial(TrustedRoot.fromJSON(v2.trustConfig.trustedRoot)));
      return () => verifier.verify(toSignedEntity(bundleFromJSON(v2.bundle)), { subjectAlternativeName: MOCK_IDENTITY, extensions: { issuer: MOCK_ISSUER } });
    };
    expect(sigstoreJs('dsse/0.0.2')()).toMatchObject({ identity: { subjectAlternativeName: MOCK_IDENTITY } });
    expect(sigstoreJs('hashedrekord/0.0.2')).toThrow(expect.objectContaining({ code: 'TLOG_BODY_ERROR' }));
  });

  it('both verifiers name the kind they refuse', async () => {
    const bundle = JSON.parse(await fs.readFile(table.mock.signaturePath, 'utf8')) as BundleJson;
    const v2 = withRekorV2Entry(bundle, table.mock.trustConfig, 'dsse/0.0.2');
    const options = { identity: MOCK_IDENTITY, identityProvider: MOCK_ISSUER, trustedRoot: v2.trustConfig };
    for (const verifier of [await WebSigstoreVerifier.create(options), await nodeSigstoreVerifier(options)]) {
      expect(await verdictOf(verifier, JSON.stringify(v2.bundle))).toMatchObject({ ok: false, code: 'SIGNATURE_INVALID', message: expect.stringContaining('dsse/0.0.2') });
    }
  });
});
