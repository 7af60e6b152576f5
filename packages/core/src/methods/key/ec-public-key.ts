/**
 * EC public keys for the key method through WebCrypto, runtime-neutral: the
 * PEM SubjectPublicKeyInfo is decoded with asn1js (to learn the curve, which
 * `importKey` must be told) and imported with `crypto.subtle.importKey('spki')`.
 */
import * as asn1js from 'asn1js';
import { ModelSigningError } from '../../errors.js';
import { toHex } from '../../format/hex.js';

/** The curves OMS allows, as WebCrypto names them. */
export type EcCurve = 'P-256' | 'P-384' | 'P-521';

/** The hash OMS pairs with each curve (as the reference does): SHA-256, SHA-384, SHA-512. */
export const CURVE_HASH: Readonly<Record<EcCurve, 'SHA-256' | 'SHA-384' | 'SHA-512'>> = Object.freeze({
  'P-256': 'SHA-256',
  'P-384': 'SHA-384',
  'P-521': 'SHA-512',
});

/** Bytes of one coordinate (and of r and s in a signature) on each curve. */
export const CURVE_FIELD_BYTES: Readonly<Record<EcCurve, number>> = Object.freeze({ 'P-256': 32, 'P-384': 48, 'P-521': 66 });

const EC_PUBLIC_KEY_OID = '1.2.840.10045.2.1';
const CURVE_OIDS: Readonly<Record<string, EcCurve>> = {
  '1.2.840.10045.3.1.7': 'P-256',
  '1.3.132.0.34': 'P-384',
  '1.3.132.0.35': 'P-521',
};

/** An EC public key ready for WebCrypto verification. */
export interface EcPublicKey {
  readonly curve: EcCurve;
  /** The ECDSA hash for this curve. */
  readonly hash: (typeof CURVE_HASH)[EcCurve];
  readonly cryptoKey: CryptoKey;
  /** OMS key hint: hex SHA-256 of the PEM SubjectPublicKeyInfo as OpenSSL writes it. */
  readonly hint: string;
}

function badKey(message: string, cause?: unknown): ModelSigningError {
  return new ModelSigningError({ code: 'BAD_KEY', message, cause });
}

