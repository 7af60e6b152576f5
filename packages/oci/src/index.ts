// Public API of @model-signing/oci: re-exports only.
export { OCI_SCHEME, formatOciReference, isOciReference, parseOciReference, type OciReference } from './reference.js';
export {
  CONFIG_FILE_NAME,
  MAX_MANIFEST_BYTES,
  TITLE_ANNOTATION,
  looksLikeImageManifest,
  modelFiles,
  parseImageManifest,
  untitledLayerName,
  type Descriptor,
  type ImageManifest,
  type ModelFilesOptions,
  type OciModelFile,
} from './image-manifest.js';
export type { RegistryCredentials } from './credentials.js';
export type { RegistryParams } from './registry.js';
export { SIGSTORE_BUNDLE_ARTIFACT_TYPE, referrersTag, type PushedSignature } from './referrers.js';
export { signOciManifest, type SignOciManifestParams, type SignOciManifestResult, type SignOciProgress } from './sign-oci-manifest.js';
export {
  pullVerifiedModel,
  verifyOciModel,
  type PullProgress,
  type PullVerifiedModelParams,
  type PullVerifiedModelResult,
  type VerifyOciModelParams,
  type VerifyOciModelResult,
} from './pull-verified-model.js';
export { OciSource, type OciListedFile, type OciSourceOptions, type ResolvedManifest } from './oci-source.js';
export { verifyOciManifest, type VerifyOciManifestParams, type VerifyOciManifestResult } from './verify-oci-manifest.js';
