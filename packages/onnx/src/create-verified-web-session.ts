import {
  fetchVerifiedModel,
  ManifestChecker,
  ModelSigningError,
  type FetchProgress,
  type SignerInfo,
  type VerifiedManifest,
  type Verifier,
} from '@model-signing/core/browser';
import { InferenceSession } from 'onnxruntime-web';
import { chooseModelFile } from './choose-model-file.js';
import { checkExternalDataRanges, externalDataReferences } from './external-data.js';

/** What was verified, reported to {@link CreateVerifiedWebSessionParams.onVerified}. */
export interface VerifiedWebOnnxModel {
  manifest: VerifiedManifest;
  /** Who signed, as the verifier established it (key hint, certificate or Sigstore identity). */
  signer: SignerInfo;
  /** Model-relative name of the `.onnx` file loaded (`.` for a single-file model). */
  modelFile: string;
  /** Model-relative names of the external-data files it refers to, each fetched and verified. */
  externalDataFiles: string[];
}

/** What {@link createVerifiedWebSession} takes. */
export interface CreateVerifiedWebSessionParams {
  /**
   * URL of the signed model folder: each file is fetched at `<baseUrl>/<name>`.
   * For a model signed as a single `.onnx` file, that file's own URL (then give `signatureUrl`).
   */
  baseUrl: string | URL;
  /** URL of the signature. Default `<baseUrl>/model.sig`. */
  signatureUrl?: string | URL;
  /** Model-relative name of the `.onnx` file to load. Default: the only signed `.onnx` file. */
  modelFile?: string;
  /** Checks the signature and the signer: `WebKeyVerifier`, `WebCertificateVerifier` or `WebSigstoreVerifier`. */
  verifier: Verifier;
  /**
   * Passed to `InferenceSession.create` (execution providers, graph options…).
   * `externalData` must be left unset: the session always gets the verified bytes.
   */
  sessionOptions?: InferenceSession.SessionOptions;
  /** The fetch to use (e.g. one that adds credentials). Default `globalThis.fetch`. */
  fetch?: typeof globalThis.fetch;
  /** Cancels the load: it rejects with `ABORTED` and no session is created. */
  abortSignal?: AbortSignal;
  /** Called as bytes of each file arrive (the model file, then its external data). */
  onProgress?: (progress: FetchProgress) => void;
  /** Refuse a signature larger than this many bytes (`BUNDLE_TOO_LARGE`). Default 64 MiB. */
  maxBundleBytes?: number;
  /**
   * Called once every file is verified and before onnxruntime-web sees a
   * byte: to show who signed, or for a policy check (throw to refuse).
   */
  onVerified?: (model: VerifiedWebOnnxModel) => void | Promise<void>;
}

/**
 * Creates an onnxruntime-web `InferenceSession` from a signed model served
 * over HTTP(S), only from bytes that matched the signature.
 *
 * The signature is fetched and verified first; then the `.onnx` file is
 * fetched and checked, and only then parsed for the external-data files it
 * refers to, each of which must be signed, lie inside the model and match
 * its digest. The session is created from those very bytes (the model
 * buffer plus `externalData` entries), so nothing the server sends later can
 * get in. Signed files the model does not use are not fetched.
 *
 * Each step fetches the signature again (through {@link fetchVerifiedModel})
 * and must see the same signed manifest, so the model file and its external
 * data never come from two different signatures.
 *
 * Runs in browsers and web workers; no Node built-in is reachable from it.
 * Configure onnxruntime-web (`ort.env.wasm.wasmPaths`, `numThreads`) through
 * `import * as ort from 'onnxruntime-web'`, the module this function uses.
 *
 * @throws {ModelSigningError} the signature's errors (`NOT_FOUND`,
 *   `BAD_BUNDLE`, `SIGNATURE_INVALID`, `KEY_MISMATCH`, `IDENTITY_MISMATCH`,
 *   …); `DIGEST_MISMATCH`, `MISSING_FILE`, `UNSIGNED_FILE` naming the file
 *   (also for external data the signature does not list); `PATH_ESCAPE`
 *   for external data outside the model; `BAD_MODEL` for external data past
 *   the end of its file; `INVALID_ARGUMENT` (bytes that are
 *   not an ONNX model, no or several `.onnx` files, `sessionOptions.externalData`);
 *   `NETWORK_ERROR`; `ABORTED`. Errors from onnxruntime-web itself (an
 *   invalid graph, a missing `.wasm` file) are passed through unchanged.
 */
