import fs from 'node:fs/promises';
import { parseBundle, type ParsedBundle } from '../bundle/bundle.js';
import { ModelSigningError } from '../errors.js';
import { PAYLOAD_TYPE, parseStatement, type VerifiedManifest } from '../statement/statement.js';
import type { SignerInfo, Verifier } from './verifier.js';

/** Options for {@link verifyBundle}. */
export interface VerifyBundleOptions {
  /** The bundle: already parsed, or its JSON text/bytes. */
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
 * manifest is what callers check bytes against ({@link ManifestChecker}).
 *
 * @throws {ModelSigningError} `BAD_BUNDLE`, `BAD_PAYLOAD`, `SIGNATURE_INVALID`, `KEY_MISMATCH`, `CERT_CHAIN_INVALID`, `WRONG_METHOD`, …
 */
export async function verifyBundle(options: VerifyBundleOptions): Promise<VerifiedBundle> {
  const bundle = typeof options.bundle === 'string' || options.bundle instanceof Uint8Array ? parseBundle(options.bundle) : options.bundle;
  const signer = await options.verifier.verify(bundle);
  if (bundle.payloadType !== PAYLOAD_TYPE) {
    throw new ModelSigningError({ code: 'BAD_PAYLOAD', message: `Invalid signed statement: payloadType is '${bundle.payloadType}', expected '${PAYLOAD_TYPE}'` });
  }
  return { manifest: parseStatement(bundle.payload), signer, bundle };
}

/**
 * Reads and parses a signature file.
 *
 * @throws {ModelSigningError} `NOT_FOUND`, `BAD_BUNDLE`.
 */
export async function readBundle(signaturePath: string): Promise<ParsedBundle> {
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(signaturePath);
  } catch (cause) {
    throw new ModelSigningError({ code: 'NOT_FOUND', path: signaturePath, cause, message: `Signature file '${signaturePath}' cannot be read: ${(cause as Error).message}` });
  }
  return parseBundle(bytes);
}
