/**
 * Loads a signed model over HTTP(S) and hands back only bytes that matched
 * the signature: runtime-neutral (fetch, WebCrypto, no `node:*`), for
 * browsers, web workers and any runtime with `fetch`.
 */
import { bundleTooLarge, maxBundleBytesOf } from '../format/bundle.js';
import { ManifestMismatchError, ModelSigningError } from '../errors.js';
import type { VerifiedManifest } from '../format/verified-manifest.js';
import { verifyBundle } from '../format/bundle-verification.js';
import { ManifestChecker } from '../format/checker.js';
import { fastestCheckerHashers } from '../format/hash-registry.js';
import type { SignerInfo, Verifier } from '../format/verifier.js';
import { normalizeModelPath } from '../format/model-path.js';

/** Where {@link fetchVerifiedModel} is, reported after every chunk received. */
export interface FetchProgress {
  /** The model-relative name of the file being fetched. */
  file: string;
  /** Bytes of `file` received so far. */
  bytes: number;
  /** The file's size as the server announced it (`Content-Length`), when it did. */
  totalBytes?: number;
  /** Files already fetched and verified. */
  filesDone: number;
  /** Files to fetch in all. */
  filesTotal: number;
}

/** What {@link fetchVerifiedModel} takes. */
export interface FetchVerifiedModelParams {
  /**
   * URL of the model folder; each file is fetched at `<baseUrl>/<model-relative name>`.
   * For a single-file model (its one resource is named `.`), the file's own URL.
   */
  baseUrl: string | URL;
  /** URL of the signature (bundle). Default `<baseUrl>/model.sig`; give it for a single-file model. */
  signatureUrl?: string | URL;
  /**
   * Model-relative names of the files to fetch, each of which must be signed.
   * Default: every file the signature lists.
   */
  files?: readonly string[];
  /** Checks the bundle's signature and signer (`WebKeyVerifier`, `WebCertificateVerifier`, `WebSigstoreVerifier`). */
  verifier: Verifier;
  /** The fetch to use (e.g. one that adds credentials). Default `globalThis.fetch`. */
  fetch?: typeof globalThis.fetch;
  /** Cancels the load: it rejects with `ABORTED` and no request stays open. */
  abortSignal?: AbortSignal;
  /** Called as bytes arrive. */
  onProgress?: (progress: FetchProgress) => void;
  /** Refuse a bundle larger than this many bytes (`BUNDLE_TOO_LARGE`). Default 64 MiB. */
  maxBundleBytes?: number;
}

/** A model whose every returned byte matched its signature. */
export interface VerifiedModel {
  /** The verified bytes of each requested file, by model-relative name. */
  files: Map<string, Uint8Array>;
  /** The signed manifest the bytes were checked against. */
  manifest: VerifiedManifest;
  /** Who signed, as the verifier established it. */
  signer: SignerInfo;
}

/** `base` with exactly one trailing slash, so relative names resolve inside it. */
function folderUrl(base: string | URL): URL {
  const url = new URL(base);
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  return url;
}

/**
 * The URL of a model-relative name, each component percent-encoded (names
 * may hold `#`, `?` or `%`); `.`, a single-file model, is the base URL itself.
 */
function fileUrl(base: string | URL, folder: URL, name: string): URL {
  return name === '.' ? new URL(base) : new URL(name.split('/').map(encodeURIComponent).join('/'), folder);
}

function aborted(cause?: unknown): ModelSigningError {
  return new ModelSigningError({ code: 'ABORTED', cause, message: 'Fetching the model was cancelled' });
}

function networkError(what: string, url: URL, cause: unknown, path?: string): ModelSigningError {
  return new ModelSigningError({
    code: 'NETWORK_ERROR',
    cause,
    ...(path === undefined ? {} : { path }),
    message: `Fetching ${what} from ${url.href} failed: ${cause instanceof Error ? cause.message : String(cause)}`,
  });
}

/** A transport failure as a coded error: `ABORTED` when the signal fired, else `NETWORK_ERROR`. */
function transportError(signal: AbortSignal | undefined, what: string, url: URL, cause: unknown, path?: string): ModelSigningError {
  if (cause instanceof ModelSigningError) return cause;
  return signal?.aborted ? aborted(cause) : networkError(what, url, cause, path);
}

async function request(
  fetcher: typeof globalThis.fetch,
  url: URL,
  signal: AbortSignal | undefined,
  what: string,
  path?: string,
): Promise<Response> {
  try {
    return await fetcher(url, signal ? { signal } : {});
  } catch (cause) {
    throw transportError(signal, what, url, cause, path);
  }
}

/**
 * Reads a response body chunk by chunk, calling `onChunk` for each, and
 * cancels the body on any failure so no connection is left open.
 */
async function readBody(response: Response, onChunk: (chunk: Uint8Array) => void): Promise<void> {
  const body = response.body;
  if (!body) return;
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      onChunk(value);
    }
  } catch (err) {
    await reader.cancel().catch(() => undefined);
    throw err;
  } finally {
    reader.releaseLock();
  }
}

