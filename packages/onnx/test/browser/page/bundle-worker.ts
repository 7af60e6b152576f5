// The app's own worker module: it only runs core's hash worker.
import '@model-signing/core/browser/hash-worker';
