// The web page's code: a transformers.js pipeline that receives only signed
// bytes. Everything comes from browser entries (transformers.js's web build,
// @model-signing/core/browser, @model-signing/transformers/browser), so any
// bundler can take it for a page or a worker.
import { env, pipeline } from '@huggingface/transformers';
import { WebKeyVerifier, isModelSigningError } from '@model-signing/core/browser';
import { configureVerifiedLoading } from '@model-signing/transformers/browser';

// onnxruntime-web's WebAssembly from this site rather than transformers.js's default CDN.
env.backends.onnx.wasm.wasmPaths = {
  mjs: new URL('ort/ort-wasm-simd-threaded.asyncify.mjs', location.href).href,
  wasm: new URL('ort/ort-wasm-simd-threaded.asyncify.wasm', location.href).href,
};

/**
 * Verifies the repo's signature with the publisher's public key, then embeds
 * a sentence; returns what a page would show: the embedding and the files
 * checked, or the refusal.
 */
export async function embed({ hubUrl, repo, revision, publicKeyPem, cacheName }) {
  const checked = [];
  let loading;
  try {
    loading = await configureVerifiedLoading({
      env,
      repo,
      revision, // the signed commit: pins the model
      hubUrl,
      cacheName, // the Cache API cache for verified files; every read is checked again
      verifier: await WebKeyVerifier.create({ publicKey: publicKeyPem }),
      onProgress: (e) => checked.push(`${e.file} (${e.size} bytes, ${e.source})`),
    });
    // fp32 weights (onnx/model.onnx); in browsers transformers.js would otherwise pick the quantized variant.
    const extractor = await pipeline('feature-extraction', repo, { revision, dtype: 'fp32' });
    const output = await extractor('Hello signed models.', { pooling: 'mean', normalize: true });
    await extractor.dispose();
    return { ok: true, embedding: output.tolist()[0], checked };
  } catch (err) {
    if (isModelSigningError(err)) return { ok: false, code: err.code, path: err.path, message: err.message };
    throw err;
  } finally {
    loading?.restore();
  }
}
