import { ModelSigningError } from '../../errors.js';

/**
 * Reads the claims of a JWT without checking its signature: Fulcio checks
 * the token; we only read it to report who is signing and to fail early on
 * a token that is not a JWT at all.
 *
 * @throws {ModelSigningError} `IDENTITY_TOKEN_ERROR` when the token is not a JWT.
 */
export function decodeClaims(token: string): Record<string, unknown> {
  const parts = token.split('.');
  let claims: unknown;
  try {
    claims = parts.length === 3 ? JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) : undefined;
  } catch {
    claims = undefined;
  }
  if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) {
    throw new ModelSigningError({
      code: 'IDENTITY_TOKEN_ERROR',
      message: 'The identity token is not a JWT (expected three base64url parts with a JSON claims object)',
    });
  }
  return claims as Record<string, unknown>;
}
