// Save a TensorFlow.js model signed, load it verified, and see a tampered
// copy refused. Runs offline on the pure-JS CPU backend.
//
//   node examples/tfjs/sign-and-load.mjs [workDir]
//
// Uses a fresh P-256 key pair; in real use the private key stays with the
// publisher and only the public key ships with the application.
import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { KeySigner, KeyVerifier, isModelSigningError } from '@model-signing/core';
import { registerSignedScheme, signedSaveHandler, verifiedLoadHandler } from '@model-signing/tfjs';

tf.enableProdMode(); // also silences the "install tfjs-node" banner
await tf.setBackend('cpu');

const workDir = process.argv[2] ?? (await fs.mkdtemp(path.join(os.tmpdir(), 'tfjs-signing-')));
const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const signer = await KeySigner.create({ privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }) });
const verifier = await KeyVerifier.create({ publicKey: publicKey.export({ type: 'spki', format: 'pem' }) });

// A small dense network with fixed weights.
const model = tf.sequential({
  layers: [tf.layers.dense({ inputShape: [3], units: 4, activation: 'relu' }), tf.layers.dense({ units: 2 })],
});
model.setWeights([
  tf.tensor2d([0.1, -0.2, 0.3, 0.4, 0.5, 0.6, -0.7, 0.8, -0.9, 1.0, 1.1, -1.2], [3, 4]),
  tf.tensor1d([0.01, 0.02, -0.03, 0.04]),
  tf.tensor2d([1, -1, 0.5, 2, -0.25, 0.75, 1.5, -2], [4, 2]),
  tf.tensor1d([0.1, -0.1]),
]);
const input = tf.tensor2d([[1, 2, 3]]);
console.log('original prediction:', await model.predict(input).array());

// 1. Transparent use: a URL scheme with default signer and verifier.
// overwrite: true lets the example run again on the same workDir.
const unregister = registerSignedScheme({ scheme: 'signed', signer, verifier, overwrite: true });
const modelDir = path.join(workDir, 'dense');
await model.save(`signed://${modelDir}`);
console.log(`saved ${modelDir}:`, (await fs.readdir(modelDir)).sort().join(', '));
const loaded = await tf.loadLayersModel(`signed://${modelDir}`);
console.log('verified prediction:', await loaded.predict(input).array());
unregister();

// 2. Explicit handlers, e.g. to pass options per call.
const copyDir = path.join(workDir, 'dense-copy');
await loaded.save(signedSaveHandler({ modelDir: copyDir, signer, overwrite: true }));

// 3. Tamper with one weight byte: the load is refused and names the file.
const weights = path.join(copyDir, 'weights.bin');
const bytes = await fs.readFile(weights);
bytes[0] ^= 0x01;
await fs.writeFile(weights, bytes);
try {
  await tf.loadLayersModel(verifiedLoadHandler({ modelDir: copyDir, verifier }));
  console.error('the tampered model loaded: this must not happen');
  process.exitCode = 1;
} catch (err) {
  if (!isModelSigningError(err)) throw err;
  console.log(`tampered copy refused: ${err.code} (${err.path}): ${err.message}`);
}
