import { preAuthEncoding } from '../../../format/dsse.js';
import type { PathCertificate } from '../../certificate/certificate-path.js';
import { copy, type Bytes } from './bytes.js';

/** For each curve of a Fulcio leaf key: the hash the reference takes of the PAE, and how a Rekor v2 entry names hash and key. */
const PREHASH: Record<string, { hash: string; algorithm: string; keyDetails: string }> = {
  '1.2.840.10045.3.1.7': { hash: 'SHA-256', algorithm: 'SHA2_256', keyDetails: 'PKIX_ECDSA_P256_SHA_256' },
  '1.3.132.0.34': { hash: 'SHA-384', algorithm: 'SHA2_384', keyDetails: 'PKIX_ECDSA_P384_SHA_384' },
  '1.3.132.0.35': { hash: 'SHA-512', algorithm: 'SHA2_512', keyDetails: 'PKIX_ECDSA_P521_SHA_512' },
};

/** What a Rekor v2 `hashedrekord` entry of a DSSE envelope records about it. */
export interface DssePrehash {
  /** The entry's `data.algorithm`, e.g. `SHA2_256`. */
  algorithm: string;
  /** The entry's `signature.verifier.keyDetails`, e.g. `PKIX_ECDSA_P256_SHA_256`. */
  keyDetails: string;
  /** The hash of the envelope's PAE. */
  digest: Bytes;
}

/**
 * The digest a Rekor v2 `hashedrekord` 0.0.2 entry of a DSSE envelope holds,
 * as the reference logs it (sigstore-python's `_build_dsse_request`): the
 * PAE hashed with the signing key's hash, named as its key details name it.
 *
 * @returns undefined for a leaf key that is not ECDSA P-256, P-384 or P-521.
 */
export async function dssePrehash(leaf: PathCertificate, payloadType: string, payload: Uint8Array): Promise<DssePrehash | undefined> {
  const params = leaf.certificate.subjectPublicKeyInfo.algorithm.algorithmParams as { valueBlock?: { toString(): string } } | undefined;
  const details = PREHASH[params?.valueBlock?.toString() ?? ''];
  if (!details) return undefined;
  const digest = new Uint8Array(await globalThis.crypto.subtle.digest(details.hash, copy(preAuthEncoding(payloadType, payload))));
  return { algorithm: details.algorithm, keyDetails: details.keyDetails, digest };
}
