// Writes a tiny graph model the way tensorflowjs_converter lays one out:
// model.json with format "graph-model", a GraphDef node list as the topology,
// and the weights as sharded binary files of one weight group.
import fs from 'node:fs/promises';
import path from 'node:path';

/** y = x·W + b with W = [[1,2],[3,4],[5,6]] and b = [0.5,-0.5]. */
export const GRAPH_WEIGHTS = { w: [1, 2, 3, 4, 5, 6], b: [0.5, -0.5] };
export const GRAPH_INPUT = [
  [1, 1, 1],
  [0, 1, 0],
];
export const GRAPH_OUTPUT = [
  [9.5, 11.5],
  [3.5, 3.5],
];
/** The weight group's shard files; the split falls inside W, so they only work concatenated in order. */
export const GRAPH_SHARDS = ['group1-shard1of2.bin', 'group1-shard2of2.bin'];

const float = { type: 'DT_FLOAT' };
const dims = (...sizes: number[]) => ({ dim: sizes.map((s) => ({ size: String(s) })) });

/** The converter-style model.json for the graph; `weightPaths` overrides the shard names it lists. */
export function graphModelJson(weightPaths: readonly string[] = GRAPH_SHARDS): object {
  return {
    format: 'graph-model',
    generatedBy: '2.15.0',
    convertedBy: 'TensorFlow.js Converter v4.22.0',
    modelTopology: {
      node: [
        { name: 'x', op: 'Placeholder', attr: { dtype: float, shape: { shape: dims(-1, 3) } } },
        { name: 'w', op: 'Const', attr: { dtype: float, value: { tensor: { dtype: 'DT_FLOAT', tensorShape: dims(3, 2) } } } },
        { name: 'b', op: 'Const', attr: { dtype: float, value: { tensor: { dtype: 'DT_FLOAT', tensorShape: dims(2) } } } },
        { name: 'MatMul', op: 'MatMul', input: ['x', 'w'], attr: { T: float, transpose_a: { b: false }, transpose_b: { b: false } } },
        // data_format "NHWC", base64 as in a GraphDef's JSON form.
        {
          name: 'y',
          op: 'BiasAdd',
          input: ['MatMul', 'b'],
          attr: { T: float, data_format: { s: Buffer.from('NHWC').toString('base64') } },
        },
      ],
      library: {},
      versions: { producer: 1645 },
    },
    weightsManifest: [
      {
        paths: [...weightPaths],
        weights: [
          { name: 'w', shape: [3, 2], dtype: 'float32' },
          { name: 'b', shape: [2], dtype: 'float32' },
        ],
      },
    ],
  };
}

/** Writes model.json and the two weight shards into `dir` (which must exist). */
export async function writeGraphModel(dir: string): Promise<void> {
  const bytes = Buffer.from(new Float32Array([...GRAPH_WEIGHTS.w, ...GRAPH_WEIGHTS.b]).buffer);
  await fs.writeFile(path.join(dir, 'model.json'), JSON.stringify(graphModelJson()));
  await fs.writeFile(path.join(dir, GRAPH_SHARDS[0]), bytes.subarray(0, 20));
  await fs.writeFile(path.join(dir, GRAPH_SHARDS[1]), bytes.subarray(20));
}
