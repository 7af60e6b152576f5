import path from 'node:path';
import { DirectorySource } from '@model-signing/core/internal/node';
import { installVerifiedLoading, type VerifiedLoading, type VerifiedLoadingOptions } from '../install-verified-loading.js';
import { FileStore } from './file-store.js';

/** Options for {@link configureVerifiedLoading} in Node. */
export interface ConfigureVerifiedLoadingParams extends VerifiedLoadingOptions {
  /**
   * Directory for verified files, as `<repo>/<signed root digest>/<path>`.
   * transformers.js's own file cache is turned off; this one only ever holds
   * files that matched, and each is checked again whenever it is read.
   */
  cacheDir: string;
}

/**
 * Makes transformers.js load one model only through its signature: a hub
 * repo, or with `localModelPath` a signed folder on disk (no hub at all).
 * The signature is read (from the repo at `revision`, or the folder) and
 * verified first; then every file transformers.js asks for of that model
 * must be listed in the signed manifest and match its digest before
 * transformers.js sees a byte of it, or the load fails with a
 * `ModelSigningError` naming the file. Only the files the pipeline asks for
 * are read, so this proves "every byte loaded was signed", not "the model
 * is complete".
 *
 * It sets on `env`: `fetch` (the model's files are checked; a download of
 * any other repo from the hub is refused unless `allowOtherRepos`; other
 * URLs pass through unchanged), `customCache` + `useCustomCache` (verified
 * files in `cacheDir`, re-checked on every read), `useFSCache = false` and
 * `useBrowserCache = false` (their entries are never checked),
 * `allowLocalModels = false` (transformers.js would read local files
 * unchecked; a local model is read by these hooks instead),
 * `allowRemoteModels = true`, `remoteHost` and `remotePathTemplate`. The
 * settings are global to that `env`: one model is verified at a time, a
 * second call replaces the first, and {@link VerifiedLoading.restore} (of
 * the current call) undoes them.
 *
 * In browsers use `@model-signing/transformers/browser`, which keeps
 * verified files in the Cache API instead.
 *
 * @throws {ModelSigningError} `INVALID_ARGUMENT` for a bad repo id or
 *   limit; `NOT_FOUND` / `NETWORK_ERROR` when the signature cannot be
 *   read; `BUNDLE_TOO_LARGE` when it is over `maxBundleBytes`;
 *   the verifier's codes (`SIGNATURE_INVALID`, `KEY_MISMATCH`, …) when it
 *   does not verify; `ABORTED`.
 */
export async function configureVerifiedLoading(params: ConfigureVerifiedLoadingParams): Promise<VerifiedLoading> {
  const { cacheDir, ...options } = params;
  return installVerifiedLoading({
    ...options,
    store: new FileStore(cacheDir),
    // A signed folder on disk, read (and walked) through core's directory source.
    localSource: (folder, signaturePath) => new DirectorySource({ modelPath: folder, signaturePath: path.join(folder, signaturePath) }),
  });
}
