// The web page's code: transformers.js loads the model through its signature
// (line 5 of claims.jsonl), and the claims are verified with the publisher's
// and the evaluator's keys, all in the browser (browser entries only).
import { env, pipeline } from '@huggingface/transformers';
import { WebKeyVerifier, isModelSigningError, verifyClaims } from '@model-signing/core/browser';
import { configureVerifiedLoading } from '@model-signing/transformers/browser';

// onnxruntime-web's WebAssembly from this site rather than transformers.js's default CDN.
env.backends.onnx.wasm.wasmPaths = {
  mjs: new URL('ort/ort-wasm-simd-threaded.asyncify.mjs', location.href).href,
  wasm: new URL('ort/ort-wasm-simd-threaded.asyncify.wasm', location.href).href,
};

/**
 * Loads the model at `revision` with its signature in claims.jsonl, embeds a
 * sentence, and verifies the claims; returns what a page would show.
 */
export async function load({ hubUrl, repo, revision, publisherPem, evaluatorPem }) {
  const publisher = await WebKeyVerifier.create({ publicKey: publisherPem });
  const evaluator = await WebKeyVerifier.create({ publicKey: evaluatorPem });
  let loading;
  try {
    loading = await configureVerifiedLoading({
      env,
      repo,
      revision,
      hubUrl,
      signaturePath: 'claims.jsonl',
      verifier: publisher,
      cacheName: 'claims-example',
    });
    // fp32 weights (onnx/model.onnx); in browsers transformers.js would otherwise pick the quantized variant.
    const extractor = await pipeline('feature-extraction', repo, { revision, dtype: 'fp32' });
    const output = await extractor('Hello signed models.', { pooling: 'mean', normalize: true });
    await extractor.dispose();
    // The claims file at the same commit, each line checked against the verified files' root digest.
    const response = await fetch(`${hubUrl}/${repo}/resolve/${revision}/claims.jsonl`);
    const { claims } = await verifyClaims({
      claims: response.body,
      rootDigest: loading.manifest.rootDigest,
      verifiers: [publisher, evaluator],
    });
    return {
      ok: true,
      embedding: output.tolist()[0],
      source: loading.source,
      claims: claims.map((c) => ({ line: c.line, predicateType: c.predicateType, verified: c.verified })),
    };
  } catch (err) {
    if (isModelSigningError(err)) return { ok: false, code: err.code, path: err.path, message: err.message };
    throw err;
  } finally {
    loading?.restore();
  }
}
