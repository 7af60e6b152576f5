import { ModelSigningError } from '@model-signing/core/browser';
import { normalizeModelPath } from '@model-signing/core/internal';

/**
 * The `.onnx` file to load from a signed model folder: the one asked for
 * (normalized, so `./m.onnx` is `m.onnx`), or else the only signed `.onnx`
 * file. Runtime-neutral: the Node and the web loaders share it.
 *
 * @param signed the model-relative names the signature lists.
 * @param requested a model-relative name with `/` separators, if the caller chose one.
 * @param where the model folder or URL, for the message.
 * @throws {ModelSigningError} `NOT_FOUND` when no `.onnx` file is signed,
 *   `INVALID_ARGUMENT` when several are and none was chosen, `PATH_ESCAPE`
 *   for a requested name that leaves the model.
 */
export function chooseModelFile(signed: readonly string[], requested: string | undefined, where: string): string {
  if (requested !== undefined) return normalizeModelPath(requested);
  const candidates = signed.filter((name) => name.toLowerCase().endsWith('.onnx'));
  if (candidates.length === 1) return candidates[0];
  throw new ModelSigningError({
    code: candidates.length === 0 ? 'NOT_FOUND' : 'INVALID_ARGUMENT',
    path: where,
    message:
      candidates.length === 0
        ? `The signature of '${where}' covers no '.onnx' file; pass modelFile to name the model file to load`
        : `The signature of '${where}' covers several '.onnx' files (${candidates.join(', ')}); pass modelFile to choose one`,
  });
}
