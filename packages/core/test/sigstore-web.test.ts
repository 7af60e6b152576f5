// The runtime-neutral Sigstore verifier (WebSigstoreVerifier) against the
// Node one (SigstoreVerifier, sigstore-js), in Node: every case of the shared
// table (sigstore-web/verdict-table.ts: the reference's production bundles,
// bundles signed against the loopback Sigstore instances, and each way to get
// them wrong) gets the same verdict and, when refused, the same error code
// from both, and the one the table expects. browser/sigstore-in-browser.test.ts
// runs the same table in Chromium.
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { isModelSigningError, verifyModel } from '../dist/index.js';
import { WebSigstoreVerifier } from '../dist/browser.js';
import { cleanupTempDirs, tempDir } from './helpers.js';
import { PRODUCTION_TRUSTED_ROOT } from '../dist/methods/sigstore/web/production-root.js';
import { STRUCTURE_CASES, verdictOf, withV03MediaTypeAlias, type BundleJson } from './sigstore-web/cases.js';
import { withRekorV2Entry, type RekorV2Form } from './sigstore-web/rekor-v2.js';
import {
  MOCK_IDENTITY,
  MOCK_ISSUER,
  PRODUCTION_VECTORS,
  PROD_IDENTITY,
  PROD_ISSUER,
  REAL_IDENTITY,
  nodeSigstoreVerifier,
  sigstoreTable,
} from './sigstore-web/verdict-table.js';

const REFERENCE_BIN =
  process.env['MODEL_SIGNING_REFERENCE_BIN'] ?? path.resolve(fileURLToPath(import.meta.url), '../../../../.venv-ref/bin/model_signing');
const REPO_ROOT = path.resolve(fileURLToPath(import.meta.url), '../../../..');

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
    const result = await verifyModel({
      modelPath: v.modelDir,
      signaturePath: v.signature,
      ignorePaths: [...v.ignorePaths, 'model.sig'],
      verifier: web,
    });
    expect(result.signer).toEqual({ method: 'sigstore', identity: PROD_IDENTITY, issuer: PROD_ISSUER, trustRoot: 'production (bundled)' });
  });

  it('refuses the model after one byte changes', async () => {
    const model = path.join(await tempDir('sigweb-'), 'model');
    await fs.cp(v.modelDir, model, { recursive: true, filter: (src) => path.basename(src) !== 'model.sig' });
    const file = path.join(model, 'signme-2');
    const bytes = await fs.readFile(file);
    bytes[0] = bytes[0] ^ 0x01;
    await fs.writeFile(file, bytes);
    const web = await WebSigstoreVerifier.create({ identity: PROD_IDENTITY, identityProvider: PROD_ISSUER });
    const error = await verifyModel({ modelPath: model, signaturePath: v.signature, ignorePaths: v.ignorePaths, verifier: web }).catch(
      (e: unknown) => e,
    );
    expect(isModelSigningError(error, 'DIGEST_MISMATCH')).toBe(true);
  });
});

describe('the model signed against the real loopback instance (Rekor v2)', () => {
  const options = () => ({ identity: REAL_IDENTITY, identityProvider: table.real.issuer, trustedRoot: table.real.trustConfig });

  it('verifies with the instance trusted root, and not after one byte changes', async () => {
    const web = await WebSigstoreVerifier.create(options());
    const result = await verifyModel({ modelPath: table.real.modelDir, signaturePath: table.real.signaturePath, verifier: web });
    expect(result.signer).toEqual({
      method: 'sigstore',
      identity: REAL_IDENTITY,
      issuer: table.real.issuer,
      trustRoot: 'custom trust config',
    });

    const model = path.join(await tempDir('sigweb-'), 'model');
    await fs.cp(table.real.modelDir, model, { recursive: true });
    const weights = await fs.readFile(path.join(model, 'weights.bin'));
    weights[100] = weights[100] ^ 0x01;
    await fs.writeFile(path.join(model, 'weights.bin'), weights);
    const error = await verifyModel({ modelPath: model, signaturePath: table.real.signaturePath, verifier: web }).catch((e: unknown) => e);
    expect(isModelSigningError(error, 'DIGEST_MISMATCH')).toBe(true);
  });

  it('takes the bare trusted root as well as the client trust config', async () => {
    const web = await WebSigstoreVerifier.create({ ...options(), trustedRoot: table.real.trustConfig.trustedRoot });
    expect(await verdictOf(web, await fs.readFile(table.real.signaturePath, 'utf8'))).toMatchObject({ ok: true });
  });
});

