// Public API of @model-signing/core: re-exports only. The folders follow the
// data flow: walk → hash → manifest → statement → bundle → signing/verifying.
export * from './errors.js';
export { walkModel, type WalkOptions, type WalkedModel, type ModelFile } from './walk/walk.js';
export { GIT_PATHS, normalizeModelPath } from './walk/paths.js';
export { createHasher, hashBytes, type IncrementalHash } from './hash/algorithms.js';
export { hashModel, hashFiles, resolveSerialization, type HashModelOptions, type HashingOptions, type HashProgress } from './hash/hash-model.js';
export { defaultWorkerCount } from './hash/pool.js';
export {
  DEFAULT_SHARD_SIZE,
  HASH_ALGORITHMS,
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
  parseBundle,
  serializeBundle,
  type ParsedBundle,
  type SerializedBundle,
  type SerializedEnvelope,
  type SerializedSignature,
  type SigningMethod,
} from './bundle/bundle.js';
export { writeFileAtomic } from './bundle/write.js';
export type { Signer, SignRequest } from './signing/signer.js';
export { KeySigner, type KeySignerOptions } from './signing/key-signer.js';
export { CertificateSigner, type CertificateSignerOptions } from './signing/certificate-signer.js';
export { hashForKey, loadCertificates, loadPrivateKey, loadPublicKey, publicKeyHint, publicKeyPem, readPem } from './signing/keys.js';
export { signManifest, signModel, writeSignature, type SignManifestOptions, type SignModelOptions, type SignModelResult } from './signing/sign-model.js';
export { wrongMethodMessage, type SignerInfo, type Verifier } from './verifying/verifier.js';
export { verifyDsseSignature } from './verifying/ecdsa.js';
export { KeyVerifier, type KeyVerifierOptions } from './verifying/key-verifier.js';
export { CertificateVerifier, type CertificateIdentity, type CertificateVerifierOptions } from './verifying/certificate-verifier.js';
export { ManifestChecker, type FileHasher, type ManifestCheckerOptions } from './verifying/checker.js';
export { readBundle, verifyBundle, type VerifiedBundle, type VerifyBundleOptions } from './verifying/verify-bundle.js';
export { verifyModel, type VerificationResult, type VerifyModelOptions } from './verifying/verify-model.js';
// Sigstore keyless
export { SigstoreSigner, type SigstoreSignerOptions } from './sigstore/signer.js';
export { SigstoreVerifier, type SigstoreVerifierOptions } from './sigstore/verifier.js';
// Sigstore keyless, runtime-neutral (WebCrypto, PKI.js; no Node APIs)
export { WebSigstoreVerifier, type WebSigstoreVerifierOptions } from './sigstore-web/verifier.js';
export { loadTrustConfig, parseClientTrustConfig, type LoadTrustConfigOptions, type SigstoreTrustConfig, type TufOptions } from './sigstore/trust-config.js';
export { DEFAULT_CLIENT_ID, getIdentityToken, type IdentityTokenOptions } from './sigstore/identity-token.js';
export { OOB_REDIRECT_URI, interactiveIdentityToken, type InteractiveIdentityTokenOptions } from './sigstore/oauth.js';
