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
  type ParsedStatement,
} from './format/statement.js';
export type { VerifiedManifest } from './format/verified-manifest.js';
export {
  BUNDLE_MEDIA_TYPE,
  DEFAULT_MAX_BUNDLE_BYTES,
  DEFAULT_SIGNATURE_NAME,
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
export { wrongMethodMessage, type SignerInfo, type Verifier } from './format/verifier.js';
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
export { DEFAULT_MAX_FILE_BYTES, type LoadLimits } from './session/limits.js';
export {
  openVerifiedSession,
  type FinishOptions,
  type FinishedModel,
  type SessionReadOptions,
  type VerifiedSession,
  type VerifiedSessionParams,
} from './session/verified-session.js';
export type {
  ListScope,
  ListedFile,
  ModelSource,
  OpenContext,
  SourceBody,
  SourceContext,
  SourceListing,
  BulkHashOptions,
} from './session/source.js';
export { httpSource, type HttpSourceOptions } from './sources/http-source.js';
