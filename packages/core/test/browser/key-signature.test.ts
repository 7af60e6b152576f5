/**
 * The key method's WebCrypto verification (DER → P1363 with asn1js, SPKI
 * import, DSSE PAE) in headless Chromium and in Node, on the reference's real
 * key-method bundles and on P-256/P-384/P-521 signatures made by node:crypto
 * (OpenSSL). Every case must also fail after one changed byte of payload or
 * signature, with another key, and with another key's hint.
 */
import { createHash, createPublicKey, generateKeyPairSync, sign, verify as nodeVerify, type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compatPreAuthEncoding, derToP1363, preAuthEncoding as neutralPae } from '../../dist/internal.js';
import { preAuthEncoding as nodePae } from '../../dist/internal.js';
import { HISTORICAL, REFERENCE_KEYS, SPEC_VECTORS } from '../helpers.js';
import { startBrowser, type BrowserHarness } from './harness.js';
import { describeKey, verify, type SignatureCase } from './page/key-page.js';

const TYPE = 'application/vnd.in-toto+json';
const REFERENCE_PEM = fs.readFileSync(path.join(REFERENCE_KEYS, 'signing-key-pub.pem'), 'utf8');
const REFERENCE_HINT = 'e8450dec4eb99dae995da9af1bc2cc9f76ed669ee2e744f57abba763df3e3f8e';

const CURVES = { 'P-256': ['prime256v1', 'sha256'], 'P-384': ['secp384r1', 'sha384'], 'P-521': ['secp521r1', 'sha512'] } as const;
type Curve = keyof typeof CURVES;

const pemOf = (key: KeyObject) => createPublicKey(key).export({ type: 'spki', format: 'pem' }).toString();
const hintOf = (pem: string) => createHash('sha256').update(pem).digest('hex');
const newKey = (curve: Curve) => generateKeyPairSync('ec', { namedCurve: CURVES[curve][0] }).privateKey;

function fromBundle(file: string): SignatureCase {
  const bundle = JSON.parse(fs.readFileSync(file, 'utf8'));
  const envelope = bundle.dsseEnvelope;
  return {
    publicKeyPem: REFERENCE_PEM,
    payloadType: envelope.payloadType,
    payloadBase64: envelope.payload,
    signatureBase64: envelope.signatures[0].sig,
    hint: bundle.verificationMaterial.publicKey.hint,
  };
}

function signedByNode(curve: Curve, pae: (type: string, payload: Uint8Array) => Uint8Array = neutralPae): SignatureCase {
  const key = newKey(curve);
  const payload = Buffer.from(JSON.stringify({ _type: 'https://in-toto.io/Statement/v1', curve, note: "it's\n\u00e9" }));
  const signature = sign(CURVES[curve][1], pae(TYPE, payload), key); // DER, as OpenSSL and the reference write it
  const pem = pemOf(key);
  return {
    publicKeyPem: pem,
    payloadType: TYPE,
    payloadBase64: payload.toString('base64'),
    signatureBase64: signature.toString('base64'),
    hint: hintOf(pem),
  };
}

function flip(base64: string, index: (length: number) => number): string {
  const bytes = Buffer.from(base64, 'base64');
  const i = index(bytes.length);
  bytes[i] = bytes[i] ^ 0x01;
  return bytes.toString('base64');
}

const curveOfCase = (c: SignatureCase): Curve => (c.publicKeyPem === REFERENCE_PEM ? 'P-384' : (describeCurve(c.publicKeyPem) as Curve));
const describeCurve = (pem: string) =>
  ({ prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' })[createPublicKey(pem).asymmetricKeyDetails!.namedCurve!];

/** Each valid case, and variants that must fail with the given code. */
function cases(): [string, SignatureCase, string][] {
  const valid: [string, SignatureCase][] = [
    ...['v0.3.1', 'v1.0.0', 'v1.0.1', 'v1.1.0'].map((v): [string, SignatureCase] => [
      `reference ${v} key bundle`,
      fromBundle(path.join(HISTORICAL, `${v}-elliptic-key/model.sig`)),
    ]),
    ['OMS spec valid key bundle', fromBundle(path.join(SPEC_VECTORS, 'valid/key.bundle.json'))],
    ...(Object.keys(CURVES) as Curve[]).map((curve): [string, SignatureCase] => [`${curve} signed by node:crypto`, signedByNode(curve)]),
    ['P-384 over the v0.2 compat PAE', signedByNode('P-384', compatPreAuthEncoding)],
  ];
  const out: [string, SignatureCase, string][] = [];
  for (const [name, c] of valid) {
    const otherPem = pemOf(newKey(curveOfCase(c)));
    out.push(
      [name, c, 'ok'],
      [`${name}, one payload byte changed`, { ...c, payloadBase64: flip(c.payloadBase64, (n) => n >> 1) }, 'SIGNATURE_INVALID'],
      [`${name}, one byte of r changed`, { ...c, signatureBase64: flip(c.signatureBase64, () => 10) }, 'SIGNATURE_INVALID'],
      [`${name}, last byte of s changed`, { ...c, signatureBase64: flip(c.signatureBase64, (n) => n - 1) }, 'SIGNATURE_INVALID'],
      [
        `${name}, a byte after the DER`,
        { ...c, signatureBase64: Buffer.concat([Buffer.from(c.signatureBase64, 'base64'), Buffer.of(0)]).toString('base64') },
        'SIGNATURE_INVALID',
      ],
      [`${name}, another key`, { ...c, publicKeyPem: otherPem, hint: undefined }, 'SIGNATURE_INVALID'],
      [`${name}, another key's hint`, { ...c, hint: hintOf(otherPem) }, 'KEY_MISMATCH'],
    );
  }
  return out;
}

const BAD_KEYS: [string, string][] = [
  ['an RSA key', generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }).toString()],
  ['a secp256k1 key', pemOf(generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).privateKey)],
  ['an Ed25519 key', generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString()],
  ['no PEM', 'not a key'],
  ['a PEM of garbage', '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n'],
];

