import { maxBundleBytesOf, parseBundle, type ParseBundleOptions, type ParsedBundle } from '../format/bundle.js';
import { readSignature } from '../session/signature.js';
import { signatureFile } from './directory-source.js';

/**
 * Reads and parses a signature file, through the session's one bounded
 * signature reader: only a regular file, at most `maxBundleBytes` of it.
 * Nothing is verified here (an incremental sign chooses its verifier after
 * reading the previous signature).
 *
 * @throws {ModelSigningError} `NOT_FOUND`, `SPECIAL_FILE`, `BUNDLE_TOO_LARGE`, `BAD_BUNDLE`.
 */
export async function readBundle(signaturePath: string, options: ParseBundleOptions = {}): Promise<ParsedBundle> {
  const maxBundleBytes = maxBundleBytesOf(options);
  return parseBundle(await readSignatureBytes(signaturePath, { maxBundleBytes }), { maxBundleBytes });
}

/**
 * A signature file's bytes (one bundle, or a claims file), unparsed,
 * through the session's one bounded reader: only a regular file, at most
 * `maxBundleBytes` (64 MiB by default) of it.
 *
 * @throws {ModelSigningError} `NOT_FOUND`, `SPECIAL_FILE`, `BUNDLE_TOO_LARGE`.
 */
export function readSignatureBytes(signaturePath: string, options: Pick<ParseBundleOptions, 'maxBundleBytes'> = {}): Promise<Uint8Array> {
  return readSignature(
    { signatureLocation: signaturePath, signature: () => signatureFile(signaturePath) },
    maxBundleBytesOf(options),
    undefined,
  );
}
