// The public names `@model-signing/core` and `@model-signing/core/browser`
// share: runtime-neutral (no `node:*` import), listed once so that the two
// entries cannot drift apart. Each entry re-exports all of it and adds its
// own (index.ts: the Node-only calls; browser.ts: the WebCrypto verifiers,
// the hash workers, `createPolicy`).
// Errors
export {
  ManifestMismatchError,
  ModelSigningError,
  isModelSigningError,
  type ErrorCode,
  type ManifestDifference,
  type ModelSigningErrorOptions,
} from './errors.js';
// Open a verified model over HTTP, or from any source
export {
  fetchVerifiedModel,
  type LoadProgress,
  type FetchVerifiedModelParams,
  type VerifiedModel,
} from './browser/fetch-verified-model.js';
export {
  openVerifiedSession,
  type FinishedModel,
  type SessionReadOptions,
  type VerifiedSession,
  type VerifiedSessionParams,
} from './session/verified-session.js';
export type {
  FinishOptions,
  ListScope,
  ListedFile,
  ModelSource,
  OpenContext,
  SourceBody,
  SourceContext,
  SourceListing,
} from './session/source.js';
export { DEFAULT_MAX_FILE_BYTES } from './session/limits.js';
export { httpSource, type HttpSourceOptions } from './sources/http-source.js';
export type { SignatureSource } from './claims/verify-signature-bytes.js';
// The manifest
export type { HashProgress } from './format/hash-algorithms.js';
export type { HashAlgorithm, Manifest, ManifestResource, Serialization, SerializationMethod } from './format/manifest.js';
export type { VerifiedManifest } from './format/verified-manifest.js';
// What a verifier establishes, and the bundle it reads
export type { CertificateIdentity } from './methods/certificate/certificate-path.js';
export type { SignerInfo, TimestampInfo, Verifier } from './format/verifier.js';
export {
  DEFAULT_MAX_BUNDLE_BYTES,
  DEFAULT_SIGNATURE_NAME,
  type ParsedBundle,
  type SerializedBundle,
  type SigningMethod,
} from './format/bundle.js';
// Claims: signed statements about a model in `claims.jsonl` (docs/claims.md)
export { createClaim, type CreateClaimParams } from './claims/create-claim.js';
export { readClaims, type ClaimsSource, type ReadClaimsParams, type ReadClaimsResult } from './claims/read-claims.js';
export {
  verifyClaims,
  type CheckedClaim,
  type ClaimFailure,
  type VerifyClaimsParams,
  type VerifyClaimsResult,
} from './claims/verify-claims.js';
export type { Claim, ClaimStatement, ClaimSubject, VerifiedClaim } from './claims/claim.js';
export type { ClaimsWarning, ClaimsWarningCode } from './claims/lines.js';
export { CYCLONEDX_PREDICATE_TYPE, type CycloneDxBom } from './claims/predicates/model-card.js';
export { modelCardFromReadme, type ModelCardFromReadmeOptions } from './claims/predicates/model-card-from-readme.js';
export { TEST_RESULT_PREDICATE_TYPE } from './claims/predicates/test-result.js';
export { SLSA_PROVENANCE_PREDICATE_TYPE } from './claims/predicates/slsa-provenance.js';
// Trust policy: who may sign which models, and which claims must hold (docs/policy.md)
export type { Policy } from './policy/compile.js';
export type { ModelIdentity } from './policy/identity.js';
export { PolicyDeniedError, PolicyInvalidError, type PolicyProblem } from './policy/errors.js';
export {
  formatDecision,
  type Evidence,
  type EvidenceOutcome,
  type MatchedRule,
  type PolicyDecision,
  type RequirementOutcome,
} from './policy/decision.js';
export type { SeenValue } from './policy/cel.js';
export type { PolicySigner } from './policy/evaluate.js';
export type { PolicyOutcome } from './session/signature.js';
