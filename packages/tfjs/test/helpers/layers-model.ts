import { tf } from './tf.js';

/** Inputs used to compare predictions: two rows of three features. */
export const SAMPLE_INPUT = [
  [1, 2, 3],
  [-1, 0.5, 2],
];

/** A small dense network (3 → 4 relu → 2) with fixed, hand-picked weights. */
export function denseModel(): tf.LayersModel {
  const model = tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [3], units: 4, activation: 'relu', name: 'hidden' }),
      tf.layers.dense({ units: 2, name: 'out' }),
    ],
  });
  model.setWeights([
    tf.tensor2d([0.1, -0.2, 0.3, 0.4, 0.5, 0.6, -0.7, 0.8, -0.9, 1.0, 1.1, -1.2], [3, 4]),
    tf.tensor1d([0.01, 0.02, -0.03, 0.04]),
    tf.tensor2d([1, -1, 0.5, 2, -0.25, 0.75, 1.5, -2], [4, 2]),
    tf.tensor1d([0.1, -0.1]),
  ]);
  return model;
}

/** The model's output for {@link SAMPLE_INPUT}. */
export async function predictSample(model: tf.LayersModel): Promise<number[][]> {
  const output = model.predict(tf.tensor2d(SAMPLE_INPUT)) as tf.Tensor;
  return (await output.array()) as number[][];
}
