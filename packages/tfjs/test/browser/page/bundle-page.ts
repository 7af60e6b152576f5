// A page as an app would write it: the browser entries by package name
// (package.json `exports` → dist/), used so no bundler drops them.
import * as tf from '@tensorflow/tfjs';
import { WebKeyVerifier } from '@model-signing/core/browser';
import { verifiedHttpHandler } from '@model-signing/tfjs/web';

Object.assign(globalThis, {
  app: {
    load: async (modelUrl: string, publicKey: string) =>
      tf.loadLayersModel(verifiedHttpHandler({ modelUrl, verifier: await WebKeyVerifier.create({ publicKey }) })),
  },
});
