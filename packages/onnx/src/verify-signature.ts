import { ModelSigningError, readBundle, verifyBundle, type VerifiedBundle, type Verifier } from '@model-signing/core';

/**
 * Reads and checks the signature file (no model file is touched). Errors
 * about the bundle itself are re-thrown naming the signature file, so a
 * wrong key or a corrupt bundle says which file was rejected.
 *
 * @throws {ModelSigningError} `NOT_FOUND`, `SPECIAL_FILE`, `BUNDLE_TOO_LARGE`, `BAD_BUNDLE`, `BAD_PAYLOAD`,
 *   `SIGNATURE_INVALID`, `KEY_MISMATCH`, `WRONG_METHOD`, …
 */
export async function verifySignature(signaturePath: string, verifier: Verifier, maxBundleBytes?: number): Promise<VerifiedBundle> {
  const bundle = await readBundle(signaturePath, { maxBundleBytes });
  try {
    return await verifyBundle({ bundle, verifier });
  } catch (cause) {
    if (!(cause instanceof ModelSigningError)) throw cause;
    throw new ModelSigningError({
      code: cause.code,
      path: signaturePath,
      cause,
      message: `Signature '${signaturePath}' was rejected: ${cause.message}`,
    });
  }
}
