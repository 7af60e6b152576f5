// Public API of @model-signing/hf-hub: re-exports only.
export { DEFAULT_HUB_URL, type HubConnectionParams, type HubRepo, type HubRepoType, type RepoVerificationParams } from './hub.js';
export { resolveHubCacheDir } from './cache.js';
export {
  uploadSignedModel,
  type UploadProgress,
  type UploadSignedModelParams,
  type UploadSignedModelResult,
} from './upload-signed-model.js';
export {
  downloadVerifiedModel,
  type DownloadProgress,
  type DownloadVerifiedModelParams,
  type DownloadVerifiedModelResult,
} from './download-verified-model.js';
export { verifyHubRepo, type RemoteFileCheck, type VerifyHubRepoParams, type VerifyHubRepoResult } from './verify-hub-repo.js';
export { verifyCachedModel, type VerifyCachedModelParams, type VerifyCachedModelResult } from './verify-cached-model.js';