function base64ToBytes(text: string): Uint8Array {
  const binary = atob(text);
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

function bytesToBase64(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/** The DER of the first `PUBLIC KEY` block; text before it (certtool dumps) is skipped. */
function spkiDer(pem: string): Uint8Array {
  const match = /-----BEGIN PUBLIC KEY-----([A-Za-z0-9+/=\s]*?)-----END PUBLIC KEY-----/.exec(pem);
  if (!match) throw badKey('No "PUBLIC KEY" PEM block found; expected an EC SubjectPublicKeyInfo');
  try {
    return base64ToBytes(match[1].replace(/\s+/g, ''));
  } catch (cause) {
    throw badKey('The PUBLIC KEY PEM block is not valid base64', cause);
  }
}

/** PEM as OpenSSL (and so Python's cryptography) writes it: 64-character lines, trailing newline. */
function canonicalPem(der: Uint8Array): string {
  const lines = bytesToBase64(der).match(/.{1,64}/g) ?? [];
  return `-----BEGIN PUBLIC KEY-----\n${lines.join('\n')}\n-----END PUBLIC KEY-----\n`;
}

/** The named curve of a DER SubjectPublicKeyInfo, refusing anything but EC on an OMS curve. */
function curveOf(der: Uint8Array): EcCurve {
  const parsed = asn1js.fromBER(der);
  const spki = parsed.result;
  if (parsed.offset !== der.length || !(spki instanceof asn1js.Sequence)) throw badKey('The public key is not a DER SubjectPublicKeyInfo');
  const [algorithm, point] = spki.valueBlock.value;
  if (!(algorithm instanceof asn1js.Sequence) || !(point instanceof asn1js.BitString))
    throw badKey('The public key is not a DER SubjectPublicKeyInfo');
  const [type, parameters] = algorithm.valueBlock.value;
  if (!(type instanceof asn1js.ObjectIdentifier) || type.valueBlock.toString() !== EC_PUBLIC_KEY_OID) {
    throw badKey('Only elliptic-curve keys (P-256, P-384, P-521) are supported');
  }
  const curve = parameters instanceof asn1js.ObjectIdentifier ? CURVE_OIDS[parameters.valueBlock.toString()] : undefined;
  if (!curve) throw badKey('Unsupported curve; use P-256, P-384 or P-521 (as a named curve)');
  return curve;
}

/**
 * Imports an EC public key from PEM SubjectPublicKeyInfo text for ECDSA
 * verification, and computes its OMS hint.
 *
 * @throws {ModelSigningError} `BAD_KEY` for anything but an EC P-256/P-384/P-521 public key.
 */
export async function importEcPublicKey(pem: string): Promise<EcPublicKey> {
  return importEcSpki(spkiDer(pem));
}

/**
 * Imports an EC public key from DER SubjectPublicKeyInfo (e.g. a
 * certificate's) for ECDSA verification, and computes its OMS hint.
 *
 * @throws {ModelSigningError} `BAD_KEY` for anything but an EC P-256/P-384/P-521 public key.
 */
export async function importEcSpki(der: Uint8Array): Promise<EcPublicKey> {
  const curve = curveOf(der);
  let cryptoKey: CryptoKey;
  try {
    // Extractable, so the hint is taken over WebCrypto's own re-encoding
    // (named curve, uncompressed point), which is what OpenSSL writes too.
    cryptoKey = await crypto.subtle.importKey('spki', der as Uint8Array<ArrayBuffer>, { name: 'ECDSA', namedCurve: curve }, true, [
      'verify',
    ]);
  } catch (cause) {
    throw badKey(`WebCrypto cannot import the ${curve} public key: ${(cause as Error).message}`, cause);
  }
  const exported = new Uint8Array(await crypto.subtle.exportKey('spki', cryptoKey));
  return Object.freeze({ curve, hash: CURVE_HASH[curve], cryptoKey, hint: await pemHint(exported) });
}

/** SHA-256 hex of the canonical PEM of a DER SubjectPublicKeyInfo. */
async function pemHint(der: Uint8Array): Promise<string> {
  return toHex(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(canonicalPem(der)))));
}

/**
 * The OMS hint of any PEM public key, as Node's verifier computes it for the
 * key embedded in bundles made before v1.1: an EC key on an OMS curve as
 * WebCrypto re-encodes it, any other key (RSA, Ed25519, other curves) over
 * its DER as given, which is what OpenSSL writes back for a DER key.
 *
 * @returns undefined when the text holds no readable SubjectPublicKeyInfo.
 */
export async function publicKeyHintOfPem(pem: string): Promise<string | undefined> {
  let der: Uint8Array;
  try {
    der = spkiDer(pem);
  } catch {
    return undefined;
  }
  try {
    return (await importEcSpki(der)).hint;
  } catch {
    const parsed = asn1js.fromBER(der);
    return parsed.offset === der.length && parsed.result instanceof asn1js.Sequence ? pemHint(der) : undefined;
  }
}

/**
 * The key method's hint check, as in Node's verifier: a bundle that names a
 * key hint must name this key's.
 *
 * @param bundleHint `verificationMaterial.publicKey.hint`; absent or null in bundles made before v1.1.
 * @throws {ModelSigningError} `KEY_MISMATCH`.
 */
export function checkKeyHint(key: EcPublicKey, bundleHint: string | null | undefined): void {
  if (bundleHint !== undefined && bundleHint !== null && bundleHint !== key.hint) {
    throw new ModelSigningError({
      code: 'KEY_MISMATCH',
      message: `The signature was made by another key (key hint ${bundleHint}) than the public key given (hint ${key.hint})`,
    });
  }
}
