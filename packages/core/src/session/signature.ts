// Runtime-neutral. The signature's two steps: its bytes, read bounded from
// the source, and the one judgement of those bytes (one verifier, or a
// trust policy), which also says which claims about the model verified.
import { ModelSigningError } from '../errors.js';
import type { VerifiedClaim } from '../claims/claim.js';
import { verifyClaims } from '../claims/verify-claims.js';
import { signatureFileLayout, verifySignatureBytes, type SignatureSource } from '../claims/verify-signature-bytes.js';
import type { ParsedBundle } from '../format/bundle.js';
import { bundleTooLarge } from '../format/bundle.js';
import { verifyBundle } from '../format/bundle-verification.js';
import { rootDigest, sortResources } from '../format/manifest.js';
import type { VerifiedManifest } from '../format/verified-manifest.js';
import type { SignerInfo, Verifier } from '../format/verifier.js';
import type { Policy } from '../policy/compile.js';
import type { PolicyDecision } from '../policy/decision.js';
import { evaluatePolicy, type PolicySigner } from '../policy/evaluate.js';
import type { ModelIdentity } from '../policy/identity.js';
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

/**
 * The claims file beside a signature that is one bundle (`claims.jsonl`
 * beside `model.sig`), when the source has one: at most `limit` bytes, read
 * by the same bounded reader. `undefined` when the signature is itself a
 * claims file (its claims are its own lines) or the source has none.
 *
 * @throws {ModelSigningError} `BUNDLE_TOO_LARGE` naming the claims file; the source's errors; `ABORTED`.
 */
export async function readClaimsBeside(
  source: Pick<ModelSource, 'claims' | 'signatureLocation'>,
  limit: number,
  signal: AbortSignal | undefined,
): Promise<BesideClaims | undefined> {
  if (!source.claims || source.signatureLocation.endsWith('.jsonl')) return undefined;
  const found = await source.claims({ maxBytes: limit, ...(signal ? { abortSignal: signal } : {}) });
  if (!found) return undefined;
  const chunks: Uint8Array[] = [];
  const tooLarge = (size: number, announced: boolean) =>
    new ModelSigningError({
      code: 'BUNDLE_TOO_LARGE',
      path: found.location,
      message: `The claims file '${found.location}' ${announced ? `is ${size} bytes` : `is more than ${limit} bytes`}, over the limit of ${limit} read (maxClaimsBytes)`,
    });
  const during = { path: found.location, doing: `reading the claims file '${found.location}'` };
  for await (const chunk of boundedChunks(found.body, { limit, tooLarge, signal, during })) chunks.push(chunk);
  return { bytes: concat(chunks), location: found.location };
}

/** A claims file read beside the signature. */
export interface BesideClaims {
  bytes: Uint8Array;
  /** Where it is, for messages and the claims' `file`. */
  location: string;
}

/**
 * Who decides whether a signature is acceptable: one verifier, or a trust
 * policy with how the model was addressed (what its rules match).
 */
export type SignatureTrust = {
  /** The limit the bytes were read under, which parsing applies again. */
  maxBundleBytes: number;
} & ({ verifier: Verifier; policy?: undefined } | { policy: Policy; model: ModelIdentity; verifier?: undefined });

/** What a policy decided about an accepted signature. */
export interface PolicyOutcome {
  /** The rule that matched, each requirement and what counted for it. */
  decision: PolicyDecision;
  /** Every authority counted toward the rule's signature requirement. */
  signers: PolicySigner[];
}

/** A signature that was accepted: the manifest it vouches for, who signed, where in the file it was, and the claims that verified. */
export interface AcceptedSignature {
  manifest: VerifiedManifest;
  signer: SignerInfo;
  /** One bundle, or which line of a claims file (`claims.jsonl`) verified, and the lines skipped on the way. */
  source: SignatureSource;
  /**
   * The claims about these files that verified: with a verifier, those it
   * accepts (the model signer's own claims); under a policy, those that
   * satisfied the rule's claim requirements. OMS signature lines are not claims here.
   */
  claims: VerifiedClaim[];
  /** Set when a policy decided. */
  policy?: PolicyOutcome;
}

/**
 * A signature file as read, ready to be judged: with a verifier, one
 * bundle already parsed (its bytes are no longer needed: for a dataset
 * they are hundreds of megabytes, let go before the statement is parsed),
 * else the bytes (a claims file, or anything a policy reads).
 */
export type SignatureFile = { bundle: ParsedBundle; bytes?: undefined } | { bytes: Uint8Array; bundle?: undefined };

/**
 * Reads the layout of signature bytes for {@link acceptSignature}: parses a
 * file that is one bundle, as `verifySignatureBytes` would. Synchronous, so
 * the caller can drop its bytes as soon as this returns.
 *
 * @throws {ModelSigningError} `BAD_BUNDLE`, `BUNDLE_TOO_LARGE` naming the signature, as {@link acceptSignature}.
 */
export function signatureFile(bytes: Uint8Array, trust: SignatureTrust, location: string): SignatureFile {
  if (trust.policy) return { bytes };
  let layout;
  try {
    layout = signatureFileLayout({ bytes, name: location, maxBundleBytes: trust.maxBundleBytes });
  } catch (cause) {
    throw rejected(cause, location);
  }
  return layout.bundle ? { bundle: layout.bundle } : { bytes };
}

