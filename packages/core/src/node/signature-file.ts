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
  const bytes = await readSignature(
    { signatureLocation: signaturePath, signature: () => signatureFile(signaturePath) },
    maxBundleBytes,
    undefined,
  );
  return parseBundle(bytes, { maxBundleBytes });
}
