import { createPublicKey, sign as cryptoSign, type KeyObject, type X509Certificate } from 'node:crypto';
import { ModelSigningError } from '../../errors.js';
import { hashForKey, loadCertificates, loadPrivateKey, readPem } from '../key/keys.js';
import type { SignatureWithMaterial, Signer, VerificationMaterial } from '../../format/signer.js';
import type { Verifier } from '../../format/verifier.js';
import { ownSignatureVerifier } from '../own-signature-verifier.js';

/** Options for {@link CertificateSigner.create}. */
export interface CertificateSignerOptions {
  /** EC private key: PEM path, text or bytes. */
  privateKey: string | Buffer;
  password?: string;
  /** The signing (leaf) certificate for that key: PEM path, text or bytes. */
  signingCertificate: string | Buffer;
  /** Certificates to include after the leaf (intermediates, optionally the root), in order. */
  certificateChain?: ReadonlyArray<string | Buffer>;
}

/** Where the certificates of a certificate-method signer come from. */
export interface CertificateChainSources {
  signingCertificate: string | Buffer;
  certificateChain?: ReadonlyArray<string | Buffer>;
}

/**
 * Reads the leaf certificate and the chain after it, and checks that the leaf
 * certifies `publicKey` and may sign (the verifiers' leaf rules: an end
 * entity whose key usage and extended key usage allow code signing): a
 * signature its own certificate does not allow would never verify. Shared
 * by every certificate-method signer (file key, PKCS#11, KMS).
 *
 * @throws {ModelSigningError} `NOT_FOUND`; `BAD_KEY` for unreadable certificates, a leaf for another key, or one that may not sign.
 */
export async function certificateChainMaterial(
  sources: CertificateChainSources,
  publicKey: KeyObject,
): Promise<VerificationMaterial & { kind: 'x509CertificateChain' }> {
  const [leaf] = loadCertificates(await readPem(sources.signingCertificate, 'signing certificate'), 'The signing certificate');
  const chain: X509Certificate[] = [leaf];
  for (const source of sources.certificateChain ?? []) {
    chain.push(...loadCertificates(await readPem(source, 'certificate chain'), 'The certificate chain'));
  }
  const keySpki = publicKey.export({ type: 'spki', format: 'der' });
  const certSpki = leaf.publicKey.export({ type: 'spki', format: 'der' });
  if (!keySpki.equals(certSpki)) {
    throw new ModelSigningError({
      code: 'BAD_KEY',
      message: `The signing certificate (${leaf.subject.replace(/\n/g, ', ')}) is not for this private key`,
    });
  }
  // PKI.js, loaded only here: the same leaf rules as every certificate verifier.
  const { leafUnfitness } = await import('./certificate-path.js');
  const unfit = leafUnfitness(leaf.raw, 'codeSigning');
  if (unfit !== undefined) throw new ModelSigningError({ code: 'BAD_KEY', message: `${unfit}; no verifier would accept its signatures` });
  return { kind: 'x509CertificateChain', certificates: chain.map((c) => c.raw) };
}

/** Signs with an EC key; the bundle carries the leaf certificate and chain (`x509CertificateChain`). */
export class CertificateSigner implements Signer {
  readonly method = 'certificate' as const;

  private constructor(
    private readonly key: KeyObject,
    private readonly material: VerificationMaterial & { kind: 'x509CertificateChain' },
  ) {}

  /**
   * @throws {ModelSigningError} `NOT_FOUND`, `BAD_KEY` (also when the certificate is not for this key),
   *   `INVALID_ARGUMENT` (a password for a key that is not encrypted).
   */
  static async create(options: CertificateSignerOptions): Promise<CertificateSigner> {
    const key = loadPrivateKey(await readPem(options.privateKey, 'private key'), options.password);
    return new CertificateSigner(key, await certificateChainMaterial(options, createPublicKey(key)));
  }

  /** ECDSA with the curve's hash; DER signature. */
  async sign(pae: Uint8Array): Promise<SignatureWithMaterial> {
    return { signature: cryptoSign(hashForKey(this.key), pae, this.key), material: this.material };
  }

  /** A {@link CertificateVerifier} trusting this signer's certificate and chain. */
  ownSignatureVerifier(): Promise<Verifier> {
    return ownSignatureVerifier(this.key, this.material.certificates);
  }
}
