// Public API of @model-signing/onnx: re-exports only.
export {
  createVerifiedSession,
  DEFAULT_MAX_IN_MEMORY_EXTERNAL_DATA_BYTES,
  type CreateVerifiedSessionParams,
} from './create-verified-session.js';
export type { VerifiedLoadOptions, VerifiedOnnxModel } from './verified-load-options.js';
export { saveSignedModel, type ExternalDataFile, type SaveSignedModelOptions, type SaveSignedModelResult } from './save-signed-model.js';
export { externalDataReferences, type ExternalDataReference } from './external-data.js';