export async function createVerifiedWebSession(params: CreateVerifiedWebSessionParams): Promise<InferenceSession> {
  if (params.sessionOptions?.externalData !== undefined) {
    throw new ModelSigningError({
      code: 'INVALID_ARGUMENT',
      message: 'sessionOptions.externalData must not be set: createVerifiedWebSession passes the verified external data itself',
    });
  }
  const common = {
    baseUrl: params.baseUrl,
    verifier: params.verifier,
    ...(params.signatureUrl !== undefined ? { signatureUrl: params.signatureUrl } : {}),
    ...(params.fetch !== undefined ? { fetch: params.fetch } : {}),
    ...(params.abortSignal !== undefined ? { abortSignal: params.abortSignal } : {}),
    ...(params.onProgress !== undefined ? { onProgress: params.onProgress } : {}),
    ...(params.maxBundleBytes !== undefined ? { maxBundleBytes: params.maxBundleBytes } : {}),
  };

  let modelFile = params.modelFile;
  let signed: VerifiedManifest | undefined;
  if (modelFile === undefined) {
    // The signature alone says which `.onnx` file there is.
    signed = (await fetchVerifiedModel({ ...common, files: [] })).manifest;
    const names = new ManifestChecker(signed).signedFiles;
    modelFile = names.length === 1 && names[0] === '.' ? '.' : chooseModelFile(names, undefined, String(params.baseUrl));
  }
  const first = await fetchVerifiedModel({ ...common, files: [modelFile] });
  sameManifest(signed, first.manifest, params);
  const modelBytes = first.files.values().next().value!;
  modelFile = first.files.keys().next().value!;

  // Parsed only now: these bytes are verified, so what they refer to is what was signed.
  const references = externalDataReferences(modelBytes, modelFile);
  const checker = new ManifestChecker(first.manifest);
  const externalFiles = [...new Set(references.map((r) => r.name))].filter((name) => name !== modelFile);
  for (const name of externalFiles) {
    if (!checker.isSigned(name)) {
      const location = references.find((r) => r.name === name)!.location;
      throw new ModelSigningError({
        code: 'UNSIGNED_FILE',
        path: name,
        message: `'${modelFile}' refers to external data '${location}', which the signature does not cover; sign the model folder including '${name}'`,
      });
    }
  }
  const verified = new Map([[modelFile, modelBytes]]);
  if (externalFiles.length > 0) {
    const rest = await fetchVerifiedModel({ ...common, files: externalFiles });
    sameManifest(first.manifest, rest.manifest, params);
    for (const [name, bytes] of rest.files) verified.set(name, bytes);
  }
  checkExternalDataRanges(references, (name) => verified.get(name)?.length, modelFile);

  await params.onVerified?.({ manifest: first.manifest, signer: first.signer, modelFile, externalDataFiles: externalFiles });
  if (params.abortSignal?.aborted) {
    throw new ModelSigningError({
      code: 'ABORTED',
      cause: params.abortSignal.reason,
      message: 'Creating the verified session was cancelled',
    });
  }
  const sessionOptions = params.sessionOptions ?? {};
  if (references.length === 0) return InferenceSession.create(modelBytes, sessionOptions);
  // onnxruntime-web looks external data up by the location string the model holds.
  const externalData = references.map((r) => ({ path: r.location, data: verified.get(r.name)! }));
  return InferenceSession.create(modelBytes, { ...sessionOptions, externalData });
}

/**
 * Each fetch verifies the signature it gets; a server that answers with
 * another (even validly signed) manifest part way through could mix files
 * of two models, so the load stops.
 */
function sameManifest(before: VerifiedManifest | undefined, now: VerifiedManifest, params: CreateVerifiedWebSessionParams): void {
  if (before === undefined || before.rootDigest === now.rootDigest) return;
  const where = String(params.signatureUrl ?? params.baseUrl);
  throw new ModelSigningError({
    code: 'BAD_BUNDLE',
    path: where,
    message: `The signature of '${where}' changed while the model was loading (root digest ${before.rootDigest}, then ${now.rootDigest}); nothing was loaded. Load the model again.`,
  });
}
