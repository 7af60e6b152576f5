// Public API of @model-signing/transformers: re-exports only.
export {
  DEFAULT_HUB_URL,
  DEFAULT_SIGNATURE_PATH,
  configureVerifiedLoading,
  type ConfigureVerifiedLoadingParams,
  type TransformersEnv,
  type VerifiedFileEvent,
  type VerifiedLoading,
} from './configure-verified-loading.js';
