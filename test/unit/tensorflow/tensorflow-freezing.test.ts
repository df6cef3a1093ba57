/**
 * Freezing on crafted graphs: resource variables read by ReadVariableOp and
 * ResourceGather take the checkpoint values the restore op assigns them (keys
 * unlike the node names, as in TF2 checkpoints); what cannot be frozen fails at load.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tensorflowFormat } from '../../../functions/scorer/formats/tensorflow-format.js';
import { tempRoot } from '../../support/model-dir.js';
import { loadFolder, writeMeta } from './model-folders.js';
import { DT_FLOAT, constant, placeholder, stringConstant, writeSavedModel, type TestNode } from './saved-model-builder.js';
import { writeTensorBundle } from './tensor-bundle-writer.js';

const DT_INT32 = 3;
const root = tempRoot('dropscore-tf-freeze-');
afterAll(() => rmSync(root, { recursive: true, force: true }));

const EMBEDDING_KEY = 'layer-0/embeddings/.ATTRIBUTES/VARIABLE_VALUE';
const SCALE_KEY = 'layer-1/scale/.ATTRIBUTES/VARIABLE_VALUE';

/** y = embedding[ids] * scale, both variables restored by `save/restore_all`. */
function embeddingModel(name: string, options: { restoreScale: boolean }): string {
  const dir = join(root, name);
  const float = { T: { type: DT_FLOAT } };
  const variable = (n: string, shape: number[]): TestNode => ({ name: n, op: 'VarHandleOp', attr: { dtype: { type: DT_FLOAT }, shape: { shape } } });
  const keys = options.restoreScale ? [EMBEDDING_KEY, SCALE_KEY] : [EMBEDDING_KEY];
  const nodes: TestNode[] = [
    placeholder('ids', DT_INT32, [-1]),
    variable('embedding', [4, 2]),
    variable('scale', []),
    { name: 'lookup', op: 'ResourceGather', input: ['embedding', 'ids'], attr: { dtype: { type: DT_FLOAT }, Tindices: { type: DT_INT32 } } },
    { name: 'scale/read', op: 'ReadVariableOp', input: ['scale'], attr: { dtype: { type: DT_FLOAT } } },
    { name: 'y', op: 'Mul', input: ['lookup', 'scale/read'], attr: float },
    stringConstant('save/filename', ['model'], []),
    stringConstant('save/tensor_names', keys),
    stringConstant('save/shape_and_slices', keys.map(() => '')),
    { name: 'save/RestoreV2', op: 'RestoreV2', input: ['save/filename', 'save/tensor_names', 'save/shape_and_slices'], attr: { dtypes: { types: keys.map(() => DT_FLOAT) } } },
    { name: 'save/Identity', op: 'Identity', input: ['save/RestoreV2'], attr: float },
    { name: 'save/assign_0', op: 'AssignVariableOp', input: ['embedding', 'save/Identity'], attr: { dtype: { type: DT_FLOAT } } },
    ...(options.restoreScale
      ? [{ name: 'save/assign_1', op: 'AssignVariableOp', input: ['scale', 'save/RestoreV2:1'], attr: { dtype: { type: DT_FLOAT } } }]
      : []),
    { name: 'save/restore_all', op: 'NoOp', input: options.restoreScale ? ['^save/assign_0', '^save/assign_1'] : ['^save/assign_0'] },
  ];
  writeSavedModel(
    dir,
    nodes,
    { serving_default: { inputs: { ids: { name: 'ids:0', dtype: DT_INT32, shape: [-1] } }, outputs: { scaled: { name: 'y:0', dtype: DT_FLOAT, shape: [-1, 2] } } } },
    { filenameTensor: 'save/filename:0', restoreOp: 'save/restore_all' },
  );
  writeTensorBundle(join(dir, 'variables', 'variables'), [
    { key: EMBEDDING_KEY, dtype: DT_FLOAT, shape: [4, 2], data: new Uint8Array(Float32Array.from([0, 1, 2, 3, 4, 5, 6, 7]).buffer) },
    { key: SCALE_KEY, dtype: DT_FLOAT, shape: [], data: new Uint8Array(Float32Array.from([10]).buffer) },
  ]);
  writeMeta(dir, name);
  return dir;
}

