// Public API of @model-signing/transformers/browser: re-exports only. No
// module reached from here imports a Node built-in, so bundlers can take it
// for pages and web workers.
export {
  DEFAULT_HUB_URL,
  type TransformersEnv,
  type VerifiedFileEvent,
  type VerifiedLoading,
  type VerifiedLoadingOptions,
} from './install-verified-loading.js';
export { DEFAULT_CACHE_NAME, configureVerifiedLoading, type ConfigureVerifiedLoadingParams } from './browser/configure-verified-loading.js';
