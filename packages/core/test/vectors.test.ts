import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CertificateVerifier, KeyVerifier, verifyModel, type Verifier } from '../dist/index.js';
import { parseBundle, verifyBundle } from '../dist/internal.js';
import { readBundle } from '../dist/internal-node.js';
import { HISTORICAL, REFERENCE_KEYS, SPEC_VECTORS, cleanupTempDirs, expectCode, tempDir } from './helpers.js';

const publicKey = path.join(REFERENCE_KEYS, 'signing-key-pub.pem');
const caCert = path.join(REFERENCE_KEYS, 'ca-cert.pem');
const keyVerifier = () => KeyVerifier.create({ publicKey });
const certVerifier = () => CertificateVerifier.create({ certificateChain: [caCert] });

afterEach(cleanupTempDirs);

/** Every historical bundle of the reference, with how the reference's own tests verify it. */
const HISTORICAL_CASES: { dir: string; verifier: () => Promise<Verifier>; model?: string; ignorePaths?: string[] }[] = [
  { dir: 'v0.2.0-certificate', verifier: certVerifier },
  { dir: 'v0.3.1-certificate', verifier: certVerifier },
  { dir: 'v1.0.0-certificate', verifier: certVerifier },
  { dir: 'v1.0.1-certificate', verifier: certVerifier, ignorePaths: ['ignore-me'] },
  { dir: 'v1.1.0-certificate', verifier: certVerifier },
  { dir: 'v0.3.1-elliptic-key', verifier: keyVerifier, model: 'signme-1' },
  { dir: 'v1.0.0-elliptic-key', verifier: keyVerifier, model: 'signme-1' },
  { dir: 'v1.0.1-elliptic-key', verifier: keyVerifier, ignorePaths: ['ignore-me'] },
  { dir: 'v1.1.0-elliptic-key', verifier: keyVerifier },
];

describe('historical bundles of the reference implementation', () => {
  for (const c of HISTORICAL_CASES) {
    const dir = path.join(HISTORICAL, c.dir);
    const modelPath = c.model ? path.join(dir, c.model) : dir;

    it(`verifies ${c.dir}`, async () => {
      const result = await verifyModel({
        modelPath,
        signaturePath: path.join(dir, 'model.sig'),
        verifier: await c.verifier(),
        ignorePaths: c.ignorePaths ?? [],
      });
      expect(result.files.length).toBeGreaterThan(0);
      expect(result.files).toContain(c.model ? '.' : 'signme-1');
    });

    it(`rejects ${c.dir} after one byte of the model changes`, async () => {
      const copy = path.join(await tempDir(), c.dir);
      await fs.cp(dir, copy, { recursive: true });
      const target = path.join(copy, c.model ?? 'signme-2');
      const bytes = await fs.readFile(target);
      bytes[0] = bytes[0] ^ 1;
      await fs.writeFile(target, bytes);
      const err = await expectCode(
        verifyModel({
          modelPath: c.model ? target : copy,
          signaturePath: path.join(copy, 'model.sig'),
          verifier: await c.verifier(),
          ignorePaths: c.ignorePaths ?? [],
        }),
        'DIGEST_MISMATCH',
      );
      expect(err.message).toContain(c.model ? '.' : 'signme-2');
    });
  }

  it('needs the ignore path that a v1.0.1 signer did not record', async () => {
    const dir = path.join(HISTORICAL, 'v1.0.1-elliptic-key');
    const err = await expectCode(
      verifyModel({ modelPath: dir, signaturePath: path.join(dir, 'model.sig'), verifier: await keyVerifier() }),
      'UNSIGNED_FILE',
    );
    expect(err.differences).toEqual([{ kind: 'unsigned', name: 'ignore-me' }]);
  });

  it('rejects a certificate bundle whose CA is not trusted', async () => {
    const dir = path.join(HISTORICAL, 'v1.1.0-certificate');
    // The public Mozilla roots (an explicit opt-in) never issued the test CA.
    const verifier = await CertificateVerifier.create({ useSystemRoots: true });
    await expectCode(verifyModel({ modelPath: dir, signaturePath: path.join(dir, 'model.sig'), verifier }), 'CERT_CHAIN_INVALID');
  });

  it('rejects certificates outside their validity period', async () => {
    const dir = path.join(HISTORICAL, 'v1.1.0-certificate');
    const verifier = await CertificateVerifier.create({ certificateChain: [caCert], now: new Date('2036-01-01T00:00:00Z') });
    const err = await expectCode(
      verifyModel({ modelPath: dir, signaturePath: path.join(dir, 'model.sig'), verifier }),
      'CERT_CHAIN_INVALID',
    );
    expect(err.message).toMatch(/has expired: .*checked at 2036-01-01/);
  });

  it('refuses to verify a keyless bundle as a key bundle', async () => {
    const dir = path.join(HISTORICAL, 'v1.1.0-sigstore');
    await expectCode(
      verifyModel({ modelPath: dir, signaturePath: path.join(dir, 'model.sig'), verifier: await keyVerifier() }),
      'WRONG_METHOD',
    );
    await expectCode(
      verifyModel({ modelPath: dir, signaturePath: path.join(dir, 'model.sig'), verifier: await certVerifier() }),
      'WRONG_METHOD',
    );
  });
});

