/**
 * `@model-signing/core/internal`: what the adapters of this repository
 * (`@model-signing/cli`, `hf-hub`, `oci`, `onnx`, `tfjs`, `transformers`) and its
 * tests share with core beyond its public API, runtime-neutral like
 * `@model-signing/core/browser` (the Node-only part is
 * `@model-signing/core/internal/node`). Outside semver: any release may
 * change or remove any of it. Build on the public entries instead.
 *
 * @packageDocumentation
 */
// Cancellation and paths
export { abortedError, throwIfAborted, type AbortedDuring } from './cancellation.js';
export { errorNamingFile } from './errors.js';
export { GIT_PATHS, isUnderAny, normalizeModelPath } from './format/model-path.js';
export { staysInside } from './format/containment.js';
// Fetching a model's files a few at a time
export { DEFAULT_CONCURRENCY, concurrencyOf, runPool } from './pool.js';
// What every loader's options and results extend (the public option and
// result types of the adapters name them; their users need not)
export { outcomeOf, type TrustOptions, type VerificationOutcome } from './verified-load.js';
export type { LoadLimits } from './session/limits.js';
// The session's parts, for loaders and tests
export { readVerifiedFiles } from './browser/fetch-verified-model.js';
export { absoluteUrl } from './sources/http-source.js';
export { ManifestChecker, type FileHasher, type FileHasherOptions, type ManifestCheckerOptions } from './format/checker.js';
export { compareListing } from './session/listing.js';
// The format
export { BUNDLE_MEDIA_TYPE, parseBundle, serializeBundle } from './format/bundle.js';
export { verifyBundle, type VerifiedBundle, type VerifyBundleOptions } from './format/bundle-verification.js';
export { PREDICATE_TYPE, manifestToPayload, manifestToStatement, parseStatement, type ParsedStatement } from './format/statement.js';
export { compareResourceNames, sortResources } from './format/manifest.js';
export { compatPreAuthEncoding, preAuthEncoding } from './format/dsse.js';
export { toHex } from './format/hex.js';
// Hashing and keys, runtime-neutral
export { createHasher, hashBytes } from './format/hash-algorithms.js';
export { HASH_ALGORITHMS, fastestCheckerHashers, hashAlgorithm, hashStream, sequentialHashers } from './format/hash-registry.js';
export { checkKeyHint, importEcPublicKey } from './methods/key/ec-public-key.js';
export { derToP1363, verifyDsseSignature } from './methods/key/dsse-signature.js';
// Claims: the helpers behind the CLI's attest, claims and verify --claims
export { ATTESTATION_FILE_PATTERNS, CLAIMS_FILE_NAME, isAttestationFile } from './format/attestation-files.js';
export { DEFAULT_MAX_CLAIM_LINES, type ClaimLine, type ClaimsReadOptions } from './claims/lines.js';
export { parseClaimStatement } from './claims/claim.js';
export { isSignaturePredicate } from './claims/verify-claims.js';
export { verifySignatureBytes, type VerifiedSignature, type VerifySignatureBytesParams } from './claims/verify-signature-bytes.js';
export { PREDICATE_TYPES, describePredicate, predicateTypeFor } from './claims/predicates/index.js';
export type { PredicateType } from './claims/predicates/predicate-type.js';
export { CYCLONEDX_SPEC_VERSION, validateModelCard } from './claims/predicates/model-card.js';
export {
  modelIndexResults,
  readModelCardMetadata,
  type EvalResult,
  type ModelCardMetadata,
} from './claims/predicates/model-card-from-readme.js';
export type { TestResult } from './claims/predicates/test-result.js';
export { datasetDependency, withResolvedDependencies } from './claims/predicates/slsa-provenance.js';
export type { ResourceDescriptor } from './claims/predicates/resource-descriptor.js';
// RFC 3161: the client signing uses (signPayload's `timestamp`)
export { requestTimestamp, type RequestTimestampParams, type RequestedTimestamp } from './methods/timestamp/request-timestamp.js';
// Trust policy: the engine behind the loaders' `policy` option and the CLI's policy commands
export { compilePolicy, type CompilePolicyOptions } from './policy/compile.js';
export {
  DEFAULT_MAX_POLICY_BYTES,
  parsePolicy,
  type ParsePolicyOptions,
  type ParsedPolicy,
  type PolicyDocument,
} from './policy/document.js';
export {
  evaluatePolicy,
  explainPolicy,
  type EvaluatePolicyParams,
  type PolicyClaim,
  type PolicyEvaluation,
  type PolicyVerifiedSignature,
} from './policy/evaluate.js';
export { describeProblem } from './policy/errors.js';
export { describeIdentity, normalizeIdentity } from './policy/identity.js';
export { DEFAULT_CEL_COST_LIMIT } from './policy/cel.js';
export type { AuthorityVerifiers, PolicyFile, SigstoreVerifierParams } from './policy/authorities.js';
export { webAuthorityVerifiers } from './policy/create-policy.js';
