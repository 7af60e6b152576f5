// The web page's code: under a trust policy made in the browser
// (createPolicy, its key files handed in as fetched beside it),
// transformers.js loads the model through its signature (line 5 of
// claims.jsonl), and the claims that met the policy come back with it.
// Browser entries only.
import { env, pipeline } from '@huggingface/transformers';
import { createPolicy, isModelSigningError } from '@model-signing/core/browser';
import { configureVerifiedLoading } from '@model-signing/transformers/browser';

// onnxruntime-web's WebAssembly from this site rather than transformers.js's default CDN.
env.backends.onnx.wasm.wasmPaths = {
  mjs: new URL('ort/ort-wasm-simd-threaded.asyncify.mjs', location.href).href,
  wasm: new URL('ort/ort-wasm-simd-threaded.asyncify.wasm', location.href).href,
};

/**
 * Loads the model at `revision` under the policy, embeds a sentence, and
 * returns what a page would show: the embedding, the signature's line and
 * the claims that met the policy, or the refusal.
 */
export async function load({ hubUrl, repo, revision, policyName, policyText, keyFiles }) {
  let loading;
  try {
    const policy = await createPolicy(policyText, { name: policyName, readFile: async (name) => keyFiles[name] });
    loading = await configureVerifiedLoading({
      env,
      repo,
      revision,
      hubUrl,
      signaturePath: 'claims.jsonl',
      policy,
      cacheName: 'claims-example',
    });
    // fp32 weights (onnx/model.onnx); in browsers transformers.js would otherwise pick the quantized variant.
    const extractor = await pipeline('feature-extraction', repo, { revision, dtype: 'fp32' });
    const output = await extractor('Hello signed models.', { pooling: 'mean', normalize: true });
    await extractor.dispose();
    return {
      ok: true,
      embedding: output.tolist()[0],
      source: loading.source,
      claims: loading.claims.map((c) => ({ line: c.line, predicateType: c.predicateType, requirement: c.requirement })),
    };
  } catch (err) {
    if (isModelSigningError(err)) return { ok: false, code: err.code, path: err.path, message: err.message };
    throw err;
  } finally {
    loading?.restore();
  }
}
