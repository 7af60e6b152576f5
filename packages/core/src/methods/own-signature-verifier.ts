import { X509Certificate, type KeyObject } from 'node:crypto';
import { CertificateVerifier } from './certificate/certificate-verifier.js';
import { KeyVerifier } from './key/key-verifier.js';
import type { Verifier } from '../format/verifier.js';
import { publicKeyPem } from './key/keys.js';

/**
 * The verifier that accepts what a signer with this key signs: the key
 * itself (key method), or, given the certificates it puts in its bundles
 * (DER, leaf first), those as trust anchors (certificate method: signatures
 * by this certificate, or by one issued by the same chain). Shared by every
 * signer whose key is known (file, PKCS#11, KMS), so each checks its own past
 * signatures the same way.
 */
export function ownSignatureVerifier(publicKey: KeyObject, certificates?: readonly Uint8Array[]): Promise<Verifier> {
  if (certificates === undefined) return KeyVerifier.create({ publicKey: publicKeyPem(publicKey) });
  return CertificateVerifier.create({ certificateChain: certificates.map((der) => new X509Certificate(der).toString()) });
}