describe('a bundle offered to the verifier of another method', () => {
  it('refuses a certificate bundle as a key bundle, even against the key its certificate certifies, as the reverse is refused', async () => {
    const certificate = path.join(HISTORICAL, 'v1.1.0-certificate');
    const err = await expectCode(
      verifyModel({ modelPath: certificate, signaturePath: path.join(certificate, 'model.sig'), verifier: await keyVerifier() }),
      'WRONG_METHOD',
    );
    expect(err.message).toMatch(/made with the 'certificate' method .*verify it with the 'certificate' method/);
    const key = path.join(HISTORICAL, 'v1.1.0-elliptic-key');
    const reverse = await expectCode(
      verifyModel({ modelPath: key, signaturePath: path.join(key, 'model.sig'), verifier: await certVerifier() }),
      'WRONG_METHOD',
    );
    expect(reverse.message).toMatch(/verify it with the 'key' method/);
  });
});

describe('OMS spec v1.0 test vectors', () => {
  it('verifies the valid key bundle (same files as the v1.1.0 key model)', async () => {
    const model = path.join(HISTORICAL, 'v1.1.0-elliptic-key');
    const result = await verifyModel({
      modelPath: model,
      signaturePath: path.join(SPEC_VECTORS, 'valid/key.bundle.json'),
      verifier: await keyVerifier(),
      ignorePaths: ['model.sig', 'ignore-me'],
    });
    expect(result.files.sort()).toEqual(['signme-1', 'signme-2']);
  });

  it('verifies the valid certificate bundle', async () => {
    const { manifest, signer } = await verifyBundle({
      bundle: await readBundle(path.join(SPEC_VECTORS, 'valid/certificate.bundle.json')),
      verifier: await certVerifier(),
    });
    expect(signer.method).toBe('certificate');
    expect(manifest.resources.length).toBeGreaterThan(0);
  });

  const invalid: [string, string][] = [
    ['invalid/empty.bundle.json', 'BAD_BUNDLE'],
    ['invalid/missing-envelope.bundle.json', 'BAD_BUNDLE'],
    ['invalid/missing-verification-material.bundle.json', 'BAD_BUNDLE'],
    // The payload was edited after signing, so the signature check (which comes
    // before any payload is trusted) already refuses it.
    ['invalid-payload/wrong-predicate.bundle.json', 'SIGNATURE_INVALID'],
  ];
  for (const [file, code] of invalid) {
    it(`rejects ${file} with ${code}`, async () => {
      await expectCode(
        (async () => verifyBundle({ bundle: await readBundle(path.join(SPEC_VECTORS, file)), verifier: await keyVerifier() }))(),
        code,
      );
    });
  }

  it('rejects the keyless bundle without tlog entries when offered to the key verifier', async () => {
    const bundle = parseBundle(await fs.readFile(path.join(SPEC_VECTORS, 'invalid/missing-tlog-entries.bundle.json')));
    expect(bundle.method).toBe('sigstore');
    await expectCode(verifyBundle({ bundle, verifier: await keyVerifier() }), 'WRONG_METHOD');
  });
});
