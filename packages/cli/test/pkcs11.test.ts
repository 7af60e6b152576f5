import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCertificateAuthority, type CertificateAuthority } from '../../../test-fixtures/pki.mjs';
import { issueLeafForPublicKey } from '../../../test-fixtures/pki-external.mjs';
import { createSoftHsmToken, type SoftHsmToken } from '../../../test-fixtures/softhsm.mjs';
import { ok, pkcs11CertificateFlags } from '../../../test-fixtures/cli-runs.mjs';
import { REFERENCE_CLI, cleanupTempDirs, makeTrickyModel, ours, reference, settledShiftMs, shiftChildClocks, tempDir } from './helpers.js';

// PKCS#11 signing against a real token (SoftHSM2 in a temporary directory):
// keys generated on the token, signatures made by the CLI and the library,
// verified by our CLI and by the reference with the public key exported
// from the token.

const CURVES = [
  ['P-256', '01', 'key-p256'],
  ['P-384', '02', 'key-p384'],
  ['P-521', '03', 'key-p521'],
] as const;

let work: string;
let dirModel: string;
let fileModel: string;
let token: SoftHsmToken;
let ca: CertificateAuthority;
const publicKeys: Record<string, string> = {};

/** A URI as users write it: token label, key label, PIN and module path. */
function uri(object: string, query: Record<string, string> = {}): string {
  const q = new URLSearchParams({ 'pin-value': token.pin, 'module-path': token.module, ...query });
  return `pkcs11:token=${token.label};object=${object}?${[...q].map(([k, v]) => `${k}=${v}`).join('&')}`;
}

beforeAll(async () => {
  await fs.access(REFERENCE_CLI).catch(() => {
    throw new Error(`The reference CLI is missing at ${REFERENCE_CLI}; run scripts/setup-reference.sh`);
  });
  work = await tempDir('oms-pkcs11-');
  token = createSoftHsmToken(path.join(work, 'hsm'));
  for (const [curve, id, label] of CURVES) {
    token.generateKey(curve, id, label);
    publicKeys[curve] = token.exportPublicKey(id, path.join(work, `${label}.pub.pem`));
  }
  token.generateKey('RSA', '09', 'key-rsa');
  // Two keys of one label: a URI naming only the label is ambiguous.
  token.generateKey('P-256', '21', 'key-twin');
  token.generateKey('P-256', '22', 'key-twin');
  ca = makeCertificateAuthority(path.join(work, 'ca'));
  dirModel = await makeTrickyModel(work);
  fileModel = path.join(work, 'single-model.onnx');
  await fs.writeFile(fileModel, 'a single-file model');
});
afterAll(cleanupTempDirs);

describe.each(CURVES)('pkcs11-key with %s', (curve, id, label) => {
  for (const kind of ['directory', 'single file'] as const) {
    const model = () => (kind === 'directory' ? dirModel : fileModel);
    it(`signs a ${kind} through the CLI; ours and the reference verify it`, async () => {
      const sig = path.join(work, `${label}-${kind}.sig`);
      ok(await ours(['sign', 'pkcs11-key', model(), '--pkcs11-uri', uri(label), '--signature', sig]), 'our sign');
      const bundle = JSON.parse(await fs.readFile(sig, 'utf8'));
      expect(Object.keys(bundle.verificationMaterial)).toEqual(['publicKey', 'tlogEntries']);
      ok(await ours(['verify', 'key', model(), '--signature', sig, '--public-key', publicKeys[curve]]), 'our verify');
      ok(await reference(['verify', 'key', model(), '--signature', sig, '--public_key', publicKeys[curve]]), 'reference verify');
    });
  }

  it('signs through the library (signModel), found by id with the PIN from a file', async () => {
    const { createPkcs11Signer, signModel, verifyModel, KeyVerifier } = await import('@model-signing/core');
    const pinFile = path.join(work, 'pin.txt');
    await fs.writeFile(pinFile, `${token.pin}\n`);
    const signer = await createPkcs11Signer({
      uri: `pkcs11:token=${token.label};id=%${id}?pin-source=file://${pinFile}&module-name=softhsm2`,
      modulePath: path.dirname(token.module),
    });
    expect(signer.method).toBe('key');
    const sig = path.join(work, `${label}-library.sig`);
    await signModel({ modelPath: fileModel, signer, signaturePath: sig });
    await verifyModel({ modelPath: fileModel, signaturePath: sig, verifier: await KeyVerifier.create({ publicKey: publicKeys[curve] }) });
    ok(await reference(['verify', 'key', fileModel, '--signature', sig, '--public_key', publicKeys[curve]]), 'reference verify');
  });
});

