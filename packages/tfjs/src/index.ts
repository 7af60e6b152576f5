// Public API of @model-signing/tfjs: re-exports only.
export { MODEL_JSON_FILE_NAME, WEIGHTS_FILE_NAME } from './layout.js';
export {
  saveSignedArtifacts,
  type SaveSignedArtifactsOptions,
  type SaveSignedArtifactsResult,
  type SignedSaveSettings,
} from './save-signed-artifacts.js';
export { loadVerifiedArtifacts, type LoadVerifiedArtifactsOptions, type VerifiedArtifacts } from './load-verified-artifacts.js';
export type { VerifiedLoadOptions, VerifiedTfjsModel } from './verified-load-options.js';
export { signedSaveHandler, type SignedSaveHandlerOptions } from './signed-save-handler.js';
export { verifiedLoadHandler, type VerifiedLoadHandlerOptions } from './verified-load-handler.js';
export { registerSignedScheme, type SignedSchemeOptions } from './register-signed-scheme.js';
