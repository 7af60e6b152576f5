// Runtime-neutral (no `node:*`): browsers verify bundles with this too.
import { parseBundle, type ParseBundleOptions, type ParsedBundle } from './bundle.js';
import { ModelSigningError } from '../errors.js';
import { PAYLOAD_TYPE, parseStatement } from './statement.js';
import { verifiedManifest, type VerifiedManifest } from './verified-manifest.js';
import type { SignerInfo, Verifier } from './verifier.js';

/** Options for {@link verifyBundle}. */
export interface VerifyBundleOptions extends ParseBundleOptions {
  /** The bundle: already parsed, or its JSON text/bytes (at most `maxBundleBytes`). */
  bundle: ParsedBundle | string | Uint8Array;
  verifier: Verifier;
}

/** A bundle whose signature and statement checked out. */
export interface VerifiedBundle {
  manifest: VerifiedManifest;
  signer: SignerInfo;
  bundle: ParsedBundle;
}

/**
 * Checks a bundle without touching model files: the signature over the
 * exact payload bytes (and signer trust), then payloadType, statement type,
 * predicate type, a single subject and the root digest. The result's
 * manifest is what bytes are checked against; it is the only way, with the
 * verified-model session, to obtain a `VerifiedManifest`.
 *
 * @throws {ModelSigningError} `BAD_BUNDLE`, `BAD_PAYLOAD`, `SIGNATURE_INVALID`, `KEY_MISMATCH`, `CERT_CHAIN_INVALID`, `WRONG_METHOD`, …
 */
export async function verifyBundle(options: VerifyBundleOptions): Promise<VerifiedBundle> {
  const bundle =
    typeof options.bundle === 'string' || options.bundle instanceof Uint8Array ? parseBundle(options.bundle, options) : options.bundle;
  const signer = await options.verifier.verify(bundle);
  if (bundle.payloadType !== PAYLOAD_TYPE) {
    throw new ModelSigningError({
      code: 'BAD_PAYLOAD',
      message: `Invalid signed statement: payloadType is '${bundle.payloadType}', expected '${PAYLOAD_TYPE}'`,
    });
  }
  return { manifest: verifiedManifest(parseStatement(bundle.payload)), signer, bundle };
}
