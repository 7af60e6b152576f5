/**
 * Browser side of web-session.test.ts: createVerifiedWebSession from the
 * web entry's source, with onnxruntime-web's wasm backend, and JSON-friendly
 * results.
 */
import * as ort from 'onnxruntime-web';
import { ModelSigningError, WebKeyVerifier, type SignerInfo } from '@model-signing/core/browser';
import { createVerifiedWebSession } from '../../../src/web.js';

/** What one load asks for. */
export interface RunCall {
  baseUrl: string;
  signatureUrl?: string;
  modelFile?: string;
  publicKeyPem: string;
  /** X, row-major, two rows of three. */
  input: number[];
}

/** The output Y and what was verified, or the refusal; `verified` says whether onVerified (just before the session) was reached. */
export type RunOutcome =
  | { ok: true; output: number[]; signer: SignerInfo; modelFile: string; externalDataFiles: string[] }
  | { ok: false; code: string; path?: string; message: string; verified: boolean };

/** Points onnxruntime-web at the wasm files the test server hosts, single-threaded (no cross-origin isolation here). */
export function configureOrt(wasmPaths: string): void {
  ort.env.wasm.wasmPaths = new URL(wasmPaths, location.href).href;
  ort.env.wasm.numThreads = 1;
}

/** Loads the model verified, runs it on `input` and releases the session. */
export async function run(call: RunCall): Promise<RunOutcome> {
  let verified: { signer: SignerInfo; modelFile: string; externalDataFiles: string[] } | undefined;
  try {
    const session = await createVerifiedWebSession({
      // Relative, as a page would write them: they resolve against the page's location.
      baseUrl: call.baseUrl,
      ...(call.signatureUrl ? { signatureUrl: call.signatureUrl } : {}),
      ...(call.modelFile ? { modelFile: call.modelFile } : {}),
      verifier: await WebKeyVerifier.create({ publicKey: call.publicKeyPem }),
      sessionOptions: { executionProviders: ['wasm'] },
      onVerified: ({ signer, modelFile, externalDataFiles }) => {
        verified = { signer, modelFile, externalDataFiles };
      },
    });
    try {
      const result = await session.run({ X: new ort.Tensor('float32', Float32Array.from(call.input), [2, 3]) });
      return { ok: true, output: Array.from(result['Y'].data as Float32Array), ...verified! };
    } finally {
      await session.release();
    }
  } catch (err) {
    if (!(err instanceof ModelSigningError))
      return { ok: false, code: `not a ModelSigningError: ${String(err)}`, message: String(err), verified: verified !== undefined };
    return {
      ok: false,
      code: err.code,
      ...(err.path === undefined ? {} : { path: err.path }),
      message: err.message,
      verified: verified !== undefined,
    };
  }
}
