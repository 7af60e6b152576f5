/**
 * `@model-signing/core/internal/node`: the Node-only helpers the adapters of
 * this repository and its tests share with core beyond its public API.
 * Outside semver, like `@model-signing/core/internal`.
 *
 * @packageDocumentation
 */
// Signing: the one signing path and what writes its result
export {
  createSignature,
  signManifest,
  type CreateSignatureParams,
  type CreatedSignature,
  type InMemoryModel,
} from './node/create-signature.js';
export { writeSignature } from './node/sign-model.js';
export { writeFileAtomic } from './node/atomic-write.js';
export { TEMPORARY_PREFIX, isTemporaryName, removeStaleTemporaries, temporaryName } from './node/temporary.js';
export { planIncrementalSign, type IncrementalSignPlan, type PlanIncrementalSignOptions } from './node/incremental/reuse.js';
export { RACY_MARGIN_MS } from './node/incremental/record.js';
// Models on disk
export { walkModel, type WalkedModel } from './node/walk.js';
export { hashFiles, resolveSerialization } from './node/hash/hash-model.js';
export { DirectorySource, type DirectorySourceOptions } from './node/directory-source.js';
export { readBundle } from './node/signature-file.js';
export { hubCacheRepoFolder } from './node/hub-cache.js';
// Keys and signing methods
export { publicKeyHint } from './methods/key/keys.js';
export { p1363ToDer } from './methods/external-key.js';
export { parsePkcs11Uri } from './methods/pkcs11/uri.js';
export { isKmsUri } from './methods/kms/signer.js';
export { getIdentityToken } from './methods/sigstore/identity-token.js';
export { interactiveIdentityToken } from './methods/sigstore/oauth.js';
export { loadTrustConfig } from './methods/sigstore/trust-config.js';
// Claims files on disk
export { appendClaim, isClaimsPath, type AppendClaimOptions, type AppendedClaim } from './node/append-claim.js';
export { subjectDigest } from './node/attest.js';
