// Runtime-neutral (no `node:*`): checks every claim of a claims file against
// the model's root digest and the verifiers the caller trusts.
import { ModelSigningError, type ErrorCode } from '../errors.js';
import { rootDigest, sortResources } from '../format/manifest.js';
import { COMPAT_PREDICATE_TYPE, PREDICATE_TYPE, parseStatement } from '../format/statement.js';
import type { SignerInfo, Verifier } from '../format/verifier.js';
import { subjectMismatch, type Claim, type ClaimSubject } from './claim.js';
import type { ClaimsReadOptions, ClaimsWarning } from './lines.js';
import { claimsOf, type ClaimsSource } from './read-claims.js';

/** Whether a predicate type is an OMS signature (v1.0, or v0.1 of model_signing 0.2). */
export function isSignaturePredicate(predicateType: string): boolean {
  return predicateType === PREDICATE_TYPE || predicateType === COMPAT_PREDICATE_TYPE;
}

/** Options for {@link verifyClaims}. */
export interface VerifyClaimsParams extends ClaimsReadOptions {
  /** Cancels the operation: it rejects with a `ModelSigningError` coded `ABORTED`. */
  abortSignal?: AbortSignal;
  /** The claims file (`claims.jsonl`): its bytes or a stream of them. */
  claims: ClaimsSource;
  /**
   * The model's root digest (hex), as signing computes it (`model-signing
   * digest`); several when the same files are known under more than one
   * order (an OMS signature's own subject digest and ours).
   */
  rootDigest: string | readonly string[];
  /**
   * Verifiers of the parties whose claims count: the model's signer, an
   * evaluator's key, a build system's identity. A claim verifies when one
   * verifier of its signing method accepts it.
   */
  verifiers: readonly Verifier[];
}

/** Why a claim did not verify. */
export interface ClaimFailure {
  /** A `ModelSigningError` code (`SUBJECT_MISMATCH`, `KEY_MISMATCH`, `SIGNATURE_INVALID`, …), or `NOT_CHECKED` when no verifier of its method was given. */
  code: ErrorCode | 'NOT_CHECKED';
  message: string;
}

/** One line of a claims file, checked. */
export interface CheckedClaim {
  /** 1-based line number in the claims file. */
  line: number;
  predicateType: string;
  /** The line is an OMS signature (its predicate, the manifest, is left out here). */
  isSignature: boolean;
  /** The statement's first subject (a claim about a model has exactly one). */
  subject: ClaimSubject | undefined;
  /** The subject is the model's root digest. */
  subjectMatch: boolean;
  /** A verifier accepted the signature. */
  signatureVerified: boolean;
  /** Both: the signature verified and the claim is about this model. Only then may the predicate be trusted. */
  verified: boolean;
  /**
   * Who signed: as the verifier established it when the signature verified;
   * otherwise only what the bundle says of itself (its method and key hint), unverified.
   */
  signer: SignerInfo;
  /** Why the claim did not verify. */
  failure?: ClaimFailure;
  /** The predicate (not for OMS signatures, whose manifest lists every file). Trust it only when `verified`. */
  predicate?: unknown;
}

/** What {@link verifyClaims} found: every claim in file order, and every line skipped. */
export interface VerifyClaimsResult {
  claims: CheckedClaim[];
  warnings: ClaimsWarning[];
}

/** What a bundle says of its signer before anything is checked. */
function claimedSigner(claim: Claim): SignerInfo {
  const { method, publicKeyHint } = claim.bundle;
  return publicKeyHint === undefined ? { method } : { method, publicKeyHint };
}

/**
 * Whether an OMS signature line is about the model: its subject digest, or
 * the root digest of its resources in code-point order (the reference lists
 * some names in another order, so its subject digest of the same files differs).
 */
function signatureMismatch(claim: Claim, roots: readonly string[]): string | undefined {
  const mismatch = subjectMismatch(claim, roots);
  if (mismatch === undefined) return undefined;
  try {
    const manifest = parseStatement(claim.bundle.payload);
    return roots.includes(rootDigest(sortResources(manifest.resources))) ? undefined : mismatch;
  } catch {
    return mismatch;
  }
}

