import { createPublicKey } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { CreateKeyCommand, GetPublicKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMoto, type MotoServer } from '../../../test-fixtures/moto.mjs';
import { issueLeaf, makeCertificateAuthority, type CertificateAuthority } from '../../../test-fixtures/pki.mjs';
import { issueLeafForPublicKey } from '../../../test-fixtures/pki-external.mjs';
import { createSoftHsmToken } from '../../../test-fixtures/softhsm.mjs';
import { startTimestampAuthority, type TimestampAuthority } from '../../../test-fixtures/timestamp-authority.mjs';
import { certificateSignerFlags, ok, pkcs11CertificateFlags } from '../../../test-fixtures/cli-runs.mjs';
import { REFERENCE_CLI, cleanupTempDirs, makeTrickyModel, ours, reference, tempDir, type RunResult } from './helpers.js';

// `sign … --tsa-url` and `verify … --tsa-certificate-chain` against a real
// timestamp authority (Sigstore's timestamp-server on loopback), for every
// method that takes them: key files, certificates, PKCS#11 keys (SoftHSM2)
// and KMS keys (moto); and the reference, which ignores the timestamp,
// still verifies what we write.

/** The TSA is shared by the test processes of the machine (test-fixtures/timestamp-authority.mjs): joining it may wait for a lock. */
const SETUP_TIMEOUT_MS = 180_000;

/** `verify key|certificate` of the model: the signature, what the method trusts (`--public-key`, or `--certificate-chain` up to the root). */
function verifyArgs(method: 'key' | 'certificate', signature: string, trusted: string): string[] {
  return ['verify', method, model, '--signature', signature, method === 'key' ? '--public-key' : '--certificate-chain', trusted];
}

function fails(result: RunResult, exit: number, code: string): string {
  expect(result.code, `stdout: ${result.stdout}\nstderr: ${result.stderr}`).toBe(exit);
  expect(result.stderr).toContain(`[${code}]`);
  return result.stderr;
}

let work: string;
let model: string;
let ca: CertificateAuthority;
let leaf: { key: string; cert: string };
let privateKey: string;
let publicKey: string;
let tsa: TimestampAuthority;
/** The TSA's chain (its certificate, intermediate and root), and its issuers alone, as files. */
let tsaChain: string;
let tsaIssuers: string;
/** Another authority's root, as a file. */
let otherTsaRoot: string;
/** A certificate signature timestamped while its leaf was valid; the leaf has expired since. */
let expiredLeafSignature: string;

const exists = (file: string) =>
  fs.access(file).then(
    () => true,
    () => false,
  );

beforeAll(async () => {
  await fs.access(REFERENCE_CLI).catch(() => {
    throw new Error(`The reference CLI is missing at ${REFERENCE_CLI}; run scripts/setup-reference.sh`);
  });
  work = await tempDir('oms-cli-tsa-');
  model = await makeTrickyModel(work);
  ca = makeCertificateAuthority(path.join(work, 'ca'));
  leaf = issueLeaf(path.join(work, 'ca'), ca, { name: 'release-signer' });
  const keyPair = issueLeaf(path.join(work, 'ca'), ca, { name: 'key-only' });
  privateKey = keyPair.key;
  publicKey = path.join(work, 'key.pub');
  await fs.writeFile(publicKey, createPublicKey(await fs.readFile(privateKey, 'utf8')).export({ type: 'spki', format: 'pem' }));

  otherTsaRoot = makeCertificateAuthority(path.join(work, 'other-tsa')).rootCert;

  tsa = await startTimestampAuthority({ dir: work });
  tsaChain = path.join(work, 'tsa-chain.pem');
  await fs.writeFile(tsaChain, tsa.certificateChainPem);
  tsaIssuers = path.join(work, 'tsa-issuers.pem');
  await fs.writeFile(
    tsaIssuers,
    tsa.certificateChainPem.slice(tsa.certificateChainPem.indexOf('-----END CERTIFICATE-----') + 26).trim() + '\n',
  );

  // Signed through the library: the leaf expires seconds later, sooner than a CLI process could start under load.
  const notAfter = new Date(Date.now() + 3000);
  const short = issueLeaf(path.join(work, 'ca'), ca, {
    name: 'short-lived',
    validity: { notBefore: new Date(Date.now() - 3600_000), notAfter },
  });
  const { CertificateSigner, signModel } = await import('@model-signing/core');
  expiredLeafSignature = path.join(work, 'expired-leaf.sig');
  await signModel({
    modelPath: model,
    signaturePath: expiredLeafSignature,
    signer: await CertificateSigner.create({
      privateKey: short.key,
      signingCertificate: short.cert,
      certificateChain: [ca.intermediateCert],
    }),
    timestampAuthority: { url: tsa.url },
  });
  const wait = notAfter.getTime() + 1500 - Date.now();
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
}, SETUP_TIMEOUT_MS);

