// Public API of @model-signing/transformers (Node): re-exports only. The
// browser entry, @model-signing/transformers/browser, is src/browser.ts.
export {
  DEFAULT_HUB_URL,
  type TransformersEnv,
  type VerifiedFileEvent,
  type VerifiedLoading,
  type VerifiedLoadingOptions,
} from './install-verified-loading.js';
export { configureVerifiedLoading, type ConfigureVerifiedLoadingParams } from './node/configure-verified-loading.js';
