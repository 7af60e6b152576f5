/**
 * `@model-signing/core/browser`: the runtime-neutral part of model-signing,
 * with no `node:*` import and no Node globals, for browsers, web workers and
 * any other JavaScript runtime with WebCrypto. It grows into the full
 * runtime-neutral entry when core is reshaped (issue 11).
 *
 * @packageDocumentation
 */
export { ModelSigningError, type ErrorCode, type ManifestDifference, type ModelSigningErrorOptions } from './errors.js';
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
