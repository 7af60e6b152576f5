import { ModelSigningError, httpSource } from '@model-signing/core/browser';
import { installVerifiedLoading, type VerifiedLoading, type VerifiedLoadingOptions } from '../install-verified-loading.js';
import { CacheStore } from './cache-store.js';

/** The Cache API cache verified files go to unless `cacheName` says otherwise. */
export const DEFAULT_CACHE_NAME = 'model-signing-transformers';

/** Options for {@link configureVerifiedLoading} in browsers and web workers. */
export interface ConfigureVerifiedLoadingParams extends VerifiedLoadingOptions {
  /**
   * Name of the Cache API cache (`caches.open(cacheName)`) for verified
   * files. Default {@link DEFAULT_CACHE_NAME}; not transformers.js's
   * `env.cacheKey`, whose entries were stored without a check.
   */
  cacheName?: string;
}

/**
 * Makes transformers.js load one model only through its signature, in a
 * browser or web worker: a hub repo, or with `localModelPath` a signed
 * folder served from the page's own origin (no hub at all). The signature
 * is downloaded (from the repo at `revision`, or the folder) and verified
 * first (use `WebKeyVerifier`,
 * `WebCertificateVerifier` or `WebSigstoreVerifier` from
 * `@model-signing/core/browser`); then every file transformers.js asks for
 * from that repo must be listed in the signed manifest and match its digest
 * before transformers.js sees a byte of it, or the load fails with a
 * `ModelSigningError` naming the file.
 *
 * Verified files are kept in the Cache API cache `cacheName`, under the
 * signed root digest, and checked again every time they are read: any
 * script of the origin can edit the Cache API, so an entry is never trusted.
 * An entry that no longer matches is deleted and the load fails with
 * `DIGEST_MISMATCH`; the next load downloads the file again.
 *
 * It sets the same `env` hooks as the Node entry: `fetch`, `customCache` +
 * `useCustomCache`, `useFSCache = false`, `useBrowserCache = false`,
 * `allowLocalModels = false`, `allowRemoteModels = true`, `remoteHost` and
 * `remotePathTemplate`; {@link VerifiedLoading.restore} undoes them.
 *
 * @throws {ModelSigningError} `INVALID_ARGUMENT` for a bad repo id or
 *   `maxBundleBytes`, or where there is no Cache API (`caches` exists only
 *   in secure contexts: https, or http on localhost); `NOT_FOUND` /
 *   `NETWORK_ERROR` when the signature cannot be downloaded;
 *   `BUNDLE_TOO_LARGE`; the verifier's codes (`SIGNATURE_INVALID`,
 *   `KEY_MISMATCH`, …); `ABORTED`.
 */
export async function configureVerifiedLoading(params: ConfigureVerifiedLoadingParams): Promise<VerifiedLoading> {
  const { cacheName = DEFAULT_CACHE_NAME, ...options } = params;
  if (typeof caches === 'undefined') {
    throw new ModelSigningError({
      code: 'INVALID_ARGUMENT',
      message:
        'There is no Cache API here to keep verified files in: `caches` exists only in secure contexts (serve the page over https, or from localhost)',
    });
  }
  return installVerifiedLoading({
    ...options,
    store: new CacheStore(cacheName),
    // A signed folder served at a URL path, relative to the page like transformers.js's own localModelPath.
    localSource: (folder, signaturePath) => {
      const baseUrl = new URL(`${folder}/`, location.href);
      return httpSource({ baseUrl, signatureUrl: new URL(signaturePath.split('/').map(encodeURIComponent).join('/'), baseUrl) });
    },
  });
}