function concat(chunks: readonly Uint8Array[], size: number): Uint8Array {
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

/** The bundle's bytes, at most `max` of them: an unsigned file must not make us allocate without bound. */
async function fetchBundle(fetcher: typeof globalThis.fetch, url: URL, max: number, signal: AbortSignal | undefined): Promise<Uint8Array> {
  const response = await request(fetcher, url, signal, 'the signature', url.href);
  if (!response.ok) {
    await response.body?.cancel().catch(() => undefined);
    throw new ModelSigningError({
      code: response.status === 404 || response.status === 410 ? 'NOT_FOUND' : 'NETWORK_ERROR',
      path: url.href,
      message: `Fetching the signature from ${url.href} failed: HTTP ${response.status}`,
    });
  }
  const announced = Number(response.headers.get('content-length') ?? NaN);
  if (announced > max) {
    await response.body?.cancel().catch(() => undefined);
    throw bundleTooLarge(announced, max, url.href);
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    await readBody(response, (chunk) => {
      size += chunk.length;
      if (size > max) throw bundleTooLarge(size, max, url.href);
      chunks.push(chunk);
    });
  } catch (cause) {
    throw transportError(signal, 'the signature', url, cause, url.href);
  }
  return concat(chunks, size);
}

/**
 * Fetches a signed model and returns only bytes that match the signature.
 *
 * The bundle is fetched first (at most `maxBundleBytes`) and verified with
 * `verifier`; the statement is checked. Then each file (every signed file, or
 * the caller's list, each of which must be signed) is fetched once and hashed
 * while it streams in; its bytes are kept only if the digests match. Names
 * that would leave the model are refused before any request. The promise
 * resolves with every requested file verified, or rejects: no unverified
 * byte is ever returned, and on failure nothing is.
 *
 * @throws {ModelSigningError} `PATH_ESCAPE` (a requested or signed name
 *   leaves the model), `NOT_FOUND` (no signature), `BUNDLE_TOO_LARGE`,
 *   `BAD_BUNDLE`, `BAD_PAYLOAD`, `SIGNATURE_INVALID`, `KEY_MISMATCH`,
 *   `CERT_CHAIN_INVALID`, `IDENTITY_MISMATCH`, `WRONG_METHOD` (the
 *   signature); `UNSIGNED_FILE` (a requested file the signature does not
 *   list), `MISSING_FILE` (HTTP 404 for a signed file), `DIGEST_MISMATCH`
 *   (a file's bytes differ), each naming the file in `path`; `NETWORK_ERROR`
 *   (a failed request, an HTTP error, a response cut short); `ABORTED`.
 */
export async function fetchVerifiedModel(params: FetchVerifiedModelParams): Promise<VerifiedModel> {
  const fetcher = params.fetch ?? globalThis.fetch.bind(globalThis);
  const signal = params.abortSignal;
  const folder = folderUrl(params.baseUrl);
  const signatureUrl = params.signatureUrl === undefined ? new URL('model.sig', folder) : new URL(params.signatureUrl);
  const max = maxBundleBytesOf(params);
  // Refused before any request: a name that leaves the model never reaches the network.
  const requested = params.files?.map(normalizeModelPath);
  if (signal?.aborted) throw aborted(signal.reason);

  const bundle = await fetchBundle(fetcher, signatureUrl, max, signal);
  const { manifest, signer } = await verifyBundle({ bundle, verifier: params.verifier, maxBundleBytes: max });
  const checker = new ManifestChecker(manifest);
  const names = requested ?? checker.signedFiles;
  const unsigned = names.filter((name) => !checker.isSigned(name));
  if (unsigned.length > 0) throw new ManifestMismatchError(unsigned.map((name) => ({ kind: 'unsigned', name })));

  // In browsers hash-wasm, hashing as bytes arrive, was the fastest
  // incremental choice (several times @noble/hashes: docs/benchmarks.md).
  const createHash = await fastestCheckerHashers(manifest.serialization.hashType);
  const files = new Map<string, Uint8Array>();
  for (const name of names) {
    if (files.has(name)) continue;
    if (signal?.aborted) throw aborted(signal.reason);
    const url = fileUrl(params.baseUrl, folder, name);
    const response = await request(fetcher, url, signal, `'${name}'`, name);
    if (!response.ok) {
      await response.body?.cancel().catch(() => undefined);
      if (response.status === 404 || response.status === 410) throw new ManifestMismatchError([{ kind: 'missing', name }]);
      throw new ModelSigningError({
        code: 'NETWORK_ERROR',
        path: name,
        message: `Fetching '${name}' from ${url.href} failed: HTTP ${response.status}`,
      });
    }
    const announced = Number(response.headers.get('content-length') ?? NaN);
    const hasher = checker.createFileHasher(name, createHash ? { createHash } : {});
    const chunks: Uint8Array[] = [];
    let size = 0;
    try {
      await readBody(response, (chunk) => {
        hasher.update(chunk);
        chunks.push(chunk);
        size += chunk.length;
        params.onProgress?.({
          file: name,
          bytes: size,
          ...(Number.isSafeInteger(announced) ? { totalBytes: announced } : {}),
          filesDone: files.size,
          filesTotal: names.length,
        });
      });
    } catch (cause) {
      throw transportError(signal, `'${name}'`, url, cause, name);
    }
    hasher.finish(); // throws DIGEST_MISMATCH naming the file
    files.set(name, concat(chunks, size));
  }
  if (requested === undefined) checker.finish();
  return { files, manifest, signer };
}
