// The Node API of @model-signing/core (`@model-signing/core/node`): every
// name of the main entry except the runtime-neutral verifiers (WebKeyVerifier,
// WebCertificateVerifier, WebSigstoreVerifier). Those load PKI.js, whose
// import alone costs several times Node's start-up; a command or an app that
// verifies a model at every start imports this entry and never pays for it.
export * from './errors.js';
export { abortSignalOf, type Cancellable } from './cancellation.js';
export { walkModel, type WalkOptions, type WalkedModel, type ModelFile } from './walk/walk.js';
export { GIT_PATHS, normalizeModelPath } from './walk/paths.js';
export { staysInside } from './walk/containment.js';
export { TEMPORARY_PREFIX, isTemporaryName, removeStaleTemporaries, temporaryName } from './walk/temporary.js';
export { createHasher, hashBytes, type IncrementalHash } from './hash/algorithms.js';
export { hashModel, hashFiles, resolveSerialization, type HashFilesOptions, type HashModelOptions, type HashingOptions, type HashProgress } from './hash/hash-model.js';
export { defaultWorkerCount } from './hash/pool.js';
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
export { preAuthEncoding } from './bundle/dsse.js';
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
export { writeFileAtomic } from './bundle/write.js';
export type { Signer, SignOptions, SignatureWithMaterial, VerificationMaterial, WitnessMaterial } from './signing/signer.js';
export { buildBundle, signPayload, type BuildBundleOptions, type SignPayloadOptions } from './signing/bundle-builder.js';
export { KeySigner, type KeySignerOptions } from './signing/key-signer.js';
export { CertificateSigner, certificateChainMaterial, type CertificateChainSources, type CertificateSignerOptions } from './signing/certificate-signer.js';
export { hashForKey, loadCertificates, loadPrivateKey, loadPublicKey, publicKeyHint, publicKeyPem, readPem } from './signing/keys.js';
export { ExternalKeySigner, p1363ToDer, type ExternalKeySignerOptions, type ExternalSignRequest, type ExternalSignature } from './signing/external-key.js';
export {
  planIncrementalSign,
  type IncrementalOptions,
  type IncrementalSignPlan,
  type PlanIncrementalSignOptions,
  type RehashReason,
  type ReuseSummary,
} from './incremental/reuse.js';
export { RACY_MARGIN_MS, recordDirectory } from './incremental/record.js';
export { signManifest, signModel, writeSignature, type SignManifestOptions, type SignModelOptions, type SignModelResult } from './signing/sign-model.js';
export { wrongMethodMessage, type SignerInfo, type Verifier } from './verifying/verifier.js';
export { verifyDsseSignature } from './verifying/ecdsa.js';
export { KeyVerifier, type KeyVerifierOptions } from './verifying/key-verifier.js';
export { CertificateVerifier, type CertificateIdentity, type CertificateVerifierOptions } from './verifying/certificate-verifier.js';
export { ManifestChecker, type FileHasher, type ManifestCheckerOptions } from './verifying/checker.js';
export { readBundle, verifyBundle, type ReadBundleOptions, type VerifiedBundle, type VerifyBundleOptions } from './verifying/verify-bundle.js';
export { verifyModel, type VerificationResult, type VerifyModelOptions } from './verifying/verify-model.js';
// Sigstore keyless
export { SigstoreSigner, type SigstoreSignerOptions } from './sigstore/signer.js';
export { SigstoreVerifier, type SigstoreVerifierOptions } from './sigstore/verifier.js';
export { loadTrustConfig, parseClientTrustConfig, type LoadTrustConfigOptions, type SigstoreTrustConfig, type TufOptions } from './sigstore/trust-config.js';
export { DEFAULT_CLIENT_ID, getIdentityToken, type IdentityTokenOptions } from './sigstore/identity-token.js';
export { OOB_REDIRECT_URI, interactiveIdentityToken, type InteractiveIdentityTokenOptions } from './sigstore/oauth.js';
// Keys on PKCS#11 tokens and in key management services (optional packages, loaded on first use)
export { createPkcs11Signer, type Pkcs11SignerOptions } from './pkcs11/signer.js';
export { DEFAULT_MODULE_DIRECTORIES, parsePkcs11Uri, type Pkcs11Uri } from './pkcs11/uri.js';
export { createKmsSigner, isKmsUri, type KmsSignerOptions } from './kms/signer.js';
export type { AwsKmsOptions } from './kms/aws.js';
export type { KmsKey, KmsProvider } from './kms/provider.js';
