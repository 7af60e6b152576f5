// Runtime-neutral. The signature's two steps: its bytes, read bounded from
// the source, and the one judgement of those bytes.
import { ModelSigningError } from '../errors.js';
import { verifySignatureBytes, type SignatureSource } from '../claims/verify-signature-bytes.js';
import { bundleTooLarge } from '../format/bundle.js';
import type { VerifiedManifest } from '../format/verified-manifest.js';
import type { SignerInfo, Verifier } from '../format/verifier.js';
import { boundedChunks, concat } from './body.js';
import type { ModelSource } from './source.js';

/**
 * The signature's bytes, at most `limit` of them: nothing in them is
 * trusted yet, so an oversized one must not make us allocate without bound.
 *
 * @throws {ModelSigningError} `BUNDLE_TOO_LARGE` naming the signature; the source's errors (`NOT_FOUND`, …); `ABORTED`.
 */
export async function readSignature(
  source: Pick<ModelSource, 'signature' | 'signatureLocation'>,
  limit: number,
  signal: AbortSignal | undefined,
): Promise<Uint8Array> {
  const body = await source.signature({ maxBytes: limit, ...(signal ? { abortSignal: signal } : {}) });
  const chunks: Uint8Array[] = [];
  const tooLarge = (size: number, announced: boolean) => bundleTooLarge(size, limit, source.signatureLocation, announced);
  const during = { path: source.signatureLocation, doing: `reading the signature '${source.signatureLocation}'` };
  for await (const chunk of boundedChunks(body, { limit, tooLarge, signal, during })) chunks.push(chunk);
  return concat(chunks);
}

/** Who decides whether a signature is acceptable. */
export interface SignatureTrust {
  /** Checks the signature and the signer. */
  verifier: Verifier;
  /** The limit the bytes were read under, which parsing applies again. */
  maxBundleBytes: number;
}

/** A signature that was accepted: the manifest it vouches for, who signed, and where in the file it was. */
export interface AcceptedSignature {
  manifest: VerifiedManifest;
  signer: SignerInfo;
  /** One bundle, or which line of a claims file (`claims.jsonl`) verified, and the lines skipped on the way. */
  source: SignatureSource;
}

/**
 * Turns signature bytes into a verified manifest and its signer: the one
 * place a signature is judged, for every source and every loader. The bytes
 * are one Sigstore bundle, or a claims file (`claims.jsonl`, one bundle per
 * line) whose newest OMS signature that `trust.verifier` accepts counts
 * ({@link verifySignatureBytes}); a trust policy in place of one verifier
 * changes this function, and no loader.
 *
 * `location` names the signature in messages and `error.path`, and a
 * location ending in `.jsonl` is read as a claims file whatever it holds.
 * A refusal names it.
 *
 * @throws {ModelSigningError} `BAD_BUNDLE`, `BUNDLE_TOO_LARGE`, `BAD_PAYLOAD`, `EMPTY_MANIFEST`,
 *   `SIGNATURE_INVALID`, `KEY_MISMATCH`, `CERT_CHAIN_INVALID`, `IDENTITY_MISMATCH`, `WRONG_METHOD`, …
 */
export async function acceptSignature(bytes: Uint8Array, trust: SignatureTrust, location: string): Promise<AcceptedSignature> {
  try {
    const { manifest, signer, source } = await verifySignatureBytes({
      bytes,
      verifier: trust.verifier,
      name: location,
      maxBundleBytes: trust.maxBundleBytes,
    });
    return { manifest, signer, source };
  } catch (cause) {
    if (!(cause instanceof ModelSigningError)) throw cause;
    throw new ModelSigningError({
      code: cause.code,
      path: location,
      cause,
      message: `Signature '${location}' was rejected: ${cause.message}`,
    });
  }
}
