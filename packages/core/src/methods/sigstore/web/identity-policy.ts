import { ModelSigningError } from '../../../errors.js';

/** The identity a Sigstore signature must carry, as both verifiers take it. */
export interface IdentityPolicyOptions {
  /** Exact certificate identity (SAN email or URI). */
  identity?: string;
  /** Regular expression the whole identity must match (instead of `identity`). */
  identityRegExp?: string;
  /** OIDC issuer the Fulcio certificate must name. */
  identityProvider?: string;
}

/** A checked identity policy: how to match the SAN, how to name it in errors, and the issuer. */
export interface IdentityPolicy {
  matchesIdentity: (san: string) => boolean;
  expectedIdentity: string;
  issuer: string;
}

/**
 * Checks the identity options shared by the Node and the runtime-neutral
 * Sigstore verifiers: exactly one identity form, and an issuer (never optional).
 *
 * @throws {ModelSigningError} `INVALID_ARGUMENT`.
 */
export function identityPolicy(options: IdentityPolicyOptions): IdentityPolicy {
  const invalid = (message: string, cause?: unknown) => new ModelSigningError({ code: 'INVALID_ARGUMENT', cause, message });
  if ((options.identity === undefined) === (options.identityRegExp === undefined)) {
    throw invalid('Sigstore verification needs exactly one of the identity option or the identityRegExp option');
  }
  if (!options.identityProvider) throw invalid('Sigstore verification needs the OIDC issuer of the signer (the identityProvider option)');
  const issuer = options.identityProvider;
  if (options.identity !== undefined) {
    const identity = options.identity;
    return { matchesIdentity: (san) => san === identity, expectedIdentity: `'${identity}'`, issuer };
  }
  let pattern: RegExp;
  try {
    pattern = new RegExp(`^(?:${options.identityRegExp})$`, 'u');
  } catch (cause) {
    throw invalid(`The identity regular expression is invalid: ${(cause as Error).message}`, cause);
  }
  return { matchesIdentity: (san) => pattern.test(san), expectedIdentity: `matching /${options.identityRegExp}/`, issuer };
}
