import {
  fetchVerifiedModel,
  ModelSigningError,
  type FetchProgress,
  type SignerInfo,
  type VerifiedManifest,
  type Verifier,
} from '@model-signing/core/browser';
import { io } from '@tensorflow/tfjs-core';
import { MODEL_JSON_FILE_NAME } from './layout.js';
import { parseModelJson } from './model-json.js';

/** What was verified, reported to {@link VerifiedHttpHandlerOptions.onVerified}. */
export interface VerifiedHttpModel {
  manifest: VerifiedManifest;
  /** Who signed, as the verifier established it (key hint, certificate or Sigstore identity). */
  signer: SignerInfo;
  /** Model-relative names of the files fetched and verified: the model JSON, then its weight files. */
  files: string[];
}

/** Where the model is: the URL of its `model.json` (as `tf.loadLayersModel` takes), or of its folder. */
export type VerifiedHttpModelLocation =
  | {
      /** URL of the model JSON; its folder is the signed model folder, and weight paths are relative to it. */
      modelUrl: string | URL;
      baseUrl?: never;
    }
  | {
      /** URL of the signed model folder, holding `model.json`. */
      baseUrl: string | URL;
      modelUrl?: never;
    };

/** Options of {@link verifiedHttpHandler}. */
export type VerifiedHttpHandlerOptions = VerifiedHttpModelLocation & {
  /** URL of the signature. Default `model.sig` in the model folder. */
  signatureUrl?: string | URL;
  /** Checks the signature and the signer: `WebKeyVerifier`, `WebCertificateVerifier` or `WebSigstoreVerifier`. */
  verifier: Verifier;
  /** The fetch to use (e.g. one that adds credentials). Default `globalThis.fetch`. */
  fetch?: typeof globalThis.fetch;
  /** Cancels the load: it rejects with `ABORTED` and no model is built. */
  abortSignal?: AbortSignal;
  /** Called as bytes of each file arrive (the model JSON, then the weight files). */
  onProgress?: (progress: FetchProgress) => void;
  /** Refuse a signature larger than this many bytes (`BUNDLE_TOO_LARGE`). Default 64 MiB. */
  maxBundleBytes?: number;
  /** Called once every file is verified, before TensorFlow.js sees a byte: to show who signed, or to refuse (throw). */
  onVerified?: (model: VerifiedHttpModel) => void | Promise<void>;
};

/**
 * A TensorFlow.js load handler for a signed model served over HTTP(S):
 * `tf.loadLayersModel(verifiedHttpHandler({ modelUrl, verifier }))` or
 * `tf.loadGraphModel(...)`, in browsers and web workers (no Node built-in
 * is reachable from it).
 *
 * Each `load()` fetches and verifies the signature, then the model JSON,
 * checked and only then parsed, then exactly the weight files it names,
 * each of which must be signed and match its digest (all through
 * `fetchVerifiedModel`). The artifacts are built from those very bytes;
 * signed files the model does not name are not fetched. Every step must see
 * the same signed manifest, so the JSON and the weights never come from two
 * different signatures.
 *
 * @throws {ModelSigningError} from `load()`: the signature's errors
 *   (`NOT_FOUND`, `BAD_BUNDLE`, `SIGNATURE_INVALID`, `KEY_MISMATCH`,
 *   `IDENTITY_MISMATCH`, …); `DIGEST_MISMATCH`, `MISSING_FILE`,
 *   `UNSIGNED_FILE` naming the file; `PATH_ESCAPE` for a weight path
 *   outside the model; `INVALID_ARGUMENT` for a malformed model JSON (or,
 *   at once, for both or neither of `modelUrl` and `baseUrl`); `NETWORK_ERROR`; `ABORTED`.
 */
export function verifiedHttpHandler(options: VerifiedHttpHandlerOptions): io.IOHandler {
  const { folder, modelJson } = locate(options);
  const common = {
    baseUrl: folder,
    verifier: options.verifier,
    ...(options.signatureUrl !== undefined ? { signatureUrl: options.signatureUrl } : {}),
    ...(options.fetch !== undefined ? { fetch: options.fetch } : {}),
    ...(options.abortSignal !== undefined ? { abortSignal: options.abortSignal } : {}),
    ...(options.onProgress !== undefined ? { onProgress: options.onProgress } : {}),
    ...(options.maxBundleBytes !== undefined ? { maxBundleBytes: options.maxBundleBytes } : {}),
  };
  return {
    load: async () => {
      const first = await fetchVerifiedModel({ ...common, files: [modelJson] });
      // Parsed only now: nothing in an unverified model JSON is ever interpreted.
      const { json, weightPaths } = parseModelJson(first.files.get(modelJson)!);
      const unique = [...new Set(weightPaths)];
      const weights = unique.length > 0 ? await fetchVerifiedModel({ ...common, files: unique }) : first;
      if (weights.manifest.rootDigest !== first.manifest.rootDigest) {
        const where = String(options.signatureUrl ?? new URL('model.sig', folder));
        throw new ModelSigningError({
          code: 'BAD_BUNDLE',
          path: where,
          message: `The signature at '${where}' changed while the model was loading (root digest ${first.manifest.rootDigest}, then ${weights.manifest.rootDigest}); nothing was loaded. Load the model again.`,
        });
      }
      // The weight files in manifest order, a path listed twice given twice, as TensorFlow.js concatenates them.
      const pieces = weightPaths.map((name) => weights.files.get(name)!);
      const weightData = new Uint8Array(pieces.reduce((sum, p) => sum + p.length, 0));
      let offset = 0;
      for (const piece of pieces) {
        weightData.set(piece, offset);
        offset += piece.length;
      }
      await options.onVerified?.({ manifest: first.manifest, signer: first.signer, files: [modelJson, ...unique] });
      if (options.abortSignal?.aborted) {
        throw new ModelSigningError({
          code: 'ABORTED',
          cause: options.abortSignal.reason,
          message: 'Loading the verified model was cancelled',
        });
      }
      return io.getModelArtifactsForJSON(json, async (groups) => [groups.flatMap((g) => g.weights), weightData.buffer]);
    },
  };
}

/** The model folder's URL and the model JSON's name in it. */
function locate(options: VerifiedHttpModelLocation): { folder: URL; modelJson: string } {
  if ((options.modelUrl === undefined) === (options.baseUrl === undefined)) {
    throw new ModelSigningError({
      code: 'INVALID_ARGUMENT',
      message: 'verifiedHttpHandler takes either modelUrl (the model JSON) or baseUrl (its folder), not both or neither',
    });
  }
  if (options.baseUrl !== undefined) {
    const folder = new URL(options.baseUrl);
    if (!folder.pathname.endsWith('/')) folder.pathname += '/';
    return { folder, modelJson: MODEL_JSON_FILE_NAME };
  }
  const url = new URL(options.modelUrl);
  const name = decodeURIComponent(url.pathname.slice(url.pathname.lastIndexOf('/') + 1));
  if (name === '') {
    throw new ModelSigningError({
      code: 'INVALID_ARGUMENT',
      path: url.href,
      message: `modelUrl '${url.href}' names a folder; give the model JSON's URL, or pass the folder as baseUrl`,
    });
  }
  return { folder: new URL('.', url), modelJson: name };
}
