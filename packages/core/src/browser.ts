/**
 * `@model-signing/core/browser`: the runtime-neutral part of model-signing,
 * with no `node:*` import and no Node globals, for browsers, web workers and
 * any other JavaScript runtime with `fetch` and WebCrypto: load a signed
 * model over HTTP and get only verified bytes, with the verifiers that need
 * no Node API. Every name here has the same shape in `@model-signing/core`
 * where both export it.
 *
 * @packageDocumentation
 */
// Everything `@model-signing/core` has too: errors, the session and its
// sources, `fetchVerifiedModel`, the manifest, verifier and claim types, the
// policy's decision
export * from './runtime-neutral.js';
// Verifiers (WebCrypto)
export { WebKeyVerifier, type WebKeyVerifierParams } from './methods/key/web-key-verifier.js';
export { WebCertificateVerifier, type WebCertificateVerifierParams } from './methods/certificate/web-certificate-verifier.js';
export { WebSigstoreVerifier, type WebSigstoreVerifierOptions } from './methods/sigstore/web/verifier.js';
// Hashing files in Web Workers
export { createHashWorkerPool, type HashSource, type HashWorkerPool, type HashWorkerPoolParams } from './browser/hash-worker-pool.js';
// Trust policy from its text (docs/policy.md)
export { createPolicy, type CreatePolicyOptions } from './policy/create-policy.js';