describe('pkcs11-certificate', () => {
  it('signs with a certificate for the token key; ours and the reference verify it against the root', async () => {
    const leaf = issueLeafForPublicKey(path.join(work, 'ca'), ca, publicKeys['P-256'], 'token-leaf');
    const sig = path.join(work, 'cert.sig');
    ok(
      await ours([
        'sign',
        'pkcs11-certificate',
        dirModel,
        '--pkcs11_uri',
        uri('key-p256'),
        '--signing_certificate',
        leaf,
        '--certificate_chain',
        ca.intermediateCert,
        '--signature',
        sig,
      ]),
      'our sign',
    );
    ok(await ours(['verify', 'certificate', dirModel, '--signature', sig, '--certificate-chain', ca.rootCert]), 'our verify');
    ok(await reference(['verify', 'certificate', dirModel, '--signature', sig, '--certificate_chain', ca.rootCert]), 'reference verify');
  });

  it('reads the leaf certificate from the token when none is given', async () => {
    const leaf = issueLeafForPublicKey(path.join(work, 'ca'), ca, publicKeys['P-384'], 'token-leaf-384');
    token.writeCertificate(leaf, '02', 'key-p384');
    const sig = path.join(work, 'cert-from-token.sig');
    ok(
      await ours([
        'sign',
        'pkcs11-certificate',
        fileModel,
        '--pkcs11-uri',
        uri('key-p384'),
        '--certificate-chain',
        ca.intermediateCert,
        '--signature',
        sig,
      ]),
      'our sign',
    );
    const chain = JSON.parse(await fs.readFile(sig, 'utf8')).verificationMaterial.x509CertificateChain.certificates;
    expect(chain).toHaveLength(2);
    ok(await reference(['verify', 'certificate', fileModel, '--signature', sig, '--certificate_chain', ca.rootCert]), 'reference verify');
  });

  it('refuses a certificate for another key', async () => {
    const leaf = issueLeafForPublicKey(path.join(work, 'ca'), ca, publicKeys['P-521'], 'other-leaf');
    const sig = path.join(work, 'wrong-cert.sig');
    const result = await ours([
      'sign',
      'pkcs11-certificate',
      fileModel,
      '--pkcs11-uri',
      uri('key-p256'),
      '--signing-certificate',
      leaf,
      '--signature',
      sig,
      '--json',
    ]);
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout).error.code).toBe('BAD_KEY');
    await expect(fs.access(sig)).rejects.toThrow();
  });
});

