// Runtime-neutral. What every verified load takes to decide whom to trust and
// reports about the signature that verified, written once: the loaders of
// this repository (onnx, tfjs, hf-hub, transformers) extend these two types,
// so `verifier`, `policy`, `claims` and the rest mean the same everywhere.
import type { VerifiedClaim } from './claims/claim.js';
import type { SignatureSource } from './claims/verify-signature-bytes.js';
import type { VerifiedManifest } from './format/verified-manifest.js';
import type { SignerInfo, Verifier } from './format/verifier.js';
import type { Policy } from './policy/compile.js';
import type { ModelIdentity } from './policy/identity.js';
import type { PolicyOutcome } from './session/signature.js';

/** Whom a verified load trusts: a verifier, or a trust policy (give one of the two). */
export interface TrustOptions {
  /**
   * Checks the signature and decides whom to trust: a core verifier
   * (`KeyVerifier`, `CertificateVerifier`, `SigstoreVerifier` in Node;
   * `WebKeyVerifier`, `WebCertificateVerifier`, `WebSigstoreVerifier`
   * anywhere). Give this or `policy`.
   */
  verifier?: Verifier;
  /**
   * A trust policy in place of `verifier` (`loadPolicy` in Node,
   * `createPolicy` anywhere): the rule matching the model (`model`) says who
   * must sign and which claims must hold (`claims.jsonl` beside the
   * signature counts). A refusal is `POLICY_DENIED` naming the rule and the
   * requirement, and nothing of the model is loaded or kept (docs/policy.md).
   */
  policy?: Policy;
  /**
   * With `policy`: how the model was addressed, which the rules match.
   * Default: where it is read from (its real path on disk, its URL on the
   * web, the Hugging Face repo at the revision asked for).
   */
  model?: ModelIdentity;
}

/** What a verified load established about the signature: the signed manifest, who signed, and what held. */
export interface VerificationOutcome {
  /** The signed manifest every byte was checked against. */
  manifest: VerifiedManifest;
  /** Who signed, as the verifier established it (key hint, certificate or Sigstore identity). */
  signer: SignerInfo;
  /** Which signature verified: the signature file as one bundle, or which line of a claims file (`claims.jsonl`). */
  source: SignatureSource;
  /**
   * The claims about the model that verified (from `claims.jsonl` as the
   * signature, or beside it): with a verifier, those it accepts; under a
   * policy, those that met the rule's claim requirements.
   */
  claims: VerifiedClaim[];
  /** With `policy`: its decision (the rule, each requirement) and every signer counted. */
  policy?: PolicyOutcome;
}

/** What a verified session (or a model opened through one) holds of its {@link VerificationOutcome}. */
interface VerifiedSource {
  readonly manifest: VerifiedManifest;
  readonly signer: SignerInfo;
  readonly source: SignatureSource;
  readonly claims: readonly VerifiedClaim[];
  readonly policy?: PolicyOutcome;
}

/** A session's outcome as a loader reports it: the claims copied (the caller may keep them), `policy` only under a policy. */
export function outcomeOf(verified: VerifiedSource): VerificationOutcome {
  return {
    manifest: verified.manifest,
    signer: verified.signer,
    source: verified.source,
    claims: [...verified.claims],
    ...(verified.policy ? { policy: verified.policy } : {}),
  };
}
