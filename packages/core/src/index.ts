/**
 * `@model-signing/core`: sign machine-learning models and verify them before
 * they are loaded, with OpenSSF Model Signing (OMS) signatures, in Node.js.
 * The runtime-neutral part (browsers, workers) is `@model-signing/core/browser`.
 *
 * @packageDocumentation
 */
// Everything `@model-signing/core/browser` has too: errors, the session and
// its sources, `fetchVerifiedModel`, the manifest, verifier and claim types,
// the policy's decision
export * from './runtime-neutral.js';
// Sign
export { signModel, type SignModelOptions, type SignModelResult } from './node/sign-model.js';
export type { IncrementalOptions, ReuseSummary } from './node/incremental/reuse.js';
export type { TimestampAuthorityOptions } from './methods/timestamp/request-timestamp.js';
// Verify a model on disk
export { verifyModel, type VerificationResult, type VerifyModelOptions } from './node/verify-model.js';
// Open a verified model on disk: read only checked bytes
export { openVerifiedModel, type OpenVerifiedModelParams, type VerifiedModelFiles } from './node/open-verified-model.js';
// Digests without signing
export { hashModel, type HashModelOptions, type HashingOptions } from './node/hash/hash-model.js';
export { rootDigest } from './format/manifest.js';
export type { ModelFile, WalkOptions } from './node/walk.js';
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
export { CertificateVerifier, type CertificateVerifierOptions } from './methods/certificate/certificate-verifier.js';
export { SigstoreVerifier, type SigstoreVerifierOptions } from './methods/sigstore/verifier.js';
// What a signer of your own implements
export type { SignOptions, SignatureWithMaterial, Signer, VerificationMaterial, WitnessMaterial } from './format/signer.js';
// Signing any in-toto statement (DSSE payload) with any signer
export { signPayload, type SignPayloadOptions } from './format/bundle-builder.js';
export { PAYLOAD_TYPE } from './format/statement.js';
// Claims files on disk (docs/claims.md)
export { attest, type AttestParams, type AttestResult } from './node/attest.js';
export { openClaimsFile } from './node/claims-file.js';
// Trust policy from files (docs/policy.md)
export { loadPolicy, type LoadPolicyOptions } from './node/load-policy.js';