/**
 * Tries the verifiers of the claim's method in turn; the first that accepts it
 * wins. (The payload type was checked when the line was parsed: only in-toto
 * statements become claims.)
 */
async function checkSignature(claim: Claim, verifiers: readonly Verifier[]): Promise<SignerInfo | ClaimFailure> {
  const candidates = verifiers.filter((v) => v.method === claim.bundle.method);
  if (candidates.length === 0) {
    return {
      code: 'NOT_CHECKED',
      message: `line ${claim.line} is signed with the ${claim.bundle.method} method; no verifier for it was given`,
    };
  }
  const failures: ModelSigningError[] = [];
  for (const verifier of candidates) {
    try {
      const signer = await verifier.verify(claim.bundle);
      // A signature line must also be a well-formed OMS statement (root digest consistent with its resources).
      if (isSignaturePredicate(claim.statement.predicateType)) parseStatement(claim.bundle.payload);
      return signer;
    } catch (err) {
      if (!(err instanceof ModelSigningError)) throw err;
      failures.push(err);
    }
  }
  // A signature that fails to verify outranks "signed by someone else".
  const notOurs = new Set<ErrorCode>(['KEY_MISMATCH', 'IDENTITY_MISMATCH', 'CERT_CHAIN_INVALID', 'WRONG_METHOD']);
  const worst = failures.find((f) => !notOurs.has(f.code)) ?? failures[failures.length - 1];
  const reasons = failures.length === 1 ? worst.message : failures.map((f, i) => `verifier ${i + 1}: ${f.message}`).join('; ');
  return { code: worst.code, message: `line ${claim.line} did not verify: ${reasons}` };
}

/**
 * Reads a claims file and checks each claim: its signature with the given
 * verifiers, and its subject against the model's root digest. Lines that are
 * not claims are skipped with a warning naming the line; limits bound memory
 * and time as in {@link readClaims}. A claim is `verified` only when both
 * checks pass; the others are listed with the reason.
 *
 * OMS signature lines are checked as statements here; whether the model's
 * files match one is for the verified-model session (`verifyModel`).
 *
 * @throws {ModelSigningError} `INVALID_ARGUMENT` (a bad limit, no root digest), `ABORTED`.
 */
export async function verifyClaims(params: VerifyClaimsParams): Promise<VerifyClaimsResult> {
  const roots = (typeof params.rootDigest === 'string' ? [params.rootDigest] : [...params.rootDigest]).map((d) => d.toLowerCase());
  if (roots.length === 0 || roots.some((d) => !/^[0-9a-f]{64}$/.test(d))) {
    throw new ModelSigningError({ code: 'INVALID_ARGUMENT', message: 'rootDigest must be a SHA-256 root digest (64 hex digits)' });
  }
  const warnings: ClaimsWarning[] = [];
  const claims: CheckedClaim[] = [];
  for await (const claim of claimsOf(params.claims, params, warnings)) {
    const { predicateType, subject } = claim.statement;
    const isSignature = isSignaturePredicate(predicateType);
    const mismatch = isSignature ? signatureMismatch(claim, roots) : subjectMismatch(claim, roots);
    const checked = await checkSignature(claim, params.verifiers);
    const signatureVerified = !('code' in checked);
    const result: CheckedClaim = {
      line: claim.line,
      predicateType,
      isSignature,
      subject: subject[0],
      subjectMatch: mismatch === undefined,
      signatureVerified,
      verified: signatureVerified && mismatch === undefined,
      signer: signatureVerified ? checked : claimedSigner(claim),
    };
    if (!signatureVerified) result.failure = checked;
    else if (mismatch !== undefined) result.failure = { code: 'SUBJECT_MISMATCH', message: mismatch };
    if (!isSignature && claim.statement.predicate !== undefined) result.predicate = claim.statement.predicate;
    claims.push(result);
  }
  return { claims, warnings };
}