/**
 * The signature read from `source` ({@link readSignature}) and laid out
 * ({@link signatureFile}); its bytes too when `keep` is set. Otherwise they
 * live only inside this call, so a parsed dataset signature is not held
 * twice.
 *
 * @throws as {@link readSignature} and {@link signatureFile}.
 */
export async function readSignatureFile(
  source: Pick<ModelSource, 'signature' | 'signatureLocation'>,
  trust: SignatureTrust,
  keep: boolean,
  signal: AbortSignal | undefined,
): Promise<{ file: SignatureFile; bytes?: Uint8Array }> {
  const bytes = await readSignature(source, trust.maxBundleBytes, signal);
  return { file: signatureFile(bytes, trust, source.signatureLocation), ...(keep ? { bytes } : {}) };
}

/** A signature error, restated to name the signature file; any other error as it is. */
function rejected(cause: unknown, location: string): unknown {
  if (!(cause instanceof ModelSigningError)) return cause;
  return new ModelSigningError({
    code: cause.code,
    path: location,
    cause,
    message: `Signature '${location}' was rejected: ${cause.message}`,
  });
}

/**
 * Turns a signature file ({@link signatureFile}) into a verified manifest,
 * its signer and the verified claims: the one place a signature is judged,
 * for every source and every loader.
 *
 * - With a verifier: the file is one Sigstore bundle, or a claims file
 *   (`claims.jsonl`, one bundle per line) whose newest OMS signature that
 *   the verifier accepts counts ({@link verifySignatureBytes}). The claims
 *   are the other lines of that file, else of the claims file `readBeside`
 *   reads (only once the signature verified), that the verifier accepts and
 *   that are about the signed files.
 * - With a policy: its rule for `trust.model` decides over the bundles of
 *   the signature file and of the claims file beside it (`evaluatePolicy`); a refusal is
 *   `POLICY_DENIED` with the decision, never a fall back to anything looser.
 *
 * `location` names the signature in messages and `error.path`, and a
 * location ending in `.jsonl` is read as a claims file whatever it holds.
 *
 * @throws {PolicyDeniedError} `POLICY_DENIED`: which rule, which requirement, why.
 * @throws {ModelSigningError} `BAD_BUNDLE`, `BUNDLE_TOO_LARGE`, `BAD_PAYLOAD`, `EMPTY_MANIFEST`,
 *   `SIGNATURE_INVALID`, `KEY_MISMATCH`, `CERT_CHAIN_INVALID`, `IDENTITY_MISMATCH`, `WRONG_METHOD`, …
 *   naming the signature; `INVALID_ARGUMENT` for a model identity that is not one; `ABORTED`.
 */
export async function acceptSignature(
  file: SignatureFile,
  trust: SignatureTrust,
  location: string,
  readBeside: () => Promise<BesideClaims | undefined> = () => Promise.resolve(undefined),
  signal?: AbortSignal,
): Promise<AcceptedSignature> {
  if (trust.policy) {
    if (!file.bytes) throw new TypeError('A policy reads the signature file whole: give its bytes (signatureFile)');
    // The policy's claim requirements may need them: read before it decides.
    const beside = await readBeside();
    const accepted = await evaluatePolicy({
      policy: trust.policy,
      model: trust.model,
      bytes: file.bytes,
      name: location,
      maxBundleBytes: trust.maxBundleBytes,
      ...(beside ? { claims: { source: beside.bytes, name: beside.location } } : {}),
      ...(signal ? { abortSignal: signal } : {}),
    });
    const { file: claimsFile, ...source } = accepted.source;
    void claimsFile;
    return {
      manifest: accepted.manifest,
      signer: accepted.signer,
      source,
      claims: accepted.claims,
      policy: { decision: accepted.decision, signers: accepted.signers },
    };
  }
  const { verifier, maxBundleBytes } = trust;
  const { bytes, bundle } = file;
  let verified;
  try {
    verified = bundle
      ? { ...(await verifyBundle({ bundle, verifier })), source: { layout: 'bundle' as const, warnings: [] } }
      : await verifySignatureBytes({ bytes, verifier, name: location, maxBundleBytes });
  } catch (cause) {
    throw rejected(cause, location);
  }
  const { manifest, signer, source } = verified;
  // Read only once the signature verified: a refused one costs no more requests.
  const claimsFile = source.layout === 'claims' && bytes ? { bytes, location } : await readBeside();
  const claims = claimsFile ? await signerClaims(claimsFile, manifest, trust, signal) : [];
  return { manifest, signer, source, claims };
}

/** The claims of a claims file that the one verifier accepts and that are about the signed files. */
async function signerClaims(
  file: BesideClaims,
  manifest: VerifiedManifest,
  trust: SignatureTrust & { verifier: Verifier },
  signal: AbortSignal | undefined,
): Promise<VerifiedClaim[]> {
  // The reference lists some names in another order, so its subject digest of the same files can differ from ours.
  const roots = [...new Set([manifest.rootDigest, rootDigest(sortResources(manifest.resources))])];
  const { claims } = await verifyClaims({
    claims: file.bytes,
    rootDigest: roots,
    verifiers: [trust.verifier],
    maxBundleBytes: trust.maxBundleBytes,
    maxClaimsBytes: Math.max(file.bytes.length, 1),
    ...(signal ? { abortSignal: signal } : {}),
  });
  return claims
    .filter((c) => c.verified && !c.isSignature)
    .map((c) => ({ predicateType: c.predicateType, predicate: c.predicate, signer: c.signer, file: file.location, line: c.line }));
}