describe('resource variables', () => {
  it('ResourceGather and ReadVariableOp read the values their restore op assigns', async () => {
    const model = await loadFolder(embeddingModel('embedding', { restoreScale: true }));
    const outputs = await model.predict(tensorflowFormat.decode({ ids: [3, 0, 1] }, model.signature));
    expect(tensorflowFormat.encode('ids.json', outputs, model.signature)).toEqual([{ filename: 'ids.json', scaled: [[60, 70], [0, 10], [20, 30]] }]);
  });

  it('a variable the restore op leaves alone has no known value', async () => {
    const error = await loadFolder(embeddingModel('unrestored', { restoreScale: false })).catch((e: unknown) => e);
    expect((error as Error).message).toBe('model "unrestored": variable "scale" is not restored by the graph\'s restore op, so its value is unknown');
  });
});

// While/If with library bodies run (tensorflow-control-flow.test.ts); a missing body or another function-running op does not.
it('control flow whose functions are missing, and Case, fail at load, naming the functions', async () => {
  const dir = join(root, 'while');
  writeSavedModel(
    dir,
    [
      placeholder('x', DT_FLOAT, [-1]),
      { name: 'loop', op: 'StatelessWhile', input: ['x'], attr: { T: { types: [DT_FLOAT] }, cond: { func: 'cond_fn' }, body: { func: 'body_fn' } } },
    ],
    { serving_default: { inputs: { x: { name: 'x:0', dtype: DT_FLOAT, shape: [-1] } }, outputs: { y: { name: 'loop:0', dtype: DT_FLOAT, shape: [-1] } } } },
  );
  writeMeta(dir, 'while');
  await expect(loadFolder(dir)).rejects.toThrow('model "while": StatelessWhile "loop" runs function "cond_fn", which is not in the function library');

  const caseDir = join(root, 'case');
  writeSavedModel(
    caseDir,
    [
      placeholder('i', DT_INT32, []),
      placeholder('x', DT_FLOAT, [-1]),
      { name: 'pick', op: 'Case', input: ['i', 'x'], attr: { Tin: { types: [DT_FLOAT] }, branches: { func: 'branch_0' } } },
    ],
    {
      serving_default: {
        inputs: { i: { name: 'i:0', dtype: DT_INT32, shape: [] }, x: { name: 'x:0', dtype: DT_FLOAT, shape: [-1] } },
        outputs: { y: { name: 'pick:0', dtype: DT_FLOAT, shape: [-1] } },
      },
    },
  );
  writeMeta(caseDir, 'case');
  await expect(loadFolder(caseDir)).rejects.toThrow('Case "pick" runs function(s) "branch_0"; of the ops that run functions, only While/StatelessWhile/If/StatelessIf are supported');
});

it('an output that is a constant survives repeated predictions', async () => {
  const dir = join(root, 'constant-output');
  writeSavedModel(
    dir,
    [placeholder('x', DT_FLOAT, [1]), constant('c', DT_FLOAT, [2], new Uint8Array(Float32Array.from([1.5, -2]).buffer)), { name: 'y', op: 'Neg', input: ['x'], attr: { T: { type: DT_FLOAT } } }],
    {
      serving_default: {
        inputs: { x: { name: 'x:0', dtype: DT_FLOAT, shape: [1] } },
        outputs: { bias: { name: 'c:0', dtype: DT_FLOAT, shape: [2] }, negated: { name: 'y:0', dtype: DT_FLOAT, shape: [1] } },
      },
    },
  );
  writeMeta(dir, 'constant-output');
  const model = await loadFolder(dir);
  for (const x of [3, 4]) {
    const outputs = await model.predict(tensorflowFormat.decode({ x: [x] }, model.signature));
    expect(tensorflowFormat.encode('c.json', outputs, model.signature)).toEqual([{ filename: 'c.json', bias: [1.5, -2], negated: [-x] }]);
  }
});
