// The browser entry, so this module also serves @model-signing/tfjs/web: it has no Node built-in.
import { ModelSigningError } from '@model-signing/core/browser';
import { normalizeModelPath } from '@model-signing/core/internal';
import type { io } from '@tensorflow/tfjs-core';
import { MODEL_JSON_FILE_NAME, WEIGHTS_FILE_NAME } from './layout.js';

/**
 * The `model.json` TensorFlow.js's file handler writes for `artifacts`, with
 * all weights in one `weights.bin`. Mirrors tfjs-core's
 * `getModelJSONForModelArtifacts`, which tfjs-core 4.x does not export.
 */
export function modelJsonForArtifacts(artifacts: io.ModelArtifacts): io.ModelJSON {
  if (artifacts.modelTopology instanceof ArrayBuffer) {
    throw new ModelSigningError({
      code: 'INVALID_ARGUMENT',
      message:
        "The model topology is binary (a protobuf GraphDef); only JSON topologies can be saved to a model directory, as with TensorFlow.js's own file handler",
    });
  }
  const weightsManifest: io.WeightsManifestConfig = [{ paths: [WEIGHTS_FILE_NAME], weights: artifacts.weightSpecs ?? [] }];
  const json: io.ModelJSON = {
    modelTopology: artifacts.modelTopology ?? {},
    format: artifacts.format,
    generatedBy: artifacts.generatedBy,
    convertedBy: artifacts.convertedBy,
    weightsManifest,
  };
  if (artifacts.signature != null) json.signature = artifacts.signature;
  if (artifacts.userDefinedMetadata != null) json.userDefinedMetadata = artifacts.userDefinedMetadata;
  if (artifacts.modelInitializer != null) json.modelInitializer = artifacts.modelInitializer;
  if (artifacts.initializerSignature != null) json.initializerSignature = artifacts.initializerSignature;
  if (artifacts.trainingConfig != null) json.trainingConfig = artifacts.trainingConfig;
  return json;
}

/** A parsed `model.json` and the model-relative weight file paths it names, in manifest order. */
export interface ParsedModelJson {
  json: io.ModelJSON;
  /** One entry per path occurrence, normalized; the same file may appear twice. */
  weightPaths: string[];
}

function invalid(message: string): ModelSigningError {
  return new ModelSigningError({
    code: 'INVALID_ARGUMENT',
    path: MODEL_JSON_FILE_NAME,
    message: `${MODEL_JSON_FILE_NAME} is not a TensorFlow.js model description: ${message}`,
  });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Parses verified `model.json` bytes and validates the weights manifest.
 *
 * @throws {ModelSigningError} `PATH_ESCAPE` for a weight path that is
 *   absolute or leaves the model directory; `INVALID_ARGUMENT` for a
 *   malformed file.
 */
export function parseModelJson(bytes: Uint8Array): ParsedModelJson {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (cause) {
    throw invalid(`it is not UTF-8 JSON (${(cause as Error).message})`);
  }
  if (!isRecord(value)) throw invalid('the top level is not an object');
  if (!isRecord(value['modelTopology'])) throw invalid('modelTopology is missing or not an object');
  const manifest: unknown = value['weightsManifest'] ?? [];
  if (!Array.isArray(manifest)) throw invalid('weightsManifest is not a list');
  const weightPaths: string[] = [];
  for (const group of manifest) {
    if (!isRecord(group) || !Array.isArray(group['paths']) || !Array.isArray(group['weights'])) {
      throw invalid('a weightsManifest group lacks its paths or weights list');
    }
    for (const p of group['paths']) {
      if (typeof p !== 'string') throw invalid('a weight path is not a string');
      const normalized = weightPath(p);
      if (normalized === '.') throw invalid(`the weight path '${p}' names the model directory itself, not a file`);
      weightPaths.push(normalized);
    }
  }
  return { json: { ...value, weightsManifest: manifest as io.WeightsManifestConfig } as io.ModelJSON, weightPaths };
}

function weightPath(name: string): string {
  try {
    return normalizeModelPath(name);
  } catch (cause) {
    throw new ModelSigningError({
      code: 'PATH_ESCAPE',
      path: name,
      cause,
      message: `${MODEL_JSON_FILE_NAME} names the weight file '${name}', which is absolute or leaves the model directory; weight paths must be relative paths inside it. The model was not loaded.`,
    });
  }
}
