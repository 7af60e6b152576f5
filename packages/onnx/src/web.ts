/**
 * `@model-signing/onnx/web`: onnxruntime-web sessions from signed models
 * served over HTTP(S), in browsers and web workers. No Node built-in is
 * reachable from here; it uses `@model-signing/core/browser` and `onnxruntime-web`.
 *
 * @packageDocumentation
 */
export { createVerifiedWebSession, type CreateVerifiedWebSessionParams, type VerifiedWebOnnxModel } from './create-verified-web-session.js';
export { externalDataReferences, type ExternalDataReference } from './external-data.js';
