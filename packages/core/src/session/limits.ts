// Runtime-neutral. Every limit a verified load applies before the signature
// has vouched for anything, in one place: how much of a signature is read,
// and how much of one file.
import { throwIfAborted } from '../cancellation.js';
import { ModelSigningError } from '../errors.js';
import { DEFAULT_MAX_BUNDLE_BYTES, maxBundleBytesOf } from '../format/bundle.js';
import type { ModelSource } from './source.js';

/**
 * The most bytes of one file a load reads when nothing else bounds it
 * (`maxFileBytes`): 2 GiB. Where a source lists sizes (a directory, a hub)
 * the listed size is the bound instead. Loaders that return files whole
 * hold this much at most before the digest check refuses a bad file.
 */
export const DEFAULT_MAX_FILE_BYTES = 2 * 1024 ** 3;

/** The limit options of a verified load. */
export interface LoadLimits {
  /**
   * Largest signature read, in bytes (`BUNDLE_TOO_LARGE` above): the whole
   * signature is decoded before it can be checked. Default 64 MiB
   * (`DEFAULT_MAX_BUNDLE_BYTES`), plus 1 KiB for each file of a model on
   * disk, counted before the signature is read (up to 512 MiB), so the
   * signature of a dataset of a million files is read without this option.
   */
  maxBundleBytes?: number;
  /**
   * Largest file read when the source does not list its size, in bytes
   * (`BODY_TOO_LARGE` above). Default {@link DEFAULT_MAX_FILE_BYTES}.
   */
  maxFileBytes?: number;
  /**
   * Largest claims file read beside a signature that is one bundle
   * (`claims.jsonl` beside `model.sig`), in bytes (`BUNDLE_TOO_LARGE`
   * above). Default four times `maxBundleBytes` (256 MiB), as for any claims file.
   */
  maxClaimsBytes?: number;
}

/**
 * What a signature may take for each file the model has, on top of
 * {@link DEFAULT_MAX_BUNDLE_BYTES}: 1 KiB. A resource takes about 100
 * bytes of JSON plus its name, a third more in base64: 224 bytes for a
 * 15-byte name (a million files: 224 MB), 1 KiB for one of some 650 bytes.
 */
export const SIGNATURE_BYTES_PER_FILE = 1024;

/**
 * The most a limit that follows the model rises to: 512 MiB, about the
 * longest string V8 makes (the signature is decoded whole). Some two
 * million files of short names; past it only an explicit `maxBundleBytes`
 * goes, and the runtime decides.
 */
export const MAX_FOLLOWING_SIGNATURE_BYTES = 512 * 1024 * 1024;

/**
 * The signature limit for a model of `files` files when nobody set one:
 * {@link DEFAULT_MAX_BUNDLE_BYTES} plus {@link SIGNATURE_BYTES_PER_FILE}
 * each, at most {@link MAX_FOLLOWING_SIGNATURE_BYTES}. The genuine
 * signature of a million-file dataset fits; a huge one against a model of
 * ten files is refused from its size, before a byte of it is read.
 */
export function bundleLimitFor(files: number): number {
  const following = DEFAULT_MAX_BUNDLE_BYTES + Math.max(0, Math.floor(files)) * SIGNATURE_BYTES_PER_FILE;
  return Math.min(following, MAX_FOLLOWING_SIGNATURE_BYTES);
}

/** The files past which {@link bundleLimitFor} no longer rises: counting further changes nothing. */
export const FILES_FOR_MAX_SIGNATURE = Math.ceil((MAX_FOLLOWING_SIGNATURE_BYTES - DEFAULT_MAX_BUNDLE_BYTES) / SIGNATURE_BYTES_PER_FILE);

/**
 * How many bytes of signature the session reads: the one place this is
 * decided. An explicit `maxBundleBytes` wins. Otherwise, from a source that
 * counts its files before the signature is read (a directory), the limit
 * follows the model ({@link bundleLimitFor}); a source that cannot (HTTP, a
 * hub) gets {@link DEFAULT_MAX_BUNDLE_BYTES}.
 *
 * @param ignorePaths what the count leaves out (the git files, when ignored).
 * @throws {ModelSigningError} `INVALID_ARGUMENT` for a limit that is not a positive integer; `ABORTED`.
 */
export async function signatureLimit(
  limits: LoadLimits,
  source: Pick<ModelSource, 'countFiles'>,
  ignorePaths: readonly string[],
  signal?: AbortSignal,
): Promise<number> {
  const fixed = maxBundleBytesOf(limits);
  if (limits.maxBundleBytes !== undefined || !source.countFiles) return fixed;
  const files = await source.countFiles({ ignorePaths, atMost: FILES_FOR_MAX_SIGNATURE }, signal ? { abortSignal: signal } : {});
  throwIfAborted(signal);
  return bundleLimitFor(files);
}

/**
 * How many bytes of a claims file beside the signature the session reads.
 *
 * @throws {ModelSigningError} `INVALID_ARGUMENT` for a limit that is not a positive integer.
 */
export function claimsLimit(limits: LoadLimits): number {
  // Four times the fixed signature limit, not the one that follows a dataset's size: a claims file holds
  // claims about the model, whose lines are bounded one by one, not a listing of its files.
  const max = limits.maxClaimsBytes ?? 4 * maxBundleBytesOf(limits);
  if (!Number.isSafeInteger(max) || max <= 0) {
    throw new ModelSigningError({
      code: 'INVALID_ARGUMENT',
      message: `maxClaimsBytes must be a positive integer, got ${String(limits.maxClaimsBytes)}`,
    });
  }
  return max;
}

/**
 * How many bytes of one file the session reads: the size the source listed
 * for it, else `maxFileBytes`.
 *
 * @throws {ModelSigningError} `INVALID_ARGUMENT` for a `maxFileBytes` that is not a positive integer.
 */
export function fileLimit(limits: LoadLimits, listedSize: number | undefined): number {
  const max = limits.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
  if (!Number.isSafeInteger(max) || max <= 0) {
    throw new ModelSigningError({
      code: 'INVALID_ARGUMENT',
      message: `maxFileBytes must be a positive integer, got ${String(limits.maxFileBytes)}`,
    });
  }
  return listedSize ?? max;
}

/**
 * The error for a file over its limit (`announced`: by its announced size,
 * else by the bytes received), naming where the limit came from.
 */
export function bodyTooLarge(name: string, size: number, limit: number, announced: boolean, listed: boolean): ModelSigningError {
  const actual = announced ? `is ${size} bytes` : `is more than ${limit} bytes`;
  return new ModelSigningError({
    code: 'BODY_TOO_LARGE',
    path: name,
    message: listed
      ? `'${name}' ${actual}, more than the ${limit} bytes its source lists for it; it was not read further`
      : `'${name}' ${actual}, over the limit of ${limit} bytes read of one file; if it is genuine, raise the limit with the maxFileBytes option`,
  });
}
