// Public API of @model-signing/core (the Node entry): re-exports only. The
// folders are layers: format/ runs anywhere, methods/<method>/ holds each
// signing method, node/ walks, hashes and writes on disk (docs/architecture.md).
export * from './errors.js';
export { abortSignalOf, type Cancellable } from './cancellation.js';
export { walkModel, type WalkOptions, type WalkedModel, type ModelFile } from './node/walk.js';
export { GIT_PATHS } from './node/paths.js';
export { normalizeModelPath } from './format/model-path.js';
export { staysInside } from './format/containment.js';
export { TEMPORARY_PREFIX, isTemporaryName, removeStaleTemporaries, temporaryName } from './node/temporary.js';
export { createHasher, hashBytes, type IncrementalHash } from './format/hash-algorithms.js';
export {
  hashModel,
  hashFiles,
  resolveSerialization,
  type HashFilesOptions,
  type HashModelOptions,
  type HashingOptions,
  type HashProgress,
} from './node/hash/hash-model.js';
export { defaultWorkerCount } from './node/hash/pool.js';
export {
  DEFAULT_SHARD_SIZE,
  HASH_ALGORITHMS,
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
export { preAuthEncoding } from './format/dsse.js';
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
export { writeFileAtomic } from './node/write-bundle.js';
export type { Signer, SignOptions, SignatureWithMaterial, VerificationMaterial, WitnessMaterial } from './format/signer.js';
export { buildBundle, signPayload, type BuildBundleOptions, type SignPayloadOptions } from './format/bundle-builder.js';
export { KeySigner, type KeySignerOptions } from './methods/key/key-signer.js';
export {
  CertificateSigner,
  certificateChainMaterial,
  type CertificateChainSources,
  type CertificateSignerOptions,
} from './methods/certificate/certificate-signer.js';
export { hashForKey, loadCertificates, loadPrivateKey, loadPublicKey, publicKeyHint, publicKeyPem, readPem } from './methods/key/keys.js';
export {
  ExternalKeySigner,
  p1363ToDer,
  type ExternalKeySignerOptions,
  type ExternalSignRequest,
  type ExternalSignature,
} from './methods/external-key.js';
export {
  planIncrementalSign,
  type IncrementalOptions,
  type IncrementalSignPlan,
  type PlanIncrementalSignOptions,
  type RehashReason,
  type ReuseSummary,
} from './node/incremental/reuse.js';
export { RACY_MARGIN_MS, recordDirectory } from './node/incremental/record.js';
export { signModel, writeSignature, type SignModelOptions, type SignModelResult } from './node/sign-model.js';
export {
  createSignature,
  signManifest,
  type CreateSignatureParams,
  type CreatedSignature,
  type InMemoryModel,
  type SignManifestOptions,
} from './node/create-signature.js';
export { wrongMethodMessage, type SignerInfo, type TimestampInfo, type Verifier } from './format/verifier.js';
export { verifyDsseSignature } from './methods/key/ecdsa.js';
export { KeyVerifier, type KeyVerifierOptions } from './methods/key/key-verifier.js';
export {
  CertificateVerifier,
  type CertificateIdentity,
  type CertificateVerifierOptions,
} from './methods/certificate/certificate-verifier.js';
export { ManifestChecker, type FileHasher, type FileHasherOptions, type ManifestCheckerOptions } from './format/checker.js';
export { readBundle, verifyBundle, type ReadBundleOptions, type VerifiedBundle, type VerifyBundleOptions } from './node/verify-bundle.js';
export { verifyModel, type VerificationResult, type VerifyModelOptions } from './node/verify-model.js';
export {
  openVerifiedModel,
  readVerifiedBundle,
  type CheckedReadOptions,
  type FinishOptions,
  type FinishedModel,
  type OpenVerifiedModelParams,
  type ReadVerifiedBundleParams,
  type VerifiedModelFiles,
} from './node/open-verified-model.js';
// Sigstore keyless
export { SigstoreSigner, type SigstoreSignerOptions } from './methods/sigstore/signer.js';
export { SigstoreVerifier, type SigstoreVerifierOptions } from './methods/sigstore/verifier.js';
export {
  loadTrustConfig,
  parseClientTrustConfig,
  type LoadTrustConfigOptions,
  type SigstoreTrustConfig,
  type TufOptions,
} from './methods/sigstore/trust-config.js';
export { DEFAULT_CLIENT_ID, getIdentityToken, type IdentityTokenOptions } from './methods/sigstore/identity-token.js';
export { OOB_REDIRECT_URI, interactiveIdentityToken, type InteractiveIdentityTokenOptions } from './methods/sigstore/oauth.js';
// Keys on PKCS#11 tokens and in key management services (optional packages, loaded on first use)
export { createPkcs11Signer, type Pkcs11SignerOptions } from './methods/pkcs11/signer.js';
export { DEFAULT_MODULE_DIRECTORIES, parsePkcs11Uri, type Pkcs11Uri } from './methods/pkcs11/uri.js';
export { createKmsSigner, isKmsUri, type KmsSignerOptions } from './methods/kms/signer.js';
// RFC 3161 timestamps for key, certificate, PKCS#11 and KMS signatures
export {
  requestTimestamp,
  type RequestTimestampParams,
  type RequestedTimestamp,
  type TimestampAuthorityOptions,
} from './methods/timestamp/request-timestamp.js';
export type { AwsKmsOptions } from './methods/kms/aws.js';
export type { KmsKey, KmsProvider } from './methods/kms/provider.js';
// Claims: signed statements about a model in `claims.jsonl` (docs/claims.md)
export { ATTESTATION_FILE_PATTERNS, CLAIMS_FILE_NAME, isAttestationFile } from './node/paths.js';
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
export { appendClaim, isClaimsPath, type AppendClaimOptions, type AppendedClaim } from './node/append-claim.js';
export { attest, subjectDigest, type AttestParams, type AttestResult } from './node/attest.js';
export { openClaimsFile } from './node/claims-file.js';
export { readSignatureFile } from './node/verify-bundle.js';
