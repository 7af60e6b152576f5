/**
 * `@model-signing/core/browser`: the runtime-neutral part of model-signing,
 * with no `node:*` import and no Node globals, for browsers, web workers and
 * any other JavaScript runtime with WebCrypto: the OMS format (resource
 * names, manifest and root digest, statement, DSSE PAE, bundle parsing,
 * bundle verification and the manifest checker) and the verifiers that need
 * no Node API.
 *
 * @packageDocumentation
 */
export {
  ManifestMismatchError,
  ModelSigningError,
  isModelSigningError,
  type ErrorCode,
  type ManifestDifference,
  type ModelSigningErrorOptions,
} from './errors.js';
export { normalizeModelPath } from './format/model-path.js';
export { staysInside } from './format/containment.js';
export {
  DEFAULT_SHARD_SIZE,
  compareResourceNames,
  parseShardName,
  resourceAlgorithm,
  rootDigest,
  shardName,
  shardRanges,
  sortResources,
  type HashAlgorithm,
  type Manifest,
  type ManifestResource,
  type Serialization,
  type SerializationMethod,
  type ShardRange,
} from './format/manifest.js';
export {
  COMPAT_PREDICATE_TYPE,
  PAYLOAD_TYPE,
  PREDICATE_TYPE,
  STATEMENT_TYPE,
  manifestToPayload,
  manifestToStatement,
  parseStatement,
  type VerifiedManifest,
} from './format/statement.js';
export {
  BUNDLE_MEDIA_TYPE,
  DEFAULT_MAX_BUNDLE_BYTES,
  parseBundle,
  serializeBundle,
  type ParseBundleOptions,
  type ParsedBundle,
  type SerializedBundle,
  type SerializedEnvelope,
  type SerializedSignature,
  type SigningMethod,
} from './format/bundle.js';
export { ManifestChecker, type FileHasher, type FileHasherOptions, type ManifestCheckerOptions } from './format/checker.js';
export { wrongMethodMessage, type SignerInfo, type TimestampInfo, type Verifier } from './format/verifier.js';
export { verifyBundle, type VerifiedBundle, type VerifyBundleOptions } from './format/bundle-verification.js';
export { toHex } from './format/hex.js';
export type { IncrementalHash } from './format/hash-algorithms.js';
export {
  HASH_ALGORITHMS,
  hashAlgorithm,
  hashStream,
  fastestCheckerHashers,
  sequentialHashers,
  type HashAlgorithmName,
  type HashAlgorithmSpec,
  type StreamingHasher,
} from './format/hash-registry.js';
export { compatPreAuthEncoding, preAuthEncoding } from './format/dsse.js';
export {
  CURVE_FIELD_BYTES,
  CURVE_HASH,
  checkKeyHint,
  importEcPublicKey,
  type EcCurve,
  type EcPublicKey,
} from './methods/key/ec-public-key.js';
export { derToP1363, verifyDsseSignature, type VerifyDsseSignatureParams } from './methods/key/dsse-signature.js';
export { createHashWorkerPool, type HashSource, type HashWorkerPool, type HashWorkerPoolParams } from './browser/hash-worker-pool.js';
export { WebKeyVerifier, type WebKeyVerifierParams } from './methods/key/web-key-verifier.js';
export { WebCertificateVerifier, type WebCertificateVerifierParams } from './methods/certificate/web-certificate-verifier.js';
export type { CertificateIdentity } from './methods/certificate/certificate-path.js';
export { WebSigstoreVerifier, type WebSigstoreVerifierOptions } from './methods/sigstore/web/verifier.js';
export {
  fetchVerifiedModel,
  type FetchProgress,
  type FetchVerifiedModelParams,
  type VerifiedModel,
} from './browser/fetch-verified-model.js';
// Claims: signed statements about a model in `claims.jsonl` (docs/claims.md)
export { ATTESTATION_FILE_PATTERNS, CLAIMS_FILE_NAME, isAttestationFile } from './format/attestation-files.js';
export {
  DEFAULT_MAX_CLAIM_LINES,
  type ClaimLine,
  type ClaimsReadOptions,
  type ClaimsWarning,
  type ClaimsWarningCode,
} from './claims/lines.js';
export { parseClaimStatement, type Claim, type ClaimStatement, type ClaimSubject } from './claims/claim.js';
export { readClaims, type ClaimsSource, type ReadClaimsParams, type ReadClaimsResult } from './claims/read-claims.js';
export {
  isSignaturePredicate,
  verifyClaims,
  type CheckedClaim,
  type ClaimFailure,
  type VerifyClaimsParams,
  type VerifyClaimsResult,
} from './claims/verify-claims.js';
export {
  verifySignatureBytes,
  type SignatureSource,
  type VerifiedSignature,
  type VerifySignatureBytesParams,
} from './claims/verify-signature-bytes.js';
export { createClaim, type ClaimModelSubject, type CreateClaimParams } from './claims/create-claim.js';
export { PREDICATE_TYPES, describePredicate, predicateTypeFor } from './claims/predicates/index.js';
export type { PredicateType } from './claims/predicates/predicate-type.js';
export { CYCLONEDX_PREDICATE_TYPE, CYCLONEDX_SPEC_VERSION, validateModelCard, type CycloneDxBom } from './claims/predicates/model-card.js';
export {
  modelCardFromReadme,
  modelIndexResults,
  readModelCardMetadata,
  type EvalResult,
  type ModelCardFromReadmeOptions,
  type ModelCardMetadata,
} from './claims/predicates/model-card-from-readme.js';
export { TEST_RESULT_PREDICATE_TYPE, type TestResult } from './claims/predicates/test-result.js';
export { SLSA_PROVENANCE_PREDICATE_TYPE, datasetDependency, withResolvedDependencies } from './claims/predicates/slsa-provenance.js';
export type { ResourceDescriptor } from './claims/predicates/resource-descriptor.js';