describe('Rekor v2 entries', () => {
  // The table gives the verdicts; these show the bundles are what they claim: each form is accepted by the client that writes it.
  const v2 = async (form: RekorV2Form) =>
    withRekorV2Entry(JSON.parse(await fs.readFile(table.mock.signaturePath, 'utf8')), table.mock.trustConfig, form);

  it("sigstore-js alone accepts its dsse/0.0.2 form and refuses the reference's hashedrekord/0.0.2 body", async () => {
    const { Verifier, toSignedEntity, toTrustMaterial } = await import('@sigstore/verify');
    const { bundleFromJSON } = await import('@sigstore/bundle');
    const { TrustedRoot } = await import('@sigstore/protobuf-specs');
    const sigstoreJs = async (form: RekorV2Form) => {
      const { bundle, trustConfig } = await v2(form);
      const verifier = new Verifier(toTrustMaterial(TrustedRoot.fromJSON(trustConfig.trustedRoot)));
      return () =>
        verifier.verify(toSignedEntity(bundleFromJSON(bundle)), {
          subjectAlternativeName: MOCK_IDENTITY,
          extensions: { issuer: MOCK_ISSUER },
        });
    };
    expect((await sigstoreJs('dsse/0.0.2'))()).toMatchObject({ identity: { subjectAlternativeName: MOCK_IDENTITY } });
    expect(await sigstoreJs('hashedrekord/0.0.2')).toThrow(expect.objectContaining({ code: 'TLOG_BODY_ERROR' }));
  });

  it('the reference accepts the hashedrekord/0.0.2 bundle, as both verifiers here do, and refuses dsse/0.0.2, naming its kind as they do', async () => {
    const dir = await tempDir('sigweb-v2-');
    const verdicts: Record<string, { reference: boolean; output: string }> = {};
    for (const form of ['hashedrekord/0.0.2', 'dsse/0.0.2'] as const) {
      const { bundle, trustConfig } = await v2(form);
      const name = form.replace('/', '-');
      await fs.writeFile(path.join(dir, `${name}.sig`), JSON.stringify(bundle));
      await fs.writeFile(path.join(dir, `${name}.json`), JSON.stringify(trustConfig));
      verdicts[form] = await reference([
        'verify',
        'sigstore',
        table.mock.modelDir,
        '--signature',
        path.join(dir, `${name}.sig`),
        '--trust_config',
        path.join(dir, `${name}.json`),
        '--identity',
        MOCK_IDENTITY,
        '--identity_provider',
        MOCK_ISSUER,
      ]);
      const options = { identity: MOCK_IDENTITY, identityProvider: MOCK_ISSUER, trustedRoot: trustConfig };
      for (const verifier of [await WebSigstoreVerifier.create(options), await nodeSigstoreVerifier(options)]) {
        const verdict = await verdictOf(verifier, JSON.stringify(bundle));
        expect(verdict).toMatchObject(
          form === 'dsse/0.0.2' ? { ok: false, code: 'SIGNATURE_INVALID', message: expect.stringContaining('dsse/0.0.2') } : { ok: true },
        );
      }
    }
    expect(verdicts['hashedrekord/0.0.2']).toMatchObject({ reference: true, output: expect.stringContaining('Verification succeeded') });
    expect(verdicts['dsse/0.0.2']).toMatchObject({ reference: false, output: expect.stringContaining('dsse/0.0.2') });
  });
});

describe("the reference's verdicts on the structure cases, on every production vector", () => {
  it('refuses each case both verifiers refuse (where it is looser, as the case says), and accepts the vectors and the v0.3 alias', async () => {
    const dir = await tempDir('sigweb-ref-');
    // The bundled production root, offline, as the client trust config the reference reads.
    const trustConfig = path.join(dir, 'trust_config.json');
    await fs.writeFile(
      trustConfig,
      JSON.stringify({
        mediaType: 'application/vnd.dev.sigstore.clienttrustconfig.v0.1+json',
        trustedRoot: PRODUCTION_TRUSTED_ROOT,
        signingConfig: {
          mediaType: 'application/vnd.dev.sigstore.signingconfig.v0.2+json',
          caUrls: [],
          oidcUrls: [],
          rekorTlogUrls: [],
          tsaUrls: [],
          rekorTlogConfig: { selector: 'ANY' },
          tsaConfig: { selector: 'ANY' },
        },
      }),
    );
    const rows: { name: string; file: string; accepted: boolean }[] = [];
    for (const [i, v] of PRODUCTION_VECTORS.entries()) {
      const original = JSON.parse(await fs.readFile(v.signature, 'utf8'));
      const variants: { name: string; tamper: (b: BundleJson) => void | Promise<void>; accepted: boolean }[] = [
        { name: 'as signed', tamper: () => undefined, accepted: true },
        { name: 'the other spelling of the v0.3 media type', tamper: withV03MediaTypeAlias, accepted: true },
        ...STRUCTURE_CASES.map((c) => ({ name: c.name, tamper: c.tamper, accepted: c.referenceAccepts?.(original) ?? false })),
      ];
      for (const [j, variant] of variants.entries()) {
        const bundle = structuredClone(original);
        await variant.tamper(bundle);
        const file = path.join(dir, `${i}-${j}.sig`);
        await fs.writeFile(file, JSON.stringify(bundle));
        rows.push({ name: `${v.name}: ${variant.name}`, file, accepted: variant.accepted });
      }
    }
    const { stdout } = await promisify(execFile)(
      path.join(path.dirname(REFERENCE_BIN), 'python'),
      [
        path.join(REPO_ROOT, 'test-fixtures/reference_sigstore_verdicts.py'),
        PROD_IDENTITY,
        PROD_ISSUER,
        trustConfig,
        ...rows.map((r) => r.file),
      ],
      { timeout: 120_000 },
    );
    const verdicts = JSON.parse(stdout) as { ok: boolean; error?: string }[];
    expect(verdicts).toHaveLength(rows.length);
    const mismatches = rows.flatMap((r, i) => (verdicts[i].ok === r.accepted ? [] : [`${r.name}: ${verdicts[i].error ?? 'accepted'}`]));
    expect(mismatches).toEqual([]);
    // The looser spot is real: a tree size the reference does not compare passes it on some vector.
    expect(rows.some((r) => r.accepted && r.name.includes('tree size'))).toBe(true);
  });
});

/** Runs the reference CLI (model-signing 1.1.1, installed by scripts/setup-reference.sh); whether it succeeded, and what it printed. */
async function reference(args: string[]): Promise<{ reference: boolean; output: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(REFERENCE_BIN, args, { timeout: 60_000 });
    return { reference: true, output: stdout + stderr };
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    return { reference: false, output: `${err.stdout ?? ''}${err.stderr ?? ''}${err.message}` };
  }
}
