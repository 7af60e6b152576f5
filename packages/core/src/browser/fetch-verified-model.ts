/**
 * Loads a signed model over HTTP(S) and hands back only bytes that matched
 * the signature: the HTTP source read through the verified-model session.
 * Runtime-neutral (fetch, WebCrypto, no `node:*`), for browsers, web
 * workers and any runtime with `fetch`.
 */
import { ManifestMismatchError } from '../errors.js';
import { normalizeModelPath } from '../format/model-path.js';
import type { VerifiedManifest } from '../format/verified-manifest.js';
import type { SignerInfo, Verifier } from '../format/verifier.js';
import type { SignatureSource } from '../claims/verify-signature-bytes.js';
import type { LoadLimits } from '../session/limits.js';
import { openVerifiedSession, type VerifiedSession } from '../session/verified-session.js';
import { httpSource, type HttpSourceOptions } from '../sources/http-source.js';

/**
 * Where a verified load is, reported after every chunk checked: by
 * {@link fetchVerifiedModel} and by the ONNX and TF.js loaders.
 */
export interface LoadProgress {
  /** The model-relative name of the file being read. */
  file: string;
  /** Bytes of `file` read and checked so far. */
  bytes: number;
  /** The file's size when it is known (listed, or announced by the server as `Content-Length`). */
  totalBytes?: number;
  /** Files already read and verified. */
  filesDone: number;
  /** Files to read in all, as far as the loader knows them yet. */
  filesTotal: number;
}

/** What {@link fetchVerifiedModel} takes. */
export interface FetchVerifiedModelParams extends HttpSourceOptions, LoadLimits {
  /**
   * Model-relative names of the files to fetch, each of which must be signed.
   * Default: every file the signature lists.
   */
  files?: readonly string[];
  /** Checks the bundle's signature and signer (`WebKeyVerifier`, `WebCertificateVerifier`, `WebSigstoreVerifier`). */
  verifier: Verifier;
  /** Cancels the load: it rejects with `ABORTED` and no request stays open. */
  abortSignal?: AbortSignal;
  /** Called as bytes arrive. */
  onProgress?: (progress: LoadProgress) => void;
}

/** A model whose every returned byte matched its signature. */
export interface VerifiedModel {
  /** The verified bytes of each requested file, by model-relative name. */
  files: Map<string, Uint8Array>;
  /** The signed manifest the bytes were checked against. */
  manifest: VerifiedManifest;
  /** Who signed, as the verifier established it. */
  signer: SignerInfo;
  /** Which signature verified: the signature file as one bundle, or which line of a claims file (`claims.jsonl`). */
  source: SignatureSource;
}

/**
 * Fetches a signed model and returns only bytes that match the signature.
 *
 * The bundle is fetched first (at most `maxBundleBytes`) and verified with
 * `verifier`; the statement is checked. Then each file (every signed file, or
 * the caller's list, each of which must be signed) is fetched once and hashed
 * while it streams in, at most `maxFileBytes` of it; its bytes are kept only
 * if the digests match. Names that would leave the model are refused before
 * any request. The promise resolves with every requested file verified, or
 * rejects: no unverified byte is ever returned, and on failure nothing is.
 *
 * @throws {ModelSigningError} `PATH_ESCAPE` (a requested or signed name
 *   leaves the model), `INVALID_ARGUMENT` (a URL that is not one),
 *   `NOT_FOUND` (no signature), `BUNDLE_TOO_LARGE`, `BAD_BUNDLE`,
 *   `BAD_PAYLOAD`, `SIGNATURE_INVALID`, `KEY_MISMATCH`, `CERT_CHAIN_INVALID`,
 *   `IDENTITY_MISMATCH`, `WRONG_METHOD` (the signature); `UNSIGNED_FILE` (a
 *   requested file the signature does not list), `MISSING_FILE` (HTTP 404
 *   for a signed file), `DIGEST_MISMATCH` (a file's bytes differ),
 *   `BODY_TOO_LARGE` (a file over `maxFileBytes`), each naming the file in
 *   `path`; `NETWORK_ERROR` (a failed request, an HTTP error, a response cut
 *   short); `ABORTED`.
 */
export async function fetchVerifiedModel(params: FetchVerifiedModelParams): Promise<VerifiedModel> {
  // Refused before any request: a name that leaves the model never reaches the network.
  const requested = params.files?.map(normalizeModelPath);
  const session = await openVerifiedSession({ ...params, source: httpSource(params) });
  const files = await readVerifiedFiles(session, requested ?? session.signedFiles, params.onProgress);
  if (requested === undefined) await session.finish();
  return { files, manifest: session.manifest, signer: session.signer, source: session.source };
}

/**
 * Reads `names` through a session, in turn, reporting {@link LoadProgress};
 * every name must be signed, and all are refused at once, before any
 * request, when one is not. A name given twice is read once. The loaders
 * that fetch over HTTP read their files through this.
 *
 * @throws as {@link VerifiedSession.read}; {@link ManifestMismatchError} `UNSIGNED_FILE` listing every unsigned name.
 */
export async function readVerifiedFiles(
  session: VerifiedSession,
  names: readonly string[],
  onProgress?: (progress: LoadProgress) => void,
): Promise<Map<string, Uint8Array>> {
  const unique = [...new Set(names.map(normalizeModelPath))];
  const unsigned = unique.filter((name) => !session.isSigned(name));
  if (unsigned.length > 0) throw new ManifestMismatchError(unsigned.map((name) => ({ kind: 'unsigned', name })));
  const files = new Map<string, Uint8Array>();
  for (const name of unique) {
    const onBytes = (bytes: number, totalBytes: number | undefined) =>
      onProgress?.({
        file: name,
        bytes,
        ...(totalBytes !== undefined ? { totalBytes } : {}),
        filesDone: files.size,
        filesTotal: unique.length,
      });
    files.set(name, await session.read(name, { onBytes }));
  }
  return files;
}
