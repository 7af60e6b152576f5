/**
 * Signature checks with SubjectPublicKeyInfo keys through WebCrypto: the
 * keys of Rekor, CT logs, Fulcio leaves and timestamp authorities.
 */
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { copy, type Bytes } from './bytes.js';

const EC_PUBLIC_KEY = '1.2.840.10045.2.1';
const RSA = '1.2.840.113549.1.1.1';
const ED25519 = '1.3.101.112';

/** Named curves, their WebCrypto name, the hash their keys sign with (as the trusted root's key details name it) and their size. */
const CURVES: Record<string, { namedCurve: string; hash: string; size: number }> = {
  '1.2.840.10045.3.1.7': { namedCurve: 'P-256', hash: 'SHA-256', size: 32 },
  '1.3.132.0.34': { namedCurve: 'P-384', hash: 'SHA-384', size: 48 },
  '1.3.132.0.35': { namedCurve: 'P-521', hash: 'SHA-512', size: 66 },
};

/** A public key ready to verify with. */
export interface VerificationKey {
  key: CryptoKey;
  verify(data: Uint8Array, signature: Uint8Array): Promise<boolean>;
}

/**
 * Imports a DER SubjectPublicKeyInfo (ECDSA P-256/384/521, Ed25519 or RSA
 * PKCS#1 v1.5 with SHA-256).
 *
 * @throws {Error} when the key cannot be read or is of another type.
 */
export async function importSpki(der: Uint8Array): Promise<VerificationKey> {
  const spki = copy(der);
  const info = pkijs.PublicKeyInfo.fromBER(spki);
  const subtle = globalThis.crypto.subtle;
  const algorithm = info.algorithm.algorithmId;
  if (algorithm === EC_PUBLIC_KEY) {
    const params = info.algorithm.algorithmParams as unknown;
    const curve = params instanceof asn1js.ObjectIdentifier ? CURVES[params.valueBlock.toString()] : undefined;
    if (!curve) throw new Error('unsupported elliptic curve');
    const key = await subtle.importKey('spki', spki, { name: 'ECDSA', namedCurve: curve.namedCurve }, false, ['verify']);
    return {
      key,
      verify: async (data, signature) => {
        // Sigstore carries DER ECDSA signatures; WebCrypto takes r || s.
        let raw: ArrayBuffer;
        try {
          const parsed = asn1js.fromBER(copy(signature));
          if (parsed.offset === -1 || parsed.offset !== signature.length) return false;
          raw = pkijs.createECDSASignatureFromCMS(parsed.result, curve.size);
        } catch {
          return false;
        }
        return subtle.verify({ name: 'ECDSA', hash: curve.hash }, key, raw, copy(data));
      },
    };
  }
  if (algorithm === ED25519) {
    const key = await subtle.importKey('spki', spki, { name: 'Ed25519' }, false, ['verify']);
    return { key, verify: (data, signature) => subtle.verify({ name: 'Ed25519' }, key, copy(signature), copy(data)) };
  }
  if (algorithm === RSA) {
    const key = await subtle.importKey('spki', spki, { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, false, ['verify']);
    return { key, verify: (data, signature) => subtle.verify({ name: 'RSASSA-PKCS1-v1_5' }, key, copy(signature), copy(data)) };
  }
  throw new Error(`unsupported key algorithm ${algorithm}`);
}

/** Verifies, answering false instead of throwing for malformed signatures. */
export async function verifies(key: VerificationKey, data: Bytes, signature: Uint8Array): Promise<boolean> {
  try {
    return await key.verify(data, signature);
  } catch {
    return false;
  }
}
