// Builds the tiny ONNX models, keys and directories the tests use. Models
// compute Y = X·W + B (MatMul + Add, IR 8, opset 13) with W 3×2 and B 2.
import fs from 'node:fs/promises';
import onnxProto from 'onnx-proto';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { ecKeyPair, tempDirs } from '../../../test-fixtures/fixtures.mjs';
import { KeySigner, KeyVerifier } from '@model-signing/core';

const { onnx } = onnxProto;
const FLOAT = onnx.TensorProto.DataType.FLOAT;

/** Weights of the model every test signs. */
export const WEIGHTS = [1, 2, 3, 4, 5, 6];
/** Weights of the model an attacker swaps in. */
export const OTHER_WEIGHTS = [-1, -2, -3, -4, -5, -6];
/** Y for {@link INPUT} with {@link WEIGHTS}. */
export const EXPECTED = [9.5, 11.5, 3.5, 3.5];
/** Y for {@link INPUT} with {@link OTHER_WEIGHTS}. */
export const OTHER_EXPECTED = [-8.5, -12.5, -2.5, -4.5];
/** X: two rows, [1,1,1] and [0,1,0]. */
export const INPUT = [1, 1, 1, 0, 1, 0];

/** Little-endian float32 bytes, as ONNX stores raw tensor data. */
export function floatBytes(values: number[]): Uint8Array {
  return new Uint8Array(new Float32Array(values).buffer);
}

function valueInfo(name: string, dims: (number | string)[]) {
  return {
    name,
    type: { tensorType: { elemType: FLOAT, shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) } } },
  };
}

/**
 * Encodes the model. With `externalLocation`, W is stored as external data
 * at that location (`externalOffset`, default '0'; `externalLength`, default
 * '24', none when null); otherwise inline.
 */
export function buildModel(
  options: { weights?: number[]; externalLocation?: string; externalOffset?: string; externalLength?: string | null } = {},
): Uint8Array {
  const weights = floatBytes(options.weights ?? WEIGHTS);
  const w =
    options.externalLocation === undefined
      ? { name: 'W', dims: [3, 2], dataType: FLOAT, rawData: weights }
      : {
          name: 'W',
          dims: [3, 2],
          dataType: FLOAT,
          dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
          externalData: [
            { key: 'location', value: options.externalLocation },
            { key: 'offset', value: options.externalOffset ?? '0' },
            ...(options.externalLength === null ? [] : [{ key: 'length', value: options.externalLength ?? String(weights.length) }]),
          ],
        };
  const model = onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 13 }],
    graph: {
      name: 'tiny',
      node: [
        { opType: 'MatMul', input: ['X', 'W'], output: ['XW'] },
        { opType: 'Add', input: ['XW', 'B'], output: ['Y'] },
      ],
      initializer: [w, { name: 'B', dims: [2], dataType: FLOAT, rawData: floatBytes([0.5, -0.5]) }],
      input: [valueInfo('X', ['N', 3])],
      output: [valueInfo('Y', ['N', 2])],
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

/** Runs a session on {@link INPUT}, returns Y as plain numbers, and releases it. */
export async function runModel(session: InferenceSession): Promise<number[]> {
  try {
    const result = await session.run({ X: new Tensor('float32', Float32Array.from(INPUT), [2, 3]) });
    return Array.from(result['Y'].data as Float32Array);
  } finally {
    await session.release();
  }
}

/** A fresh P-256 key pair as a signer and the matching verifier. */
export async function keyPair(): Promise<{ signer: KeySigner; verifier: KeyVerifier; privateKeyPem: string; publicKeyPem: string }> {
  const { privateKey: privateKeyPem, publicKey: publicKeyPem } = ecKeyPair();
  return {
    signer: await KeySigner.create({ privateKey: privateKeyPem }),
    verifier: await KeyVerifier.create({ publicKey: publicKeyPem }),
    privateKeyPem,
    publicKeyPem,
  };
}

const dirs = tempDirs('onnx-test-');

/** A new empty directory under the OS temporary directory. */
export function tempDir(prefix = 'onnx-test-'): Promise<string> {
  return dirs.make(prefix);
}

/** Flips one bit of the byte at `offset` (from the end when negative). */
export async function flipByte(file: string, offset: number): Promise<void> {
  const bytes = await fs.readFile(file);
  const at = offset < 0 ? bytes.length + offset : offset;
  bytes[at] = bytes[at] ^ 0x01;
  await fs.writeFile(file, bytes);
}