describe('--incremental with a key on the token', () => {
  let model: string;
  let savedCache: string | undefined;
  let restoreClocks: () => void;
  const payloadOf = async (sig: string) =>
    (JSON.parse(await fs.readFile(sig, 'utf8')) as { dsseEnvelope: { payload: string } }).dsseEnvelope.payload;
  beforeAll(async () => {
    // Children inherit it: the records go to a cache of this test only.
    savedCache = process.env['XDG_CACHE_HOME'];
    process.env['XDG_CACHE_HOME'] = path.join(work, 'incremental-cache');
    model = path.join(work, 'incremental-model');
    await fs.mkdir(path.join(model, 'weights'), { recursive: true });
    await fs.writeFile(path.join(model, 'README.md'), '# card\n');
    await fs.writeFile(path.join(model, 'config.json'), '{"hidden": 8}');
    await fs.writeFile(path.join(model, 'weights/model.bin'), Buffer.alloc(1024 * 1024, 3));
    // The record vouches only for files older than the settle time when it is written: the CLI runs see a clock that much ahead.
    restoreClocks = shiftChildClocks(settledShiftMs());
  });
  afterAll(() => {
    restoreClocks();
    if (savedCache === undefined) delete process.env['XDG_CACHE_HOME'];
    else process.env['XDG_CACHE_HOME'] = savedCache;
  });

  it('pkcs11-key: checks the previous signature with the public key on the token, reuses, equals a full sign', async () => {
    const sig = path.join(work, 'incremental-key.sig');
    const args = ['sign', 'pkcs11-key', model, '--pkcs11-uri', uri('key-p256'), '--signature', sig];
    ok(await ours(args), 'full sign');
    await fs.appendFile(path.join(model, 'README.md'), 'edited\n');
    const plan = JSON.parse((await ours([...args, '--incremental', '--dry-run', '--json'])).stdout) as {
      rehashed: { name: string; reason: string }[];
    };
    expect(plan.rehashed).toEqual([expect.objectContaining({ name: 'README.md', reason: 'size-changed' })]);
    const out = await ours([...args, '--incremental', '--json']);
    ok(out, 'incremental sign');
    expect(JSON.parse(out.stdout)).toMatchObject({ incremental: true, reuse: { reusedFiles: 2, rehashedFiles: 1 } });
    const full = path.join(work, 'incremental-key-full.sig');
    ok(await ours([...args.slice(0, -1), full]), 'full sign for comparison');
    expect(await payloadOf(sig)).toBe(await payloadOf(full));
    ok(await reference(['verify', 'key', model, '--signature', sig, '--public_key', publicKeys['P-256']]), 'reference verify');

    // A previous signature by another key on the same token is refused, and nothing is written.
    const byOther = path.join(work, 'incremental-other.sig');
    ok(await ours(['sign', 'pkcs11-key', model, '--pkcs11-uri', uri('key-p384'), '--signature', byOther]), 'sign with another key');
    const target = path.join(work, 'incremental-refused.sig');
    const refused = await ours([...args.slice(0, -1), target, '--incremental', '--previous-signature', byOther, '--json']);
    expect(refused.code).toBe(1);
    expect(JSON.parse(refused.stdout).error.code).toBe('KEY_MISMATCH');
    await expect(fs.access(target)).rejects.toThrow();
  });

  it('pkcs11-certificate: checks the previous signature against the signing certificate and chain', async () => {
    const leaf = issueLeafForPublicKey(path.join(work, 'ca'), ca, publicKeys['P-256'], 'incremental-leaf');
    const sig = path.join(work, 'incremental-cert.sig');
    const args = [
      'sign',
      'pkcs11-certificate',
      model,
      ...pkcs11CertificateFlags(uri('key-p256'), leaf, ca.intermediateCert),
      '--signature',
      sig,
    ];
    ok(await ours(args), 'full sign');
    await fs.writeFile(path.join(model, 'added.txt'), 'new file');
    const plan = JSON.parse((await ours([...args, '--incremental', '--dry-run', '--json'])).stdout) as {
      rehashed: { name: string; reason: string }[];
      reused: { name: string }[];
    };
    expect(plan.rehashed).toContainEqual(expect.objectContaining({ name: 'added.txt', reason: 'new' }));
    expect(plan.reused.map((r) => r.name)).toEqual(expect.arrayContaining(['config.json', 'weights/model.bin']));
    const out = await ours([...args, '--incremental', '--json']);
    ok(out, 'incremental sign');
    expect(JSON.parse(out.stdout).reuse.reusedBytes).toBeGreaterThanOrEqual(1024 * 1024);
    const full = path.join(work, 'incremental-cert-full.sig');
    ok(await ours([...args.slice(0, -1), full]), 'full sign for comparison');
    expect(await payloadOf(sig)).toBe(await payloadOf(full));
    ok(await reference(['verify', 'certificate', model, '--signature', sig, '--certificate_chain', ca.rootCert]), 'reference verify');

    // A previous signature by the same token key, certified by another CA: not this signer's chain.
    const otherCa = makeCertificateAuthority(path.join(work, 'other-ca'));
    const otherLeaf = issueLeafForPublicKey(path.join(work, 'other-ca'), otherCa, publicKeys['P-256'], 'other-ca-leaf');
    const byOther = path.join(work, 'incremental-other-ca.sig');
    ok(
      await ours([
        'sign',
        'pkcs11-certificate',
        model,
        ...pkcs11CertificateFlags(uri('key-p256'), otherLeaf, otherCa.intermediateCert),
        '--signature',
        byOther,
      ]),
      'sign under another CA',
    );
    const refused = await ours([...args, '--incremental', '--previous-signature', byOther, '--json']);
    expect(refused.code).toBe(1);
    expect(JSON.parse(refused.stdout).error.code).toBe('CERT_CHAIN_INVALID');
    expect(await payloadOf(sig)).toBe(await payloadOf(full));
  });
});

