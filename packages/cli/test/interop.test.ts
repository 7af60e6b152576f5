import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertCodePointOrder } from '../../../test-fixtures/order.mjs';
import { issueLeaf, makeCertificateAuthority } from '../../../test-fixtures/pki.mjs';
import {
  REFERENCE_CLI,
  cleanupTempDirs,
  makeTrickyModel,
  ours,
  reference,
  referenceApi,
  tempDir,
  writeKeyPair,
  type RunResult,
} from './helpers.js';

// Both directions against the real reference implementation: every signature
// we write verifies with Python model-signing 1.1.1, and every one it writes
// verifies with ours.

function ok(result: RunResult, what: string) {
  expect(result.code, `${what}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`).toBe(0);
}

let work: string;
let dirModel: string;
let fileModel: string;

beforeAll(async () => {
  await fs.access(REFERENCE_CLI).catch(() => {
    throw new Error(`The reference CLI is missing at ${REFERENCE_CLI}; run scripts/setup-reference.sh`);
  });
  work = await tempDir('oms-interop-');
  dirModel = await makeTrickyModel(work);
  fileModel = path.join(work, 'single-model.onnx');
  await fs.writeFile(fileModel, 'a single-file model');
});
afterAll(cleanupTempDirs);

describe.each(['P-256', 'P-384', 'P-521'] as const)('key signatures with %s', (curve) => {
  for (const kind of ['directory', 'single file'] as const) {
    const model = () => (kind === 'directory' ? dirModel : fileModel);

    it(`ours signs a ${kind} → the reference verifies`, async () => {
      const keys = await writeKeyPair(work, curve);
      const sig = path.join(work, `ours-${curve}-${kind}.sig`);
      ok(await ours(['sign', 'key', model(), '--private-key', keys.privateKey, '--signature', sig]), 'our sign');
      const verified = await reference(['verify', 'key', model(), '--signature', sig, '--public_key', keys.publicKey]);
      ok(verified, 'reference verify');
      expect(verified.stdout + verified.stderr).toContain('Verification succeeded');
    });

    it(`the reference signs a ${kind} → ours verifies`, async () => {
      const keys = await writeKeyPair(work, curve);
      const sig = path.join(work, `ref-${curve}-${kind}.sig`);
      ok(await reference(['sign', 'key', model(), '--signature', sig, '--private_key', keys.privateKey]), 'reference sign');
      // Underscore spellings, as users of the reference type them, work too.
      const verified = await ours(['verify', 'key', model(), '--signature', sig, '--public_key', keys.publicKey, '--json']);
      ok(verified, 'our verify');
      expect(JSON.parse(verified.stdout)).toMatchObject({ ok: true, signer: { method: 'key' } });
    });
  }

  it('both implementations agree on the digest of every file; ours lists them in code-point order', async () => {
    const keys = await writeKeyPair(work, curve);
    const refSig = path.join(work, `digests-ref-${curve}.sig`);
    const ourSig = path.join(work, `digests-ours-${curve}.sig`);
    ok(await reference(['sign', 'key', dirModel, '--signature', refSig, '--private_key', keys.privateKey]), 'reference sign');
    ok(await ours(['sign', 'key', dirModel, '--private-key', keys.privateKey, '--signature', ourSig]), 'our sign');
    const resources = async (sig: string) => {
      const bundle = JSON.parse(await fs.readFile(sig, 'utf8'));
      const statement = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString('utf8'));
      return statement as { subject: { digest: { sha256: string } }[]; predicate: { resources: { name: string; digest: string }[] } };
    };
    const [refStatement, ourStatement] = [await resources(refSig), await resources(ourSig)];
    const pairs = (s: typeof refStatement) => s.predicate.resources.map((r) => `${r.name} ${r.digest}`);
    // The same digests for the same names; the reference orders by path components,
    // so on this model its list (and hence its subject digest) differs from ours.
    expect([...pairs(ourStatement)].sort()).toEqual([...pairs(refStatement)].sort());
    expect(assertCodePointOrder(ourSig)).toEqual(ourStatement.predicate.resources.map((r) => r.name));
    expect(ourStatement.predicate.resources.map((r) => r.name)).not.toEqual(refStatement.predicate.resources.map((r) => r.name));
    expect(ourStatement.subject[0].digest.sha256).not.toBe(refStatement.subject[0].digest.sha256);
  });
});

