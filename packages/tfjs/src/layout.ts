/**
 * File names of a signed TensorFlow.js model directory. `model.json` and
 * `weights.bin` are the names TensorFlow.js's own file-system handler
 * (`tf.io.fileSystem` in tfjs-node) writes, so a directory saved here can be
 * read by any TensorFlow.js tooling.
 */

/** The model description: topology plus the weights manifest. */
export const MODEL_JSON_FILE_NAME = 'model.json';

/** The single weights file a save writes (the converter may write several shards instead). */
export const WEIGHTS_FILE_NAME = 'weights.bin';
