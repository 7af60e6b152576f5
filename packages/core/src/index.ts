// Public API of @model-signing/core: re-exports only. The folders follow the
// data flow: walk → hash → manifest → statement → bundle → signing/verifying.
// The Node API is in node-api.ts (also `@model-signing/core/node`); this entry
// adds the runtime-neutral verifiers.
export * from './node-api.js';
// Sigstore keyless, runtime-neutral (WebCrypto, PKI.js; no Node APIs)
export { WebSigstoreVerifier, type WebSigstoreVerifierOptions } from './sigstore-web/verifier.js';
// Key and certificate methods over WebCrypto and PKI.js (also in @model-signing/core/browser)
export { WebKeyVerifier, type WebKeyVerifierParams } from './key/web-key-verifier.js';
export { WebCertificateVerifier, type WebCertificateVerifierParams } from './verifying/web-certificate-verifier.js';
