import { ModelSigningError, httpSource, openVerifiedSession, type HttpSourceOptions } from '@model-signing/core/browser';
import { outcomeOf, readVerifiedFiles, throwIfAborted } from '@model-signing/core/internal';
import { InferenceSession } from 'onnxruntime-web';
import { chooseModelFile } from './choose-model-file.js';
import { checkExternalDataRanges, externalDataReferences } from './external-data.js';
import type { VerifiedLoadOptions } from './verified-load-options.js';

/** What {@link createVerifiedWebSession} takes: the shared options of a verified load, and where the model is served (`baseUrl`, `signatureUrl`, `fetch`). */
export interface CreateVerifiedWebSessionParams extends VerifiedLoadOptions, HttpSourceOptions {
  /**
   * Passed to `InferenceSession.create` (execution providers, graph options…).
   * `externalData` must be left unset: the session always gets the verified bytes.
   */
  sessionOptions?: InferenceSession.SessionOptions;
  /** Largest file read, in bytes (`BODY_TOO_LARGE` above). Default 2 GiB (core's `DEFAULT_MAX_FILE_BYTES`). */
  maxFileBytes?: number;
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
 * The signature is fetched and verified once per load: the model file and
 * its external data are all checked against that one manifest, so they
 * never come from two different signatures.
 *
 * Runs in browsers and web workers; no Node built-in is reachable from it.
 * Configure onnxruntime-web (`ort.env.wasm.wasmPaths`, `numThreads`) through
 * `import * as ort from 'onnxruntime-web'`, the module this function uses.
 *
 * @throws {PolicyDeniedError} `POLICY_DENIED` under a `policy`: which rule, which requirement, why.
 * @throws {ModelSigningError} the signature's errors (`NOT_FOUND`,
 *   `BAD_BUNDLE`, `SIGNATURE_INVALID`, `KEY_MISMATCH`, `IDENTITY_MISMATCH`,
 *   …); `DIGEST_MISMATCH`, `MISSING_FILE`, `UNSIGNED_FILE` naming the file
 *   (also for external data the signature does not list); `PATH_ESCAPE`
 *   for external data outside the model; `BAD_MODEL` for external data past
 *   the end of its file; `INVALID_ARGUMENT` (bytes that are
 *   not an ONNX model, no or several `.onnx` files, `sessionOptions.externalData`);
 *   `BODY_TOO_LARGE` (a file over `maxFileBytes`); `NETWORK_ERROR`;
 *   `ABORTED`. Errors from onnxruntime-web itself (an
 *   invalid graph, a missing `.wasm` file) are passed through unchanged.
 */
export async function createVerifiedWebSession(params: CreateVerifiedWebSessionParams): Promise<InferenceSession> {
  if (params.sessionOptions?.externalData !== undefined) {
    throw new ModelSigningError({
      code: 'INVALID_ARGUMENT',
      message: 'sessionOptions.externalData must not be set: createVerifiedWebSession passes the verified external data itself',
    });
  }
  const session = await openVerifiedSession({ ...params, source: httpSource(params) });
  const { signedFiles } = session;
  // The signature alone says which `.onnx` file there is.
  const modelFile =
    params.modelFile === undefined && signedFiles.length === 1 && signedFiles[0] === '.'
      ? '.'
      : chooseModelFile(signedFiles, params.modelFile, String(params.baseUrl));
  const modelBytes = (await readVerifiedFiles(session, [modelFile], params.onProgress)).get(modelFile)!;

  // Parsed only now: these bytes are verified, so what they refer to is what was signed.
  const references = externalDataReferences(modelBytes, modelFile);
  const externalFiles = [...new Set(references.map((r) => r.name))].filter((name) => name !== modelFile);
  for (const name of externalFiles) {
    if (!session.isSigned(name)) {
      const location = references.find((r) => r.name === name)!.location;
      throw new ModelSigningError({
        code: 'UNSIGNED_FILE',
        path: name,
        message: `'${modelFile}' refers to external data '${location}', which the signature does not cover; sign the model folder including '${name}'`,
      });
    }
  }
  const verified = await readVerifiedFiles(session, externalFiles, params.onProgress);
  verified.set(modelFile, modelBytes);
  checkExternalDataRanges(references, (name) => verified.get(name)?.length, modelFile);

  await params.onVerified?.({
    ...outcomeOf(session),
    modelFile,
    externalDataFiles: externalFiles,
    files: [modelFile, ...externalFiles],
  });
  throwIfAborted(params.abortSignal);
  const sessionOptions = params.sessionOptions ?? {};
  if (references.length === 0) return InferenceSession.create(modelBytes, sessionOptions);
  // onnxruntime-web looks external data up by the location string the model holds.
  const externalData = references.map((r) => ({ path: r.location, data: verified.get(r.name)! }));
  return InferenceSession.create(modelBytes, { ...sessionOptions, externalData });
}