afterAll(async () => {
  await tsa?.close();
  await cleanupTempDirs();
});

describe('sign key --tsa-url', () => {
  let sig: string;
  beforeAll(async () => {
    sig = path.join(work, 'key.sig');
    const result = await ours(['sign', 'key', model, '--private-key', privateKey, '--signature', sig, '--tsa-url', tsa.url]);
    ok(result, 'sign');
    expect(result.stdout).toContain(`; timestamped by ${tsa.url})`);
  });

  it('writes the timestamp; verify shows it unverified and unused without --tsa-certificate-chain', async () => {
    const bundle = JSON.parse(await fs.readFile(sig, 'utf8'));
    expect(bundle.verificationMaterial.timestampVerificationData.rfc3161Timestamps).toHaveLength(1);
    const result = await ours(verifyArgs('key', sig, publicKey));
    ok(result, 'verify');
    expect(result.stdout).toMatch(
      /^Verification succeeded; timestamp \S+Z by '[^']*Test TSA[^']*' not checked and not used \(give --tsa-certificate-chain to verify it\)\n$/,
    );
  });

  it("verifies it with --tsa-certificate-chain (the chain, or its issuers without the TSA's own certificate), in --json too", async () => {
    for (const chain of [tsaChain, tsaIssuers]) {
      const result = await ours([...verifyArgs('key', sig, publicKey), '--tsa-certificate-chain', chain]);
      ok(result, 'verify');
      expect(result.stdout).toMatch(/^Verification succeeded; timestamped \S+Z by '[^']*Test TSA[^']*' \(verified\)\n$/);
    }
    const json = await ours([...verifyArgs('key', sig, publicKey), '--tsa-certificate-chain', tsaChain, '--json']);
    ok(json, 'verify --json');
    const [stamp] = JSON.parse(json.stdout).signer.timestamps;
    expect(stamp).toEqual({
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      verified: true,
      authority: expect.stringContaining('Test TSA'),
    });
  });

  it('the reference (model_signing 1.1.1) verifies it, ignoring the timestamp', async () => {
    ok(await reference(['verify', 'key', model, '--signature', sig, '--public_key', publicKey]), 'reference verify');
  });

  it('refuses a timestamp from another authority than the one trusted (TIMESTAMP_INVALID)', async () => {
    const stderr = fails(
      await ours([...verifyArgs('key', sig, publicKey), '--tsa-certificate-chain', otherTsaRoot]),
      1,
      'TIMESTAMP_INVALID',
    );
    expect(stderr).toMatch(
      /^Verification failed \[TIMESTAMP_INVALID\]: .*The RFC 3161 timestamp does not verify: its signer certificate .* is not a trusted TSA certificate at .*does not chain to any trusted certificate/,
    );
  });
});

describe('sign certificate --tsa-url', () => {
  it('verifies with the certificate checked at the stamped time; the reference verifies it too', async () => {
    const sig = path.join(work, 'cert.sig');
    ok(
      await ours([
        'sign',
        'certificate',
        model,
        ...certificateSignerFlags(leaf, ca.intermediateCert),
        '--signature',
        sig,
        '--tsa-url',
        tsa.url,
      ]),
      'sign',
    );
    const result = await ours([...verifyArgs('certificate', sig, ca.rootCert), '--tsa-certificate-chain', tsaChain]);
    ok(result, 'verify');
    expect(result.stdout).toMatch(/; timestamped \S+Z by '[^']+' \(verified: the certificate was checked at that time\)\n$/);
    ok(await reference(['verify', 'certificate', model, '--signature', sig, '--certificate_chain', ca.rootCert]), 'reference verify');
  });

  it('a certificate that expired after signing verifies with --tsa-certificate-chain, and is refused without, saying so', async () => {
    ok(await ours([...verifyArgs('certificate', expiredLeafSignature, ca.rootCert), '--tsa-certificate-chain', tsaChain]), 'verify');
    const stderr = fails(await ours(verifyArgs('certificate', expiredLeafSignature, ca.rootCert)), 1, 'CERT_CHAIN_INVALID');
    expect(stderr).toMatch(/'CN=short-lived' has expired.*give its timestamp authority with --tsa-certificate-chain/);
  });
});

