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
  /**
   * Key and certificate bundles: the RFC 3161 timestamps the bundle carries,
   * in bundle order (absent when it has none).
   */
  timestamps?: TimestampInfo[];
}

/** An RFC 3161 timestamp of a key or certificate bundle, as a verifier saw it. */
export interface TimestampInfo {
  /** The stamped time (the token's genTime). */
  time: Date;
  /**
   * Whether the token was verified against the timestamp authorities the
   * verifier trusts (`tsaCertificateChain`). Only then was `time` used: the
   * signing certificate was checked at that time instead of now. An
   * unverified time and authority are only what the bundle claims.
   */
  verified: boolean;
  /** The subject of the TSA certificate that signed the token, when the token names one. */
  authority?: string;
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
