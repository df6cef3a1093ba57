/**
 * TF1 partitioned variables: each part is a graph variable restored from a
 * slice of one checkpoint key, and the checkpoint stores the key's slices
 * under OrderedCode slice keys. No shared model has them: the SavedModel and
 * the checkpoint are crafted here (slice keys encoded by the test writer from
 * the OrderedCode description), and checked against a product computed here.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeSliceKey } from '../../../functions/scorer/engines/tensorflow/tensor-slices.js';
import { openTensorBundle } from '../../../functions/scorer/engines/tensorflow/tensor-bundle.js';
import { tensorflowFormat } from '../../../functions/scorer/formats/tensorflow-format.js';
import { tempRoot } from '../../support/model-dir.js';
import { TOLERANCE, maxRelativeError } from '../../support/tensor-proto.js';
import { loadFolder, writeMeta } from './model-folders.js';
import { DT_FLOAT, constant, placeholder, stringConstant, writeSavedModel, type TestNode } from './saved-model-builder.js';
import { sliceKey, writeTensorBundle } from './tensor-bundle-writer.js';

const DT_INT32 = 3;
const root = tempRoot('dropscore-tf-parts-');
afterAll(() => rmSync(root, { recursive: true, force: true }));

const f32 = (values: number[]): Uint8Array => new Uint8Array(Float32Array.from(values).buffer);
/** W is [4,3], split by rows into two [2,3] parts; V is [3,2], split by columns into two [3,1] parts. */
const W = [[1, 2, 3], [4, 5, 6], [-1, 0.5, 2], [0, -3, 1]];
const V = [[0.5, -1], [2, 0.25], [-0.5, 1]];

function partitionedModel(name: string): string {
  const dir = join(root, name);
  const float = { T: { type: DT_FLOAT } };
  const part = (n: string, shape: number[]): TestNode => ({ name: n, op: 'VariableV2', attr: { dtype: { type: DT_FLOAT }, shape: { shape } } });
  const specs = ['4 3 0,2:-', '4 3 2,2:-', '3 2 -:0,1', '3 2 -:1,1'];
  const parts = ['w/part_0', 'w/part_1', 'v/part_0', 'v/part_1'];
  writeSavedModel(
    dir,
    [
      placeholder('x', DT_FLOAT, [-1, 4]),
      part('w/part_0', [2, 3]),
      part('w/part_1', [2, 3]),
      part('v/part_0', [3, 1]),
      part('v/part_1', [3, 1]),
      constant('axis0', DT_INT32, [], new Uint8Array(Int32Array.of(0).buffer)),
      constant('axis1', DT_INT32, [], new Uint8Array(Int32Array.of(1).buffer)),
      { name: 'w', op: 'ConcatV2', input: ['w/part_0', 'w/part_1', 'axis0'], attr: { T: { type: DT_FLOAT }, N: { i: 2 }, Tidx: { type: DT_INT32 } } },
      { name: 'v', op: 'ConcatV2', input: ['v/part_0', 'v/part_1', 'axis1'], attr: { T: { type: DT_FLOAT }, N: { i: 2 }, Tidx: { type: DT_INT32 } } },
      { name: 'h', op: 'MatMul', input: ['x', 'w'], attr: float },
      { name: 'y', op: 'MatMul', input: ['h', 'v'], attr: float },
      stringConstant('save/Const', ['model'], []),
      stringConstant('save/RestoreV2/tensor_names', ['w', 'w', 'v', 'v']),
      stringConstant('save/RestoreV2/shape_and_slices', specs),
      { name: 'save/RestoreV2', op: 'RestoreV2', input: ['save/Const', 'save/RestoreV2/tensor_names', 'save/RestoreV2/shape_and_slices'], attr: { dtypes: { types: [DT_FLOAT, DT_FLOAT, DT_FLOAT, DT_FLOAT] } } },
      ...parts.map((p, i) => ({ name: `save/Assign_${i}`, op: 'Assign', input: [p, i === 0 ? 'save/RestoreV2' : `save/RestoreV2:${i}`], attr: float })),
      { name: 'save/restore_all', op: 'NoOp', input: parts.map((_, i) => `^save/Assign_${i}`) },
    ],
    { serving_default: { inputs: { x: { name: 'x:0', dtype: DT_FLOAT, shape: [-1, 4] } }, outputs: { y: { name: 'y:0', dtype: DT_FLOAT, shape: [-1, 2] } } } },
    { filenameTensor: 'save/Const:0', restoreOp: 'save/restore_all' },
  );
  writeTensorBundle(
    join(dir, 'variables', 'variables'),
    [],
    [
      {
        key: 'w',
        dtype: DT_FLOAT,
        shape: [4, 3],
        slices: [
          { extents: [[0, 2], [0, -1]], data: f32(W.slice(0, 2).flat()) },
          { extents: [[2, 2], [0, -1]], data: f32(W.slice(2).flat()) },
        ],
      },
      {
        key: 'v',
        dtype: DT_FLOAT,
        shape: [3, 2],
        // Stored in the opposite order: the full entry's slice list decides where each goes.
        slices: [
          { extents: [[0, -1], [1, 1]], data: f32(V.map((r) => r[1]!)) },
          { extents: [[0, -1], [0, 1]], data: f32(V.map((r) => r[0]!)) },
        ],
      },
    ],
  );
  writeMeta(dir, name);
  return dir;
}

const matmul = (a: number[][], b: number[][]): number[][] => a.map((row) => b[0]!.map((_, j) => row.reduce((s, v, k) => s + v * b[k]![j]!, 0)));

describe('partitioned variables', () => {
  it('assembles each key from its slices and restores each part from its slice spec', async () => {
    const model = await loadFolder(partitionedModel('partitioned'));
    const x = [[1, 0, 0, 0], [0.5, -2, 3, 1]];
    const outputs = await model.predict(tensorflowFormat.decode({ x }, model.signature));
    expect(outputs['y']!.shape).toEqual([2, 2]);
    expect(maxRelativeError(outputs['y']!.data as Float32Array, matmul(matmul(x, W), V).flat())).toBeLessThanOrEqual(TOLERANCE);
  });

  it('reads the assembled tensor, and any slice of it, from the bundle', async () => {
    const bundle = await openTensorBundle(join(partitionedModel('bundle-only'), 'variables', 'variables'));
    const whole = await bundle.read('v');
    expect(Array.from(new Float32Array(whole.content.buffer))).toEqual(V.flat());
    const part = await bundle.read('w', '4 3 1,2:1,2');
    expect(part.shape).toEqual([2, 2]);
    expect(Array.from(new Float32Array(part.content.buffer))).toEqual([5, 6, 0.5, 2]);
    await expect(bundle.read('w', '5 3 0,2:-')).rejects.toThrow('checkpoint tensor "w" has shape [4,3], but the graph restores a slice of a [5,3] tensor');
  });
});

describe('slice keys (OrderedCode)', () => {
  it.each([
    [[[0, -1]]],
    [[[2, 2], [0, -1]]],
    [[[63, 64], [100, 8191], [8192, 70000]]],
    [[[1_000_000_000, 3], [0, 1]]],
  ] as [number, number][][][])('decodes %j', (extents) => {
    const decoded = decodeSliceKey(sliceKey('layer/kernel', extents));
    expect(decoded).toEqual({ name: 'layer/kernel', extents: extents.map(([start, length]) => ({ start: length < 0 ? 0 : start, length })) });
  });

  it('ignores ordinary keys', () => {
    expect(decodeSliceKey(new TextEncoder().encode('w'))).toBeUndefined();
  });
});