describe('hf upload --tsa-url: the signature uploaded is timestamped as sign timestamps it', () => {
  it('key and certificate signatures carry the stamp, which verify checks; a TSA that is down uploads nothing; sigstore refuses the flag', async () => {
    const { FakeHub } = await import('@model-signing/hf-hub/testing');
    const hub = await FakeHub.start();
    try {
      const hubArgs = ['--token', 'hf_tsa_test_token', '--endpoint', hub.url];
      const upload = await ours([
        'hf',
        'upload',
        'key',
        model,
        'org/stamped',
        '--private-key',
        privateKey,
        '--tsa-url',
        tsa.url,
        '--create-repo',
        ...hubArgs,
      ]);
      ok(upload, 'hf upload key');
      expect(upload.stdout).toContain(`; timestamped by ${tsa.url}`);
      const uploaded = path.join(work, 'hf-stamped.sig');
      await fs.writeFile(uploaded, hub.files('org/stamped').get('model.sig')!.data);
      const bundle = JSON.parse(await fs.readFile(uploaded, 'utf8'));
      expect(bundle.verificationMaterial.timestampVerificationData.rfc3161Timestamps).toHaveLength(1);
      const verified = await ours([
        'verify',
        'key',
        model,
        '--signature',
        uploaded,
        '--public-key',
        publicKey,
        '--tsa-certificate-chain',
        tsaChain,
      ]);
      ok(verified, 'verify the uploaded signature');
      expect(verified.stdout).toMatch(/; timestamped \S+Z by '[^']*Test TSA[^']*' \(verified\)\n$/);

      const certificate = await ours([
        'hf',
        'upload',
        'certificate',
        model,
        'org/stamped-cert',
        ...certificateSignerFlags(leaf, ca.intermediateCert),
        '--tsa-url',
        tsa.url,
        '--create-repo',
        '--json',
        ...hubArgs,
      ]);
      ok(certificate, 'hf upload certificate');
      expect(JSON.parse(certificate.stdout)).toMatchObject({ ok: true, timestampAuthority: tsa.url });
      ok(
        await ours([
          'hf',
          'verify',
          'certificate',
          'org/stamped-cert',
          '--certificate-chain',
          ca.rootCert,
          '--tsa-certificate-chain',
          tsaChain,
          ...hubArgs,
        ]),
        'hf verify certificate with the TSA chain',
      );

      // Nothing goes up when the TSA does not answer: the repo keeps its one commit's signature.
      const before = hub.files('org/stamped').get('model.sig')!.data;
      const down = tsa.url.replace(/:\d+\//, ':9/');
      fails(
        await ours(['hf', 'upload', 'key', model, 'org/stamped', '--private-key', privateKey, '--tsa-url', down, ...hubArgs]),
        1,
        'NETWORK_ERROR',
      );
      expect(hub.files('org/stamped').get('model.sig')!.data).toEqual(before);

      const keyless = await ours(['hf', 'upload', 'sigstore', model, 'org/stamped', '--tsa-url', tsa.url, ...hubArgs]);
      expect(keyless.code, keyless.stderr).toBe(2);
      expect(keyless.stderr).toContain('--tsa-url applies to key and certificate signatures');
    } finally {
      await hub.close();
    }
  });
});

describe('sign --tsa-url failures: the signature is not written', () => {
  it('a TSA that is down (NETWORK_ERROR)', async () => {
    const down = tsa.url.replace(/:\d+\//, ':9/');
    const sig = path.join(work, 'down.sig');
    const stderr = fails(
      await ours(['sign', 'key', model, '--private-key', privateKey, '--signature', sig, '--tsa-url', down]),
      1,
      'NETWORK_ERROR',
    );
    expect(stderr).toContain(
      'Signing failed [NETWORK_ERROR]: The timestamp authority at http://127.0.0.1:9/api/v1/timestamp cannot be reached',
    );
    expect(await exists(sig)).toBe(false);
  });

  it('a URL that is not http(s), and --tsa-url with keyless signing (usage errors, exit 2)', async () => {
    const sig = path.join(work, 'refused.sig');
    fails(
      await ours(['sign', 'key', model, '--private-key', privateKey, '--signature', sig, '--tsa-url', 'file:///tmp/tsa']),
      2,
      'INVALID_ARGUMENT',
    );
    const keyless = await ours(['sign', 'sigstore', model, '--signature', sig, '--tsa-url', tsa.url]);
    expect(keyless.code).toBe(2);
    expect(keyless.stderr).toContain("unknown option '--tsa-url'");
    expect(await exists(sig)).toBe(false);
  });

  it('unreadable TSA certificates at verify time (NOT_FOUND, BAD_KEY)', async () => {
    const sig = path.join(work, 'key.sig');
    fails(await ours([...verifyArgs('key', sig, publicKey), '--tsa-certificate-chain', path.join(work, 'nope.pem')]), 1, 'NOT_FOUND');
    fails(await ours([...verifyArgs('key', sig, publicKey), '--tsa-certificate-chain', publicKey]), 1, 'BAD_KEY');
  });
});

describe('keys in a PKCS#11 token and in KMS take --tsa-url too', () => {
  it('pkcs11-key and pkcs11-certificate (SoftHSM2)', async () => {
    const token = createSoftHsmToken(path.join(work, 'hsm'));
    token.generateKey('P-256', '01', 'tsa-key');
    const tokenPublicKey = token.exportPublicKey('01', path.join(work, 'token.pub.pem'));
    const uri = `pkcs11:token=${token.label};object=tsa-key?pin-value=${token.pin}&module-path=${token.module}`;
    const keySig = path.join(work, 'pkcs11-key.sig');
    ok(await ours(['sign', 'pkcs11-key', model, '--pkcs11-uri', uri, '--signature', keySig, '--tsa-url', tsa.url]), 'sign pkcs11-key');
    const verified = await ours([...verifyArgs('key', keySig, tokenPublicKey), '--tsa-certificate-chain', tsaChain]);
    ok(verified, 'verify');
    expect(verified.stdout).toContain('(verified)');
    const tokenLeaf = issueLeafForPublicKey(path.join(work, 'ca'), ca, tokenPublicKey, 'token-leaf');
    const certSig = path.join(work, 'pkcs11-cert.sig');
    ok(
      await ours([
        'sign',
        'pkcs11-certificate',
        model,
        ...pkcs11CertificateFlags(uri, tokenLeaf, ca.intermediateCert),
        '--signature',
        certSig,
        '--tsa-url',
        tsa.url,
      ]),
      'sign pkcs11-certificate',
    );
    const certVerified = await ours([...verifyArgs('certificate', certSig, ca.rootCert), '--tsa-certificate-chain', tsaChain]);
    ok(certVerified, 'verify');
    expect(certVerified.stdout).toContain('the certificate was checked at that time');
    ok(await reference(['verify', 'key', model, '--signature', keySig, '--public_key', tokenPublicKey]), 'reference verify');
  });

  it('a KMS key (moto)', async () => {
    let moto: MotoServer | undefined;
    let kms: KMSClient | undefined;
    const saved = { ...process.env };
    try {
      moto = await startMoto();
      const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };
      Object.assign(process.env, {
        AWS_REGION: 'eu-west-1',
        AWS_ENDPOINT_URL_KMS: moto.endpoint,
        AWS_ACCESS_KEY_ID: credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
        AWS_EC2_METADATA_DISABLED: 'true',
      });
      delete process.env['AWS_PROFILE'];
      kms = new KMSClient({ region: 'eu-west-1', endpoint: moto.endpoint, credentials });
      const { KeyMetadata } = await kms.send(new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' }));
      const { PublicKey } = await kms.send(new GetPublicKeyCommand({ KeyId: KeyMetadata!.KeyId! }));
      const kmsPublicKey = path.join(work, 'kms.pub.pem');
      await fs.writeFile(
        kmsPublicKey,
        createPublicKey({ key: Buffer.from(PublicKey!), format: 'der', type: 'spki' }).export({ type: 'spki', format: 'pem' }),
      );
      const sig = path.join(work, 'kms.sig');
      ok(
        await ours(['sign', 'key', model, '--private-key', `kms://aws/${KeyMetadata!.KeyId!}`, '--signature', sig, '--tsa-url', tsa.url]),
        'sign',
      );
      const verified = await ours([...verifyArgs('key', sig, kmsPublicKey), '--tsa-certificate-chain', tsaChain]);
      ok(verified, 'verify');
      expect(verified.stdout).toContain('(verified)');
    } finally {
      kms?.destroy();
      await moto?.stop();
      process.env = saved;
    }
  });
});
