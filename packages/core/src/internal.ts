/**
 * `@model-signing/core/internal`: what the adapters of this repository
 * (`@model-signing/cli`, `hf-hub`, `onnx`, `tfjs`, `transformers`) share
 * with core beyond its public API, runtime-neutral like
 * `@model-signing/core/browser` (the Node-only part is
 * `@model-signing/core/internal/node`). Outside semver: any release may
 * change or remove any of it. Build on the public entries instead.
 *
 * @packageDocumentation
 */
export { ManifestChecker, type FileHasher, type FileHasherOptions, type ManifestCheckerOptions } from './format/checker.js';
export { compareListing } from './session/listing.js';
export { abortedError, throwIfAborted } from './cancellation.js';
export { GIT_PATHS, isUnderAny } from './format/model-path.js';
export { readVerifiedFiles } from './browser/fetch-verified-model.js';
export { absoluteUrl } from './sources/http-source.js';
