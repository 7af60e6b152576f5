// Sign an ONNX model on save, load it back verified, run it, and watch a
// tampered copy get refused. Run from the repository root after building:
//
//   pnpm install && pnpm build
//   node examples/onnx/run.mjs
import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { createVerifiedSession, saveSignedModel } from '@model-signing/onnx';
import { KeySigner, KeyVerifier, ModelSigningError } from '@model-signing/core';
import ort from 'onnxruntime-node';
import onnxProto from 'onnx-proto';

const { Tensor } = ort;
const { onnx } = onnxProto;

// 1. A tiny model, Y = X·W + B, with W stored as external data in weights.bin
//    (what exporters do for large weights; PyTorch writes model.onnx.data).
const FLOAT = onnx.TensorProto.DataType.FLOAT;
const weights = new Uint8Array(new Float32Array([1, 2, 3, 4, 5, 6]).buffer);
const shape = (...dims) => ({
  tensorType: { elemType: FLOAT, shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) } },
});
const model = onnx.ModelProto.encode(
  onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 13 }],
    graph: {
      name: 'tiny',
      node: [
        { opType: 'MatMul', input: ['X', 'W'], output: ['XW'] },
        { opType: 'Add', input: ['XW', 'B'], output: ['Y'] },
      ],
      initializer: [
        {
          name: 'W',
          dims: [3, 2],
          dataType: FLOAT,
          dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
          externalData: [
            { key: 'location', value: 'weights.bin' },
            { key: 'offset', value: '0' },
            { key: 'length', value: '24' },
          ],
        },
        { name: 'B', dims: [2], dataType: FLOAT, rawData: new Uint8Array(new Float32Array([0.5, -0.5]).buffer) },
      ],
      input: [{ name: 'X', type: shape('N', 3) }],
      output: [{ name: 'Y', type: shape('N', 2) }],
    },
  }),
).finish();

// 2. A signing key. Real deployments keep the private key in a safe place and
//    ship only the public key with the application.
const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const signer = await KeySigner.create({ privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }) });
const verifier = await KeyVerifier.create({ publicKey: publicKey.export({ type: 'spki', format: 'pem' }) });

const work = await fs.mkdtemp(path.join(os.tmpdir(), 'onnx-example-'));
try {
  // 3. Save signed: model.onnx, weights.bin, and model.sig written last.
  const dir = path.join(work, 'tiny-model');
  const saved = await saveSignedModel(dir, { model, externalData: [{ path: 'weights.bin', data: weights }], signer });
  console.log(`saved ${saved.files.join(', ')} and ${path.basename(saved.signaturePath)} in ${dir}`);

  // 4. Load verified and run.
  const session = await createVerifiedSession({
    modelPath: dir,
    verifier,
    onVerified: ({ signer: who, files }) =>
      console.log(`verified ${files.join(', ')} (signed with key ${who.publicKeyHint.slice(0, 16)}…)`),
  });
  const input = new Tensor('float32', Float32Array.from([1, 1, 1, 0, 1, 0]), [2, 3]);
  const { Y } = await session.run({ X: input });
  console.log('Y =', Array.from(Y.data)); // [9.5, 11.5, 3.5, 3.5]
  await session.release();

  // 5. Tamper with a copy: change one weight.
  const tampered = path.join(work, 'tampered-model');
  await fs.cp(dir, tampered, { recursive: true });
  const bytes = await fs.readFile(path.join(tampered, 'weights.bin'));
  bytes[0] ^= 0x01;
  await fs.writeFile(path.join(tampered, 'weights.bin'), bytes);
  try {
    await createVerifiedSession({ modelPath: tampered, verifier });
    console.error('the tampered model loaded: this must not happen');
    process.exitCode = 1;
  } catch (err) {
    if (!(err instanceof ModelSigningError)) throw err;
    console.log(`tampered copy refused: ${err.code} on ${err.path}: ${err.message}`);
  }
} finally {
  await fs.rm(work, { recursive: true, force: true });
}
