import type { ParsedBundle, SigningMethod } from './bundle.js';

/** Who signed, as established by a verifier. */
export interface SignerInfo {
  method: SigningMethod;
  /** Key bundles: the hint of the key that verified. */
  publicKeyHint?: string;
  /** Certificate and keyless bundles: the leaf certificate's subject. */
  certificateSubject?: string;
  /** Keyless: the certificate identity (SAN) and OIDC issuer that matched. */
  identity?: string;
  issuer?: string;
  /** Keyless: which trusted root was used (e.g. `production (bundled)`, `custom`). */
  trustRoot?: string;
}

/**
 * Checks a bundle's signature over its exact payload bytes and that the
 * signer is trusted; never reads model files.
 */
export interface Verifier {
  readonly method: SigningMethod;
  /** @throws {ModelSigningError} `SIGNATURE_INVALID`, `KEY_MISMATCH`, `CERT_CHAIN_INVALID`, `WRONG_METHOD`, … */
  verify(bundle: ParsedBundle): Promise<SignerInfo>;
}

/** The error for a bundle offered to the verifier of another method. */
export function wrongMethodMessage(bundleMethod: SigningMethod, verifierMethod: SigningMethod): string {
  return `The signature was made with the '${bundleMethod}' method but is being verified as '${verifierMethod}'; verify it with the '${bundleMethod}' method`;
}
