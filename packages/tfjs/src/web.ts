/**
 * `@model-signing/tfjs/web`: a TensorFlow.js load handler for signed models
 * served over HTTP(S), in browsers and web workers. No Node built-in is
 * reachable from here; it uses `@model-signing/core/browser` and `@tensorflow/tfjs-core`.
 *
 * @packageDocumentation
 */
export { MODEL_JSON_FILE_NAME } from './layout.js';
export { verifiedHttpHandler, type VerifiedHttpHandlerOptions, type VerifiedHttpModelLocation } from './verified-http-handler.js';
export type { VerifiedLoadOptions, VerifiedTfjsModel } from './verified-load-options.js';
