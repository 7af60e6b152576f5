// One TensorFlow.js setup for every test: the pure-JS CPU backend (tfjs-node
// cannot be installed here) and no "install tfjs-node" banner, which tfjs
// suppresses in test mode.
import * as tf from '@tensorflow/tfjs';

tf.env().set('IS_TEST', true);
await tf.setBackend('cpu');

export { tf };
