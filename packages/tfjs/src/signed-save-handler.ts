import { io } from '@tensorflow/tfjs-core';
import { saveSignedArtifacts, type SignedSaveSettings } from './save-signed-artifacts.js';

/** Options for {@link signedSaveHandler}. */
export interface SignedSaveHandlerOptions extends SignedSaveSettings {
  /** The model directory to create. */
  modelDir: string;
}

/**
 * A TensorFlow.js save handler that writes a signed model directory:
 * `await model.save(signedSaveHandler({ modelDir, signer }))`. See
 * {@link saveSignedArtifacts} for the layout, the atomic placement and
 * `overwrite`. A failed save rejects and leaves no signed directory behind.
 */
export function signedSaveHandler(options: SignedSaveHandlerOptions): io.IOHandler {
  return {
    save: async (artifacts) => {
      await saveSignedArtifacts({ ...options, artifacts });
      return { modelArtifactsInfo: io.getModelArtifactsInfoForJSON(artifacts) };
    },
  };
}
