import { generateKeyPairSync, sign as cryptoSign, verify as cryptoVerify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ExternalKeySigner, KeyVerifier, PAYLOAD_TYPE, signPayload } from '../dist/index.js';
import { parseBundle } from '../dist/internal.js';
import { p1363ToDer, parsePkcs11Uri, publicKeyHint } from '../dist/internal-node.js';
import { loadOptionalPackage } from '../dist/methods/external-key.js';
import { pinOf } from '../dist/methods/pkcs11/uri.js';
import { expectCode } from './helpers.js';

// The parts of PKCS#11 and KMS signing that need no token or service: the
// raw → DER signature conversion, the check of what a service returns, the
// URI parser and the missing-package error. The tokens and services
// themselves are tested in packages/cli/test/pkcs11.test.ts and kms.test.ts.

describe('p1363ToDer', () => {
  it.each(['P-256', 'P-384', 'P-521'] as const)('turns raw r || s on %s into a DER signature that verifies', (curve) => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: curve });
    // Many signatures, so r or s with a high bit set or leading zero bytes occur.
    for (let i = 0; i < 50; i++) {
      const data = Buffer.from(`message ${i}`);
      const raw = cryptoSign('sha256', data, { key: privateKey, dsaEncoding: 'ieee-p1363' });
      expect(cryptoVerify('sha256', data, publicKey, p1363ToDer(raw))).toBe(true);
    }
  });
});

describe('ExternalKeySigner', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-384' });

  it('makes key bundles that verify with the public key', async () => {
    const signer = new ExternalKeySigner({
      publicKey,
      description: 'an in-process key',
      sign: async ({ digest, hash, pae }) => {
        expect(hash).toBe('sha384');
        expect(digest).toHaveLength(48);
        return { signature: cryptoSign(hash, pae, { key: privateKey, dsaEncoding: 'ieee-p1363' }), encoding: 'ieee-p1363' };
      },
    });
    const bundle = await signPayload({ signer, payload: Buffer.from('{"a":1}'), payloadType: PAYLOAD_TYPE });
    const parsed = parseBundle(JSON.stringify(bundle));
    expect(parsed.publicKeyHint).toBe(publicKeyHint(publicKey));
    await expect(
      (await KeyVerifier.create({ publicKey: publicKey.export({ type: 'spki', format: 'pem' }) })).verify(parsed),
    ).resolves.toMatchObject({ method: 'key' });
  });

  it('refuses a signature made by another key, so no signature file is written', async () => {
    const other = generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey;
    const signer = new ExternalKeySigner({
      publicKey,
      description: 'a confused service',
      sign: async ({ pae }) => ({ signature: cryptoSign('sha384', pae, other), encoding: 'der' }),
    });
    const err = await expectCode(signPayload({ signer, payload: Buffer.from('{}'), payloadType: PAYLOAD_TYPE }), 'KEY_SERVICE_ERROR');
    expect(err.message).toMatch(/a confused service/);
  });

  it('refuses keys OMS does not allow', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey;
    expect(
      () =>
        new ExternalKeySigner({ publicKey: rsa, description: 'rsa', sign: async () => ({ signature: Buffer.alloc(0), encoding: 'der' }) }),
    ).toThrow(/elliptic-curve/);
  });
});

describe('parsePkcs11Uri', () => {
  it('reads path and query attributes, percent-decoded', () => {
    const uri = parsePkcs11Uri('pkcs11:token=my%20token;id=%01%ff;object=key?pin-value=12%2634&module-path=/usr/lib/m.so');
    expect(uri.path.get('token')?.toString()).toBe('my token');
    expect(uri.path.get('id')).toEqual(Buffer.from([0x01, 0xff]));
    expect(uri.query.get('pin-value')?.toString()).toBe('12&34');
    expect(uri.query.get('module-path')?.toString()).toBe('/usr/lib/m.so');
  });

  it.each([
    ['file:/key.pem', /must start with 'pkcs11:'/],
    ['pkcs11:object=a;object=b', /duplicate path attribute 'object'/],
    ['pkcs11:object=a?pin-value=1&pin-source=/p', /both pin-value and pin-source/],
    ['pkcs11:object=a?module-path=lib.so', /must be absolute/],
    ['pkcs11:object=a;slot-id=x', /slot-id must be a number/],
    ['pkcs11:object=%zz', /percent-encoding/],
    ['pkcs11:token=t', /names no key/],
  ])('refuses %s', (uri, message) => {
    expect(() => parsePkcs11Uri(uri)).toThrow(message);
  });
});

describe('pinOf', () => {
  it.each(['relative/pin', 'file://otherhost/pin', 'https://example.com/pin'])('refuses pin-source=%s', async (source) => {
    await expectCode(pinOf(parsePkcs11Uri(`pkcs11:object=k?pin-source=${source}`)), 'INVALID_ARGUMENT');
  });
});

describe('optional packages', () => {
  it('a missing package is MISSING_DEPENDENCY naming it', async () => {
    const err = await expectCode(
      // @ts-expect-error -- the package does not exist: that is the case under test
      loadOptionalPackage('no-such-package-oms', () => import('no-such-package-oms'), 'Testing'),
      'MISSING_DEPENDENCY',
    );
    expect(err.message).toMatch(/npm install no-such-package-oms/);
  });
});