describe('errors leave no signature file', () => {
  const cases: Array<[string, () => string[], number, string, RegExp]> = [
    ['a wrong PIN', () => ['--pkcs11-uri', uri('key-p256', { 'pin-value': '0000' })], 1, 'ACCESS_DENIED', /CKR_PIN_INCORRECT/],
    ['a missing object', () => ['--pkcs11-uri', uri('no-such-key')], 1, 'NOT_FOUND', /no-such-key/],
    [
      'a missing token',
      () => ['--pkcs11-uri', uri('key-p256').replace(`token=${token.label}`, 'token=no-such-token')],
      1,
      'NOT_FOUND',
      /token/,
    ],
    [
      'a wrong module path',
      () => ['--pkcs11-uri', uri('key-p256', { 'module-path': '/nonexistent/libpkcs11.so' })],
      1,
      'NOT_FOUND',
      /\/nonexistent\/libpkcs11\.so/,
    ],
    [
      'a module path that is no PKCS#11 module',
      () => ['--pkcs11-uri', uri('key-p256', { 'module-path': '/etc/hostname' })],
      2,
      'INVALID_ARGUMENT',
      /not a loadable PKCS#11 module/,
    ],
    ['a non-EC key', () => ['--pkcs11-uri', uri('key-rsa')], 1, 'BAD_KEY', /not an elliptic-curve key/],
    [
      'a label two keys share',
      () => ['--pkcs11-uri', uri('key-twin')],
      2,
      'INVALID_ARGUMENT',
      /Several PKCS#11 private keys match label 'key-twin' on the token \(ids 2[12], 2[12]\): add 'id=%xx'/,
    ],
    ['a malformed URI', () => ['--pkcs11-uri', 'pkcs11:token=x;object'], 2, 'INVALID_ARGUMENT', /malformed path attribute/],
    [
      'a URI naming no key',
      () => ['--pkcs11-uri', `pkcs11:token=${token.label}?module-path=${token.module}`],
      2,
      'INVALID_ARGUMENT',
      /names no key/,
    ],
  ];
  it.each(cases)('%s', async (_name, args, exit, code, message) => {
    const sig = path.join(work, `failed-${code}.sig`);
    const result = await ours(['sign', 'pkcs11-key', dirModel, ...args(), '--signature', sig, '--json']);
    expect(result.code, result.stdout + result.stderr).toBe(exit);
    const error = JSON.parse(result.stdout).error;
    expect(error.code).toBe(code);
    expect(error.message).toMatch(message);
    await expect(fs.access(sig)).rejects.toThrow();
  });

  it('signs with the one key a shared label and an id name', async () => {
    const sig = path.join(work, 'twin.sig');
    const result = await ours([
      'sign',
      'pkcs11-key',
      dirModel,
      '--pkcs11-uri',
      uri('key-twin').replace(';object=', ';id=%22;object='),
      '--signature',
      sig,
    ]);
    ok(result, 'sign with label and id');
    const twin22 = token.exportPublicKey('22', path.join(work, 'twin-22.pub.pem'));
    const twin21 = token.exportPublicKey('21', path.join(work, 'twin-21.pub.pem'));
    ok(await ours(['verify', 'key', dirModel, '--signature', sig, '--public-key', twin22]), 'verify with key 22');
    expect((await ours(['verify', 'key', dirModel, '--signature', sig, '--public-key', twin21])).code).toBe(1);
  });

  it('names the missing option when --pkcs11-uri is left out', async () => {
    const result = await ours(['sign', 'pkcs11-key', dirModel]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--pkcs11-uri/);
  });
});
