import { ModelSigningError, httpSource, openVerifiedSession } from '@model-signing/core/browser';
import { absoluteUrl, outcomeOf, readVerifiedFiles, throwIfAborted } from '@model-signing/core/internal';
import { io } from '@tensorflow/tfjs-core';
import { MODEL_JSON_FILE_NAME } from './layout.js';
import { parseModelJson } from './model-json.js';
import type { VerifiedLoadOptions } from './verified-load-options.js';

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

/** Options of {@link verifiedHttpHandler}: the shared options of a verified load, and where the model is served. */
export type VerifiedHttpHandlerOptions = VerifiedHttpModelLocation &
  VerifiedLoadOptions & {
    /** URL of the signature. Default `model.sig` in the model folder. */
    signatureUrl?: string | URL;
    /** The fetch to use (e.g. one that adds credentials). Default `globalThis.fetch`. */
    fetch?: typeof globalThis.fetch;
    /** Largest file read, in bytes (`BODY_TOO_LARGE` above). Default 2 GiB (core's `DEFAULT_MAX_FILE_BYTES`). */
    maxFileBytes?: number;
  };

/**
 * A TensorFlow.js load handler for a signed model served over HTTP(S):
 * `tf.loadLayersModel(verifiedHttpHandler({ modelUrl, verifier }))` or
 * `tf.loadGraphModel(...)`, in browsers and web workers (no Node built-in
 * is reachable from it).
 *
 * Each `load()` fetches and verifies the signature once, then the model
 * JSON, checked and only then parsed, then exactly the weight files it
 * names, each of which must be signed and match its digest (all through
 * core's verified-model session). The artifacts are built from those very
 * bytes; signed files the model does not name are not fetched. The JSON and
 * the weights are checked against the one signature, so they never come
 * from two different signatures.
 *
 * @throws {ModelSigningError} from `load()`: the signature's errors
 *   (`NOT_FOUND`, `BAD_BUNDLE`, `SIGNATURE_INVALID`, `KEY_MISMATCH`,
 *   `IDENTITY_MISMATCH`, …); `DIGEST_MISMATCH`, `MISSING_FILE`,
 *   `UNSIGNED_FILE` naming the file; `PATH_ESCAPE` for a weight path
 *   outside the model; `INVALID_ARGUMENT` for a malformed model JSON (or,
 *   at once, for both or neither of `modelUrl` and `baseUrl`, or a URL that
 *   is not one); `BODY_TOO_LARGE`; `NETWORK_ERROR`; `ABORTED`.
 */
export function verifiedHttpHandler(options: VerifiedHttpHandlerOptions): io.IOHandler {
  const { folder, modelJson } = locate(options);
  return {
    load: async () => {
      const session = await openVerifiedSession({ ...options, source: httpSource({ ...options, baseUrl: folder }) });
      const first = await readVerifiedFiles(session, [modelJson], options.onProgress);
      // Parsed only now: nothing in an unverified model JSON is ever interpreted.
      const { json, weightPaths } = parseModelJson(first.get(modelJson)!);
      const weights = await readVerifiedFiles(session, weightPaths, options.onProgress);
      // The weight files in manifest order, a path listed twice given twice, as TensorFlow.js concatenates them.
      const pieces = weightPaths.map((name) => weights.get(name)!);
      const weightData = new Uint8Array(pieces.reduce((sum, p) => sum + p.length, 0));
      let offset = 0;
      for (const piece of pieces) {
        weightData.set(piece, offset);
        offset += piece.length;
      }
      await options.onVerified?.({
        ...outcomeOf(session),
        files: [modelJson, ...weights.keys()],
      });
      throwIfAborted(options.abortSignal);
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
    const folder = absoluteUrl(options.baseUrl, 'baseUrl');
    if (!folder.pathname.endsWith('/')) folder.pathname += '/';
    return { folder, modelJson: MODEL_JSON_FILE_NAME };
  }
  const url = absoluteUrl(options.modelUrl, 'modelUrl');
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
