import type { io } from '@tensorflow/tfjs-core';
import { loadVerifiedArtifacts, type LoadVerifiedArtifactsOptions } from './load-verified-artifacts.js';

/** Options for {@link verifiedLoadHandler}: those of {@link loadVerifiedArtifacts}. */
export type VerifiedLoadHandlerOptions = LoadVerifiedArtifactsOptions;

/**
 * A TensorFlow.js load handler that verifies a signed model directory before
 * handing over its artifacts: `tf.loadLayersModel(verifiedLoadHandler({...}))`
 * or `tf.loadGraphModel(...)`. Each `load()` verifies afresh; a model that
 * fails verification is never returned (the load rejects with the
 * {@link loadVerifiedArtifacts} error naming the file).
 */
export function verifiedLoadHandler(options: VerifiedLoadHandlerOptions): io.IOHandler {
  return {
    load: async () => (await loadVerifiedArtifacts(options)).artifacts,
  };
}
