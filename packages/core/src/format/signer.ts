import type { SerializedBundle, SigningMethod } from './bundle.js';
import type { Verifier } from './verifier.js';

/**
 * What verifies a signature, as the bundle's `verificationMaterial` carries it:
 * a public-key hint (key method), a certificate chain, leaf first (certificate
 * method), or a single leaf certificate (Sigstore keyless). Certificates are DER.
 */
export type VerificationMaterial =
  | { kind: 'publicKey'; hint: string }
  | { kind: 'x509CertificateChain'; certificates: Uint8Array[] }
  | { kind: 'certificate'; certificate: Uint8Array };

/** A signature over the DSSE PAE and the material that verifies it. */
export interface SignatureWithMaterial {
  /** DER-encoded ECDSA signature. */
  signature: Uint8Array;
  material: VerificationMaterial;
}

/** Options of {@link Signer.sign} and {@link Signer.witness}. */
export interface SignOptions {
  /** Cancels the signing (a request to a key service, Fulcio, Rekor): it rejects with `ABORTED`. */
  abortSignal?: AbortSignal;
}

/**
 * Evidence that third parties saw a signature (Sigstore: Rekor entries and
 * RFC 3161 timestamps), in bundle JSON form; merged into `verificationMaterial`.
 */
export interface WitnessMaterial {
  tlogEntries: unknown[];
  timestampVerificationData?: Record<string, unknown>;
}

/**
 * Signs bytes. Key, certificate, PKCS#11, KMS and keyless signing differ only
 * in how they sign and in the verification material they return; one bundle
 * bundle builder turns that into a Sigstore bundle (`signPayload`).
 */
export interface Signer {
  /** How the bundles it makes are verified (`verify key`, `verify certificate`, `verify sigstore`). */
  readonly method: SigningMethod;
  /** Signs `pae` (the DSSE pre-authentication encoding) and returns the DER signature and its material. */
  sign(pae: Uint8Array, options?: SignOptions): Promise<SignatureWithMaterial>;
  /**
   * Optional second step, for methods whose signatures are logged or
   * timestamped (Sigstore): given the finished bundle, returns the entries to
   * add to its verification material.
   */
  witness?(bundle: SerializedBundle, options?: SignOptions): Promise<WitnessMaterial>;
  /**
   * A verifier that accepts the signatures this signer makes: its public key
   * (key method), or its certificate and chain as trust anchors (certificate
   * method). An incremental re-sign checks the previous signature with it
   * before reusing anything. Absent for keyless Sigstore signing, whose
   * identity the caller states instead.
   */
  ownSignatureVerifier?(): Promise<Verifier>;
}
