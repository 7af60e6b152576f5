/**
 * Browser side of http-handler.test.ts: verifiedHttpHandler from the web
 * entry's source, loaded with tf.loadLayersModel / tf.loadGraphModel on the
 * CPU backend, with JSON-friendly results.
 */
import * as tf from '@tensorflow/tfjs';
import { ModelSigningError, WebKeyVerifier, createPolicy, type SignerInfo } from '@model-signing/core/browser';
import { verifiedHttpHandler, type VerifiedHttpModelLocation } from '../../../src/web.js';

/** What one load asks for: where the model is, which kind, and the input to predict on. */
export interface LoadCall {
  kind: 'layers' | 'graph';
  modelUrl?: string;
  baseUrl?: string;
  publicKeyPem: string;
  /** A trust policy (JSON text) in place of the key, made here with createPolicy. */
  policy?: string;
  input: number[][];
}

/** The prediction and what was verified, or the refusal; `verified` says whether onVerified (just before the model is built) was reached. */
export type LoadOutcome =
  | {
      ok: true;
      output: number[][];
      signer: SignerInfo;
      files: string[];
      /** Under a policy: the requirement each verified claim met, and the decision's reason. */
      claims: (string | undefined)[];
      decision?: string;
    }
  | { ok: false; code: string; path?: string; message: string; verified: boolean };

/** The pure-JS CPU backend, as the Node tests use. */
export async function useCpu(): Promise<string> {
  await tf.setBackend('cpu');
  return tf.getBackend();
}

/** Loads the model through the verifying HTTP handler and predicts on `input`. */
export async function load(call: LoadCall): Promise<LoadOutcome> {
  let verified: { signer: SignerInfo; files: string[]; claims: (string | undefined)[]; decision?: string } | undefined;
  try {
    // Passed as given, so a call with both or neither shows the handler's refusal.
    const where = {
      // Relative, as a page would write them: they resolve against the page's location.
      ...(call.modelUrl !== undefined ? { modelUrl: call.modelUrl } : {}),
      ...(call.baseUrl !== undefined ? { baseUrl: call.baseUrl } : {}),
    } as VerifiedHttpModelLocation;
    const handler = verifiedHttpHandler({
      ...where,
      ...(call.policy !== undefined
        ? { policy: await createPolicy(call.policy, { name: 'policy.json' }) }
        : { verifier: await WebKeyVerifier.create({ publicKey: call.publicKeyPem }) }),
      onVerified: ({ signer, files, claims, policy }) => {
        verified = { signer, files, claims: claims.map((c) => c.requirement), ...(policy ? { decision: policy.decision.reason } : {}) };
      },
    });
    const model = call.kind === 'layers' ? await tf.loadLayersModel(handler) : await tf.loadGraphModel(handler);
    const output = (await (model.predict(tf.tensor2d(call.input)) as tf.Tensor).array()) as number[][];
    return { ok: true, output, ...verified! };
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
