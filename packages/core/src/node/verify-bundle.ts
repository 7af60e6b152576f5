import { constants as bufferConstants } from 'node:buffer';
import { constants } from 'node:fs';
import fs from 'node:fs/promises';
import {
  bundleTooLarge,
  bundleTooLargeToDecode,
  maxBundleBytesOf,
  parseBundle,
  type ParseBundleOptions,
  type ParsedBundle,
} from '../format/bundle.js';
import { ModelSigningError } from '../errors.js';

// verifyBundle is runtime-neutral and lives in bundle-verification.ts; this
// module adds reading a signature file, which needs node:fs.
export { verifyBundle, type VerifiedBundle, type VerifyBundleOptions } from '../format/bundle-verification.js';

/** Options for {@link readBundle}. */
export type ReadBundleOptions = ParseBundleOptions;

/**
 * Reads and parses a signature file holding one bundle; see {@link readSignatureFile}.
 *
 * @throws {ModelSigningError} `NOT_FOUND`, `SPECIAL_FILE`, `BUNDLE_TOO_LARGE`, `BAD_BUNDLE`.
 */
export async function readBundle(signaturePath: string, options: ReadBundleOptions = {}): Promise<ParsedBundle> {
  return parseBundle(await readSignatureFile(signaturePath, options), { maxBundleBytes: maxBundleBytesOf(options) });
}

/**
 * Reads the bytes of a signature file (one bundle, or a claims file). Only a regular file is read, and at
 * most `maxBundleBytes` of it: the path comes with the model (adapters
 * default to `<dir>/model.sig`), so a FIFO must not hang us and a link to
 * `/dev/zero` must not fill memory. The file is opened non-blocking (a FIFO
 * opens at once) and its type is checked on the open descriptor.
 *
 * @throws {ModelSigningError} `NOT_FOUND`, `SPECIAL_FILE`, `BUNDLE_TOO_LARGE`, `BAD_BUNDLE` (the file changed while read).
 */
export async function readSignatureFile(signaturePath: string, options: ReadBundleOptions = {}): Promise<Uint8Array> {
  const max = maxBundleBytesOf(options);
  const unreadable = (cause: unknown) =>
    new ModelSigningError({
      code: 'NOT_FOUND',
      path: signaturePath,
      cause,
      message: `Signature file '${signaturePath}' cannot be read: ${(cause as Error).message}`,
    });
  let handle: fs.FileHandle;
  try {
    // O_NONBLOCK does not exist on Windows, where opening a pipe does not block either.
    handle = await fs.open(signaturePath, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (cause) {
    throw unreadable(cause);
  }
  try {
    const stat = await handle.stat().catch((cause: unknown) => Promise.reject(unreadable(cause)));
    if (!stat.isFile()) {
      throw new ModelSigningError({
        code: 'SPECIAL_FILE',
        path: signaturePath,
        message: `Signature file '${signaturePath}' is not a regular file (a directory, FIFO, socket or device); refusing to read it`,
      });
    }
    if (stat.size > max) throw bundleTooLarge(stat.size, max, signaturePath);
    // The text becomes one string: past the runtime's longest, refuse before allocating.
    if (stat.size > bufferConstants.MAX_STRING_LENGTH) throw bundleTooLargeToDecode(stat.size, signaturePath);
    // One byte more than expected tells a file that grew while we read it.
    const buffer = Buffer.allocUnsafe(stat.size + 1);
    let length = 0;
    while (length < buffer.length) {
      const { bytesRead } = await handle
        .read(buffer, length, buffer.length - length, length)
        .catch((cause: unknown) => Promise.reject(unreadable(cause)));
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    if (length > stat.size) {
      throw new ModelSigningError({
        code: 'BAD_BUNDLE',
        path: signaturePath,
        message: `Signature file '${signaturePath}' changed while it was read`,
      });
    }
    return buffer.subarray(0, length);
  } finally {
    await handle.close();
  }
}
