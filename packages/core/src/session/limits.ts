// Runtime-neutral. Every limit a verified load applies before the signature
// has vouched for anything, in one place: how much of a signature is read,
// and how much of one file.
import { ModelSigningError } from '../errors.js';
import { maxBundleBytesOf } from '../format/bundle.js';

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
   * (`DEFAULT_MAX_BUNDLE_BYTES`).
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
 * How many bytes of signature the session reads. The one place this is
 * decided: a limit that follows the model's size (a per-file allowance
 * times the files a source lists) belongs here.
 *
 * @throws {ModelSigningError} `INVALID_ARGUMENT` for a limit that is not a positive integer.
 */
export function signatureLimit(limits: LoadLimits): number {
  return maxBundleBytesOf(limits);
}

/**
 * How many bytes of a claims file beside the signature the session reads.
 *
 * @throws {ModelSigningError} `INVALID_ARGUMENT` for a limit that is not a positive integer.
 */
export function claimsLimit(limits: LoadLimits): number {
  const max = limits.maxClaimsBytes ?? 4 * signatureLimit(limits);
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
