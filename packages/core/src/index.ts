/**
 * `@model-signing/core`: sign machine-learning models and verify them before
 * they are loaded, with OpenSSF Model Signing (OMS) signatures, in Node.js.
 * The runtime-neutral part (browsers, workers) is `@model-signing/core/browser`.
 *
 * @packageDocumentation
 */
// Errors
export {
  ManifestMismatchError,
  ModelSigningError,
  isModelSigningError,
  type ErrorCode,
  type ManifestDifference,
  type ModelSigningErrorOptions,
} from './errors.js';
// Sign
export { signModel, type SignModelOptions, type SignModelResult } from './node/sign-model.js';
export type { IncrementalOptions, ReuseSummary } from './node/incremental/reuse.js';
export type { TimestampAuthorityOptions } from './methods/timestamp/request-timestamp.js';
// Verify a model on disk
export { verifyModel, type VerificationResult, type VerifyModelOptions } from './node/verify-model.js';
// Open a verified model: read only checked bytes (a directory, HTTP, any source)
export { openVerifiedModel, type OpenVerifiedModelParams, type VerifiedModelFiles } from './node/open-verified-model.js';
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
export { DEFAULT_MAX_FILE_BYTES, type LoadLimits } from './session/limits.js';
export { httpSource, type HttpSourceOptions } from './sources/http-source.js';
export type { SignatureSource } from './claims/verify-signature-bytes.js';
export type { TrustOptions, VerificationOutcome } from './verified-load.js';
// Digests without signing
export { hashModel, type HashModelOptions, type HashingOptions } from './node/hash/hash-model.js';
export type { HashProgress } from './format/hash-algorithms.js';
export {
  rootDigest,
  type HashAlgorithm,
  type Manifest,
  type ManifestResource,
  type Serialization,
  type SerializationMethod,
} from './format/manifest.js';
export type { ModelFile, WalkOptions } from './node/walk.js';
export type { VerifiedManifest } from './format/verified-manifest.js';
// Signers
export { KeySigner, type KeySignerOptions } from './methods/key/key-signer.js';
export { CertificateSigner, type CertificateSignerOptions } from './methods/certificate/certificate-signer.js';
export { SigstoreSigner, type SigstoreSignerOptions } from './methods/sigstore/signer.js';
export type { TufOptions } from './methods/sigstore/trust-config.js';
export {
  ExternalKeySigner,
  type ExternalKeySignerOptions,
  type ExternalSignRequest,
  type ExternalSignature,
} from './methods/external-key.js';
export { createPkcs11Signer, type Pkcs11SignerOptions } from './methods/pkcs11/signer.js';
export { createKmsSigner, type KmsSignerOptions } from './methods/kms/signer.js';
export type { AwsCredentials, AwsKmsOptions } from './methods/kms/aws.js';
// Verifiers
export { KeyVerifier, type KeyVerifierOptions } from './methods/key/key-verifier.js';
export {
  CertificateVerifier,
  type CertificateIdentity,
  type CertificateVerifierOptions,
} from './methods/certificate/certificate-verifier.js';
export { SigstoreVerifier, type SigstoreVerifierOptions } from './methods/sigstore/verifier.js';
// What a signer or verifier of your own implements
export type { SignOptions, SignatureWithMaterial, Signer, VerificationMaterial, WitnessMaterial } from './format/signer.js';
export type { SignerInfo, TimestampInfo, Verifier } from './format/verifier.js';
export {
  DEFAULT_MAX_BUNDLE_BYTES,
  DEFAULT_SIGNATURE_NAME,
  type ParsedBundle,
  type SerializedBundle,
  type SigningMethod,
} from './format/bundle.js';
// Signing any in-toto statement (DSSE payload) with any signer
export { signPayload, type SignPayloadOptions } from './format/bundle-builder.js';
export { PAYLOAD_TYPE } from './format/statement.js';
// Claims: signed statements about a model in `claims.jsonl` (docs/claims.md)
export { attest, type AttestParams, type AttestResult } from './node/attest.js';
export { createClaim, type CreateClaimParams } from './claims/create-claim.js';
export { openClaimsFile } from './node/claims-file.js';
export { readClaims, type ClaimsSource, type ReadClaimsParams, type ReadClaimsResult } from './claims/read-claims.js';
export {
  verifyClaims,
  type CheckedClaim,
  type ClaimFailure,
  type VerifyClaimsParams,
  type VerifyClaimsResult,
} from './claims/verify-claims.js';
export type { Claim, ClaimStatement, ClaimSubject, VerifiedClaim } from './claims/claim.js';
export type { ClaimsReadOptions, ClaimsWarning, ClaimsWarningCode } from './claims/lines.js';
export { CYCLONEDX_PREDICATE_TYPE, type CycloneDxBom } from './claims/predicates/model-card.js';
export { modelCardFromReadme, type ModelCardFromReadmeOptions } from './claims/predicates/model-card-from-readme.js';
export { TEST_RESULT_PREDICATE_TYPE } from './claims/predicates/test-result.js';
export { SLSA_PROVENANCE_PREDICATE_TYPE } from './claims/predicates/slsa-provenance.js';
// Trust policy: who may sign which models, and which claims must hold (docs/policy.md)
export { loadPolicy, type LoadPolicyOptions } from './node/load-policy.js';
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
