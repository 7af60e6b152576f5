/**
 * RFC 3161 timestamps in real Chromium, through the browser entry: the
 * WebCrypto key and certificate verifiers take `tsaCertificateChain` and
 * give, on bundles signed here against the real timestamp authority, the
 * verdict Node's verifiers give, code for code.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CertificateSigner, CertificateVerifier, KeySigner, KeyVerifier, signModel, type Signer, type Verifier } from '../../dist/index.js';
import { issueLeaf, makeCertificateAuthority, type CertificateAuthority } from '../../../../test-fixtures/pki.mjs';
import { startTimestampAuthority } from '../../../../test-fixtures/timestamp-authority.mjs';
import { cleanupTempDirs, ecKeyPair, tempDir, writeTree } from '../helpers.js';
import { verdictOf, type Verdict } from '../sigstore-web/cases.js';
import { startBrowser, type BrowserHarness } from './harness.js';
import type { TimestampVerifierSpec } from './page/timestamp-page.js';

let browser: BrowserHarness;
let work: string;
let ca: CertificateAuthority;
let keys: { privateKey: string; publicKey: string };
let tsaChain: string;
let rootPem: string;
let otherChain: string;
const bundles: Record<string, string> = {};

async function sign(name: string, signer: Signer, url?: string): Promise<void> {
  const signaturePath = path.join(work, `${name}.sig`);
  await signModel({ modelPath: path.join(work, 'model'), signaturePath, signer, ...(url ? { timestampAuthority: { url } } : {}) });
  bundles[name] = await fs.readFile(signaturePath, 'utf8');
}

beforeAll(async () => {
  work = await tempDir('oms-tsa-browser-');
  await writeTree(path.join(work, 'model'), { 'weights.bin': 'w'.repeat(1000) });
  ca = makeCertificateAuthority(path.join(work, 'ca'));
  rootPem = await fs.readFile(ca.rootCert, 'utf8');
  keys = ecKeyPair();
  const leaf = issueLeaf(path.join(work, 'ca'), ca, { name: 'leaf' });
  const certSigner = (l: { key: string; cert: string }) =>
    CertificateSigner.create({ privateKey: l.key, signingCertificate: l.cert, certificateChain: [ca.intermediateCert] });
  // Another authority's certificates: a root that never issued the TSA's.
  otherChain = await fs.readFile(makeCertificateAuthority(path.join(work, 'other-tsa')).rootCert, 'utf8');
  const tsa = await startTimestampAuthority({ dir: work });
  try {
    tsaChain = tsa.certificateChainPem;
    const notAfter = new Date(Date.now() + 3000);
    const short = issueLeaf(path.join(work, 'ca'), ca, {
      name: 'short',
      validity: { notBefore: new Date(Date.now() - 3600_000), notAfter },
    });
    await sign('cert-short', await certSigner(short), tsa.url);
    await sign('key', await KeySigner.create({ privateKey: keys.privateKey }), tsa.url);
    await sign('cert', await certSigner(leaf), tsa.url);
    const wait = notAfter.getTime() + 1500 - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  } finally {
    await tsa.close();
  }
  const garbage = JSON.parse(bundles['key']);
  garbage.verificationMaterial.timestampVerificationData.rfc3161Timestamps[0].signedTimestamp = btoa('no timestamp');
  bundles['key-garbage'] = JSON.stringify(garbage);
  browser = await startBrowser({ entry: new URL('./page/timestamp-page.ts', import.meta.url).pathname });
}, 400_000);

afterAll(async () => {
  await browser?.close();
  await cleanupTempDirs();
});

/** A verdict as it crosses JSON (dates as ISO text), without the message, which may name runtime details. */
const comparable = (v: Verdict) => (v.ok ? JSON.parse(JSON.stringify(v)) : { ok: false, code: v.code });

describe('key and certificate verifiers with tsaCertificateChain in Chromium, as in Node', () => {
  const keySpec = (chain?: string): TimestampVerifierSpec => ({
    method: 'key',
    publicKeyPem: keys.publicKey,
    ...(chain ? { tsaCertificateChainPem: [chain] } : {}),
  });
  const certSpec = (chain?: string): TimestampVerifierSpec => ({
    method: 'certificate',
    certificateChainPem: [rootPem],
    ...(chain ? { tsaCertificateChainPem: [chain] } : {}),
  });
  const node = async (spec: TimestampVerifierSpec): Promise<Verifier> => {
    const tsa = spec.tsaCertificateChainPem ? { tsaCertificateChain: spec.tsaCertificateChainPem } : {};
    return spec.method === 'key'
      ? KeyVerifier.create({ publicKey: spec.publicKeyPem, ...tsa })
      : CertificateVerifier.create({ certificateChain: spec.certificateChainPem, ...tsa });
  };
  const CASES: [string, string, () => TimestampVerifierSpec, string][] = [
    ['a key signature, TSA not given: reported unverified', 'key', () => keySpec(), 'ok'],
    ['a key signature with its TSA', 'key', () => keySpec(tsaChain), 'ok'],
    ['a key signature with another TSA', 'key', () => keySpec(otherChain), 'TIMESTAMP_INVALID'],
    ['a token that is no timestamp', 'key-garbage', () => keySpec(tsaChain), 'TIMESTAMP_INVALID'],
    ['a certificate signature with its TSA', 'cert', () => certSpec(tsaChain), 'ok'],
    ['a certificate signature with another TSA', 'cert', () => certSpec(otherChain), 'TIMESTAMP_INVALID'],
    ['an expired certificate with a timestamp from its validity', 'cert-short', () => certSpec(tsaChain), 'ok'],
    ['an expired certificate, TSA not given', 'cert-short', () => certSpec(), 'CERT_CHAIN_INVALID'],
  ];
  it.each(CASES)('%s', async (_, name, spec, expected) => {
    const pems = spec();
    const web = await browser.call<Verdict>('timestampVerdict', bundles[name], pems);
    const ours = await verdictOf(await node(pems), bundles[name]);
    expect(comparable(web)).toEqual(comparable(ours));
    expect(web.ok ? 'ok' : web.code).toBe(expected);
    if (web.ok) expect(web.signer.timestamps).toEqual([expect.objectContaining({ verified: pems.tsaCertificateChainPem !== undefined })]);
  });
});