describe('an empty directory', () => {
  it('the reference signs it as resources: []; ours refuses that signature, even with --ignore-unsigned-files', async () => {
    const keys = await writeKeyPair(work, 'P-256');
    const empty = path.join(work, 'empty-model');
    await fs.mkdir(empty);
    const sig = path.join(work, 'empty-ref.sig');
    ok(await reference(['sign', 'key', empty, '--signature', sig, '--private_key', keys.privateKey]), 'reference sign');
    const statement = JSON.parse(Buffer.from(JSON.parse(await fs.readFile(sig, 'utf8')).dsseEnvelope.payload, 'base64').toString('utf8'));
    expect(statement.predicate.resources).toEqual([]);
    await fs.writeFile(path.join(empty, 'anything.bin'), 'not covered by the signature');
    for (const extra of [[], ['--ignore-unsigned-files']]) {
      const result = await ours(['verify', 'key', empty, '--signature', sig, '--public-key', keys.publicKey, '--json', ...extra]);
      expect(result.code).toBe(1);
      expect(JSON.parse(result.stdout)).toMatchObject({ ok: false, error: { code: 'EMPTY_MANIFEST' } });
    }
  });
});

describe('certificate signatures', () => {
  it('ours signs with a leaf + intermediate → the reference verifies against the root, and back', async () => {
    const pki = path.join(work, 'pki');
    const ca = makeCertificateAuthority(pki);
    for (const curve of ['P-256', 'P-384', 'P-521'] as const) {
      const leaf = issueLeaf(pki, ca, { name: `leaf-${curve}`, curve });
      const ourSig = path.join(work, `cert-ours-${curve}.sig`);
      ok(
        await ours([
          'sign',
          'certificate',
          dirModel,
          '--private-key',
          leaf.key,
          '--signing-certificate',
          leaf.cert,
          '--certificate-chain',
          ca.intermediateCert,
          '--signature',
          ourSig,
        ]),
        'our sign',
      );
      ok(
        await reference(['verify', 'certificate', dirModel, '--signature', ourSig, '--certificate_chain', ca.rootCert]),
        `reference verify ${curve}`,
      );

      const refSig = path.join(work, `cert-ref-${curve}.sig`);
      ok(
        await reference([
          'sign',
          'certificate',
          dirModel,
          '--signature',
          refSig,
          '--private_key',
          leaf.key,
          '--signing_certificate',
          leaf.cert,
          '--certificate_chain',
          ca.intermediateCert,
        ]),
        'reference sign',
      );
      ok(await ours(['verify', 'certificate', dirModel, '--signature', refSig, '--certificate-chain', ca.rootCert]), `our verify ${curve}`);
    }
  });
});

describe('shards and blake2b through the reference Python API', () => {
  // The same flags mean the same thing to our CLI and to scripts/reference_api.py.
  const variants = [
    { name: 'shards of 1,000 bytes', args: ['--method', 'shards', '--shard-size', '1000'] },
    // 13 shards of the 5,000-byte file: offsets of 3 and 4 digits, which code-point order interleaves.
    { name: 'shards of 400 bytes', args: ['--method', 'shards', '--shard-size', '400'] },
    { name: 'default 1 GB shards', args: ['--method', 'shards'] },
    { name: 'blake2b files', args: ['--hash', 'blake2b'] },
    { name: 'blake2b shards of 777 bytes', args: ['--hash', 'blake2b', '--method', 'shards', '--shard-size', '777'] },
  ];
  for (const v of variants) {
    it(`${v.name}: ours signs → the reference verifies; the reference signs → ours verifies`, async () => {
      const keys = await writeKeyPair(work, 'P-256');
      const ourSig = path.join(work, `api-ours-${v.name.replace(/\W+/g, '-')}.sig`);
      // The reference API does not exclude the signature file: keep it outside the model.
      ok(await ours(['sign', 'key', dirModel, '--private-key', keys.privateKey, '--signature', ourSig, ...v.args]), 'our sign');
      ok(await referenceApi(['verify', dirModel, ourSig, keys.publicKey, ...v.args]), 'reference API verify');

      const refSig = path.join(work, `api-ref-${v.name.replace(/\W+/g, '-')}.sig`);
      ok(await referenceApi(['sign', dirModel, refSig, keys.privateKey, ...v.args]), 'reference API sign');
      const verified = await ours(['verify', 'key', dirModel, '--signature', refSig, '--public-key', keys.publicKey, '--json']);
      ok(verified, 'our verify');
      expect(JSON.parse(verified.stdout).serialization.method).toBe(v.args.includes('shards') ? 'shards' : 'files');
    });
  }
});
