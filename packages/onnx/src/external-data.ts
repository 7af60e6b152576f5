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
  /** The byte range of each tensor stored in the file, as the model states it. */
  ranges: ExternalDataRange[];
}

/** Where one tensor's bytes lie in its external-data file. */
export interface ExternalDataRange {
  /** The tensor's name, for messages. */
  tensor: string;
  /** `offset` (0 when absent). */
  offset: bigint;
  /** `length`, or else the size its data type and shape give; undefined when neither is known. */
  length: bigint | undefined;
}

/** Bytes per element of the fixed-size ONNX data types (`TensorProto.DataType`); strings have none. */
const ELEMENT_BYTES: ReadonlyMap<number, bigint> = new Map([
  [1, 4n], // FLOAT
  [2, 1n], // UINT8
  [3, 1n], // INT8
  [4, 2n], // UINT16
  [5, 2n], // INT16
  [6, 4n], // INT32
  [7, 8n], // INT64
  [9, 1n], // BOOL
  [10, 2n], // FLOAT16
  [11, 8n], // DOUBLE
  [12, 4n], // UINT32
  [13, 8n], // UINT64
  [14, 8n], // COMPLEX64
  [15, 16n], // COMPLEX128
  [16, 2n], // BFLOAT16
  [17, 1n], // FLOAT8E4M3FN
  [18, 1n], // FLOAT8E4M3FNUZ
  [19, 1n], // FLOAT8E5M2
  [20, 1n], // FLOAT8E5M2FNUZ
]);

/** A `BAD_MODEL` error about `modelFile`; `path` names the file at fault (the model file, or the external-data file it overruns). */
function badModel(modelFile: string, path: string, message: string): ModelSigningError {
  return new ModelSigningError({ code: 'BAD_MODEL', path, message: `'${modelFile}' ${message}` });
}

type Tensor = onnxProto.onnx.ITensorProto;
type SparseTensor = onnxProto.onnx.ISparseTensorProto;
type Graph = onnxProto.onnx.IGraphProto;
type Node = onnxProto.onnx.INodeProto;

/**
 * Decodes ONNX model bytes, refusing anything that is not a model. Not
 * exported: onnx-proto's types must stay out of this package's declarations
 * (they need protobufjs's `Long` and fail a strict check without skipLibCheck).
 *
 * @throws {ModelSigningError} `INVALID_ARGUMENT`.
 */
function decodeModel(bytes: Uint8Array, modelFile: string): onnxProto.onnx.ModelProto {
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
 *   with a `..` component; `INVALID_ARGUMENT` for bytes that are not a model;
 *   `BAD_MODEL` for an offset or length that is not a byte count, or a key
 *   given twice for one tensor.
 */
export function externalDataReferences(modelBytes: Uint8Array, modelFile: string): ExternalDataReference[] {
  const model = decodeModel(modelBytes, modelFile);
  const locations = new Map<string, ExternalDataRange[]>();
  const visitTensor = (tensor: Tensor | null | undefined) => {
    if (!tensor?.externalData?.length) return;
    const entries = new Map<string, string>();
    for (const entry of tensor.externalData) {
      const key = entry.key ?? '';
      if (entries.has(key)) throw badModel(modelFile, modelFile, `gives tensor '${tensor.name ?? ''}' two external-data '${key}' entries`);
      entries.set(key, entry.value ?? '');
    }
    // Any tensor that names a location counts, whatever its dataLocation says:
    // refusing a stray reference is cheaper than reasoning about which ones load.
    const location = entries.get('location');
    if (location === undefined) return;
    const ranges = locations.get(location) ?? [];
    ranges.push(rangeOf(tensor, entries, modelFile));
    locations.set(location, ranges);
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
  return [...locations].map(([location, ranges]) => ({ ...resolveLocation(location, modelFile), ranges }));
}

/** A tensor's stated `offset` and `length` (decimal strings), or its size from data type and shape. */
function rangeOf(tensor: Tensor, entries: Map<string, string>, modelFile: string): ExternalDataRange {
  const name = tensor.name ?? '';
  const integer = (key: string): bigint | undefined => {
    const value = entries.get(key);
    if (value === undefined) return undefined;
    if (!/^\d{1,20}$/.test(value))
      throw badModel(modelFile, modelFile, `gives tensor '${name}' the external-data ${key} '${value}', which is not a byte count`);
    return BigInt(value);
  };
  const offset = integer('offset') ?? 0n;
  let length = integer('length');
  if (length === undefined) {
    const element = ELEMENT_BYTES.get(tensor.dataType ?? 0);
    const dims = (tensor.dims ?? []).map((d) => BigInt(String(d)));
    if (element !== undefined && dims.every((d) => d >= 0n)) length = dims.reduce((n, d) => n * d, element);
  }
  return { tensor: name, offset, length };
}

/**
 * Refuses external data that names bytes outside its file, before any
 * runtime reads it: each tensor's offset, and its offset plus length (stated,
 * or else computed from its data type and shape), must lie within the file's
 * size. `sizeOf` gives the size of the verified bytes of each file (the model
 * file too: a tensor may point into it), by model-relative name.
 *
 * @throws {ModelSigningError} `BAD_MODEL` naming the file and the tensor.
 */
export function checkExternalDataRanges(
  references: readonly ExternalDataReference[],
  sizeOf: (name: string) => number | undefined,
  modelFile: string,
): void {
  for (const reference of references) {
    const size = sizeOf(reference.name);
    if (size === undefined) continue;
    for (const { tensor, offset, length } of reference.ranges) {
      const end = offset + (length ?? 0n);
      if (offset > BigInt(size) || end > BigInt(size)) {
        const range = length === undefined ? `at offset ${offset}` : `at offset ${offset}, ${length} bytes long`;
        throw badModel(
          modelFile,
          reference.name,
          `stores tensor '${tensor}' in '${reference.location}' ${range}, past the end of that file (${size} bytes): the model is malformed`,
        );
      }
    }
  }
}

/** Resolves one `location` against the model file's folder, refusing any that could leave it. */
function resolveLocation(location: string, modelFile: string): Omit<ExternalDataReference, 'ranges'> {
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
