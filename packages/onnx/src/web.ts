/**
 * `@model-signing/onnx/web`: onnxruntime-web sessions from signed models
 * served over HTTP(S), in browsers and web workers. No Node built-in is
 * reachable from here; it uses `@model-signing/core/browser` and
 * `onnxruntime-web`. Its options are the Node entry's (`VerifiedLoadOptions`)
 * plus where the model is served.
 *
 * @packageDocumentation
 */
export { createVerifiedWebSession, type CreateVerifiedWebSessionParams } from './create-verified-web-session.js';
export type { VerifiedLoadOptions, VerifiedOnnxModel } from './verified-load-options.js';
export { externalDataReferences, type ExternalDataReference } from './external-data.js';