describe('runtime-neutral DSSE PAE', () => {
  it('is the Node layer PAE, and writes the DSSE v1 and reference v0.2 compat forms', () => {
    const payload = Buffer.from([...Buffer.from('{"a":"it\'s\\\t\r\n"}'), 0x00, 0x7f, 0xff]);
    // One implementation serves both entries (the Node entry re-exports format/dsse.ts).
    expect(nodePae).toBe(neutralPae);
    expect(
      Buffer.from(neutralPae(TYPE, payload)).equals(Buffer.concat([Buffer.from(`DSSEv1 28 ${TYPE} ${payload.length} `), payload])),
    ).toBe(true);
    expect(Buffer.from(compatPreAuthEncoding(TYPE, payload)).toString('latin1')).toBe(
      `DSSEV1 28 ${TYPE} ${payload.length} b'{"a":"it\\'s\\\\\\t\\r\\n"}\\x00\\x7f\\xff'`,
    );
  });
});

describe('DER → P1363 signature conversion', () => {
  const der = (...parts: number[][]) => Uint8Array.from(parts.flat());
  const int = (bytes: number[]) => [0x02, bytes.length, ...bytes];
  const seq = (...items: number[][]) => [0x30, items.flat().length, ...items.flat()];

  it('gives r || s that OpenSSL accepts as IEEE P1363, on every curve', () => {
    for (const curve of Object.keys(CURVES) as Curve[]) {
      const key = newKey(curve);
      for (let i = 0; i < 20; i++) {
        const data = Buffer.from(`message ${i}`);
        const p1363 = derToP1363(sign(CURVES[curve][1], data, key), curve)!;
        expect(p1363.length).toBe({ 'P-256': 64, 'P-384': 96, 'P-521': 132 }[curve]);
        expect(nodeVerify(CURVES[curve][1], data, { key, dsaEncoding: 'ieee-p1363' }, p1363)).toBe(true);
      }
    }
  });

  it('left-pads short integers and takes a leading zero before a high bit', () => {
    expect(derToP1363(der(seq(int([0x01]), int([0x00, 0x80]))), 'P-256')).toEqual(
      Uint8Array.from([...Array(31).fill(0), 1, ...Array(31).fill(0), 0x80]),
    );
  });

  it('refuses anything that is not strict DER of two fitting non-negative integers', () => {
    const refused: [string, Uint8Array][] = [
      ['long-form length', der([0x30, 0x81, 6], int([1]), int([1]))],
      ['non-minimal integer', der(seq(int([0x00, 0x01]), int([1])))],
      ['negative integer', der(seq(int([0x80]), int([1])))],
      ['empty integer', der(seq([0x02, 0x00], int([1])))],
      ['three integers', der(seq(int([1]), int([1]), int([1])))],
      ['one integer', der(seq(int([1])))],
      ['r longer than the field', der(seq(int(Array(33).fill(1)), int([1])))],
      ['not a sequence', der(int([1]))],
      ['trailing byte', der(seq(int([1]), int([1])), [0])],
      ['empty', der()],
    ];
    for (const [name, bytes] of refused) expect(derToP1363(bytes, 'P-256'), name).toBeUndefined();
  });
});

const all = cases();

describe('key-method signature verification in Node (WebCrypto of Node)', () => {
  it('reads the reference key behind its text dump, with the reference hint', async () => {
    expect(await describeKey(REFERENCE_PEM)).toEqual({ curve: 'P-384', hash: 'SHA-384', hint: REFERENCE_HINT });
  });
  for (const [name, c, expected] of all) it(`${name} → ${expected}`, async () => expect(await verify(c)).toBe(expected));
  for (const [name, pem] of BAD_KEYS)
    it(`refuses ${name} with BAD_KEY`, async () => expect(await verify({ ...all[0][1], publicKeyPem: pem })).toBe('BAD_KEY'));
});

describe('key-method signature verification in headless Chromium', () => {
  let browser: BrowserHarness;
  beforeAll(async () => {
    browser = await startBrowser({ entry: new URL('./page/key-page.ts', import.meta.url).pathname });
  });
  afterAll(() => browser?.close());

  it("reads the reference key and every generated key with Node's hint", async () => {
    expect(await browser.call('describeKey', REFERENCE_PEM)).toEqual({ curve: 'P-384', hash: 'SHA-384', hint: REFERENCE_HINT });
    for (const curve of Object.keys(CURVES) as Curve[]) {
      const pem = pemOf(newKey(curve));
      expect(await browser.call('describeKey', pem)).toMatchObject({ curve, hint: hintOf(pem) });
    }
  });

  it('gives the expected result for every case', async () => {
    const results: Record<string, string> = {};
    for (const [name, c] of all) results[name] = await browser.call<string>('verify', c);
    expect(results).toEqual(Object.fromEntries(all.map(([name, , expected]) => [name, expected])));
  });

  it('refuses keys OMS does not allow with BAD_KEY', async () => {
    for (const [name, pem] of BAD_KEYS) expect(await browser.call('verify', { ...all[0][1], publicKeyPem: pem }), name).toBe('BAD_KEY');
  });
});
