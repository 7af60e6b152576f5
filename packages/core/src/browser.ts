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
export { normalizeModelPath } from './walk/model-path.js';
export { staysInside } from './walk/containment.js';
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
} from './manifest/manifest.js';
export {
  COMPAT_PREDICATE_TYPE,
  PAYLOAD_TYPE,
  PREDICATE_TYPE,
  STATEMENT_TYPE,
  manifestToPayload,
  manifestToStatement,
  parseStatement,
  type VerifiedManifest,
} from './statement/statement.js';
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
} from './bundle/bundle.js';
export { ManifestChecker, type FileHasher, type ManifestCheckerOptions } from './verifying/checker.js';
export { wrongMethodMessage, type SignerInfo, type Verifier } from './verifying/verifier.js';
export { verifyBundle, type VerifiedBundle, type VerifyBundleOptions } from './verifying/bundle-verification.js';
export { toHex } from './format/hex.js';
export {
  HASH_ALGORITHMS,
  hashAlgorithm,
  hashStream,
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
} from './key/ec-public-key.js';
export { derToP1363, verifyDsseSignature, type VerifyDsseSignatureParams } from './key/dsse-signature.js';
export { createHashWorkerPool, type HashSource, type HashWorkerPool, type HashWorkerPoolParams } from './format/hash-worker-pool.js';
export { WebKeyVerifier, type WebKeyVerifierParams } from './key/web-key-verifier.js';
export { WebCertificateVerifier, type WebCertificateVerifierParams } from './verifying/web-certificate-verifier.js';
export type { CertificateIdentity } from './verifying/certificate-path.js';
export { WebSigstoreVerifier, type WebSigstoreVerifierOptions } from './sigstore-web/verifier.js';
export { fetchVerifiedModel, type FetchProgress, type FetchVerifiedModelParams, type VerifiedModel } from './fetching/fetch-verified-model.js';
