import onnxProto from 'onnx-proto';
// The browser entry, so this module also serves @model-signing/onnx/web: it has no Node built-in.
import { ModelSigningError } from '@model-signing/core/browser';
import { normalizeModelPath, staysInside } from '@model-signing/core/internal';

const { onnx } = onnxProto;

/** One external-data file an ONNX model refers to. */
export interface ExternalDataReference {
  /** The `location` string exactly as written in the model. */
  location: string;
  /** Model-relative POSIX path of the file (resolved against the model file's folder). */
  name: string;
  /** Whether `location` is already in normal form (`a/b.bin`, not `./a/b.bin` or `a//b.bin`). */
  isCanonical: boolean;
}

type Tensor = onnxProto.onnx.ITensorProto;
type SparseTensor = onnxProto.onnx.ISparseTensorProto;
type Graph = onnxProto.onnx.IGraphProto;
type Node = onnxProto.onnx.INodeProto;

/**
 * Decodes ONNX model bytes, refusing anything that is not a model.
 *
 * @throws {ModelSigningError} `INVALID_ARGUMENT`.
 */
export function decodeModel(bytes: Uint8Array, modelFile: string): onnxProto.onnx.ModelProto {
  try {
    return onnx.ModelProto.decode(bytes);
  } catch (cause) {
    throw new ModelSigningError({
      code: 'INVALID_ARGUMENT',
      path: modelFile,
      cause,
      message: `'${modelFile}' is not a valid ONNX model (protobuf parsing failed: ${(cause as Error).message})`,
    });
  }
}

/**
 * Lists the distinct external-data files that the model in `modelBytes`
 * refers to, from every tensor in the graph, its subgraphs, functions and
 * training graphs. `modelFile` is the model's model-relative path; locations
 * are relative to its folder, as onnxruntime reads them.
 *
 * @throws {ModelSigningError} `PATH_ESCAPE` for an absolute location or one
 *   with a `..` component; `INVALID_ARGUMENT` for bytes that are not a model.
 */
export function externalDataReferences(modelBytes: Uint8Array, modelFile: string): ExternalDataReference[] {
  const model = decodeModel(modelBytes, modelFile);
  const locations = new Set<string>();
  const visitTensor = (tensor: Tensor | null | undefined) => {
    for (const entry of tensor?.externalData ?? []) {
      // Any tensor that names a location counts, whatever its dataLocation says:
      // refusing a stray reference is cheaper than reasoning about which ones load.
      if (entry.key === 'location') locations.add(entry.value ?? '');
    }
  };
  const visitSparse = (sparse: SparseTensor | null | undefined) => {
    visitTensor(sparse?.values);
    visitTensor(sparse?.indices);
  };
  const visitNodes = (nodes: Node[] | null | undefined) => {
    for (const node of nodes ?? []) {
      for (const attribute of node.attribute ?? []) {
        visitTensor(attribute.t);
        attribute.tensors?.forEach(visitTensor);
        visitSparse(attribute.sparseTensor);
        attribute.sparseTensors?.forEach(visitSparse);
        visitGraph(attribute.g);
        attribute.graphs?.forEach(visitGraph);
      }
    }
  };
  const visitGraph = (graph: Graph | null | undefined) => {
    graph?.initializer?.forEach(visitTensor);
    graph?.sparseInitializer?.forEach(visitSparse);
    visitNodes(graph?.node);
  };
  visitGraph(model.graph);
  for (const fn of model.functions ?? []) visitNodes(fn.node);
  for (const training of model.trainingInfo ?? []) {
    visitGraph(training.initialization);
    visitGraph(training.algorithm);
  }
  return [...locations].map((location) => resolveLocation(location, modelFile));
}

/** Resolves one `location` against the model file's folder, refusing any that could leave it. */
function resolveLocation(location: string, modelFile: string): ExternalDataReference {
  const escape = (why: string) =>
    new ModelSigningError({
      code: 'PATH_ESCAPE',
      path: location,
      message: `'${modelFile}' refers to external data at '${location}', which ${why}; external data must be a relative path inside the model directory. Re-export the model with its weights next to it.`,
    });
  // Backslashes and drive letters root or separate paths on Windows, where the
  // same model may be loaded, so they are refused rather than read as names.
  if (location.startsWith('/') || /^[A-Za-z]:/.test(location)) throw escape('is an absolute path');
  if (location.includes('\\')) throw escape('contains a backslash');
  if (!staysInside(location)) throw escape("contains '..'");
  const relative = normalizeModelPath(location);
  if (relative === '.') throw escape('names the folder, not a file');
  const slash = modelFile.lastIndexOf('/');
  const name = slash < 0 ? relative : `${modelFile.slice(0, slash)}/${relative}`;
  return { location, name, isCanonical: relative === location };
}
