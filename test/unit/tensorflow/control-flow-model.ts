/**
 * A crafted TF2-style SavedModel with functional control flow (no shared
 * model has While/If): a While whose body reads a resource variable passed in
 * as an argument (as tf.function loops capture variables), and a StatelessIf,
 * both with function-library bodies. Used by the tests and the benchmark.
 */
import { join } from 'node:path';
import { writeMeta } from './model-folders.js';
import { DT_FLOAT, constant, placeholder, stringConstant, writeSavedModel, type TestFunction, type TestNode } from './saved-model-builder.js';
import { writeTensorBundle } from './tensor-bundle-writer.js';

const DT_INT32 = 3;
const DT_BOOL = 10;
const DT_RESOURCE = 20;
const W = [0.5, -2];
const B = 1;
const STEPS = 3;

const f32 = (values: number[]): Uint8Array => new Uint8Array(Float32Array.from(values).buffer);
const i32 = (values: number[]): Uint8Array => new Uint8Array(Int32Array.from(values).buffer);
const float = { T: { type: DT_FLOAT } };

export const LOOP_ARGS = [
  { name: 'i', type: DT_INT32 },
  { name: 'acc', type: DT_FLOAT },
  { name: 'w', type: DT_RESOURCE },
];

export const FUNCTIONS: TestFunction[] = [
  {
    name: 'loop_cond',
    inputs: LOOP_ARGS,
    outputs: [{ name: 'keep_going', type: DT_BOOL }],
    nodes: [constant('steps', DT_INT32, [], i32([STEPS])), { name: 'less', op: 'Less', input: ['i', 'steps:output:0'], attr: { T: { type: DT_INT32 } } }],
    ret: { keep_going: 'less:z:0' },
  },
  {
    name: 'loop_body',
    inputs: LOOP_ARGS,
    outputs: [
      { name: 'i_next', type: DT_INT32 },
      { name: 'acc_next', type: DT_FLOAT },
      { name: 'w_out', type: DT_RESOURCE },
    ],
    nodes: [
      constant('one', DT_INT32, [], i32([1])),
      constant('b', DT_FLOAT, [], f32([B])),
      { name: 'next', op: 'AddV2', input: ['i', 'one:output:0'], attr: { T: { type: DT_INT32 } } },
      { name: 'read', op: 'ReadVariableOp', input: ['w'], attr: { dtype: { type: DT_FLOAT } } },
      { name: 'scaled', op: 'Mul', input: ['acc', 'read:value:0'], attr: float },
      { name: 'shifted', op: 'AddV2', input: ['scaled:z:0', 'b:output:0'], attr: float },
    ],
    ret: { i_next: 'next:z:0', acc_next: 'shifted:z:0', w_out: 'w' },
  },
  {
    name: 'double_it',
    inputs: [{ name: 'a', type: DT_FLOAT }],
    outputs: [{ name: 'out', type: DT_FLOAT }],
    nodes: [constant('two', DT_FLOAT, [], f32([2])), { name: 'times', op: 'Mul', input: ['a', 'two:output:0'], attr: float }],
    ret: { out: 'times:z:0' },
  },
  {
    name: 'minus_one',
    inputs: [{ name: 'a', type: DT_FLOAT }],
    outputs: [{ name: 'out', type: DT_FLOAT }],
    nodes: [constant('one', DT_FLOAT, [], f32([1])), { name: 'minus', op: 'Sub', input: ['a', 'one:output:0'], attr: float }],
    ret: { out: 'minus:z:0' },
  },
];

export function controlFlowModel(root: string, name: string, functions: TestFunction[] = FUNCTIONS): string {
  const dir = join(root, name);
  const nodes: TestNode[] = [
    placeholder('x', DT_FLOAT, [-1, 2]),
    { name: 'w', op: 'VarHandleOp', attr: { dtype: { type: DT_FLOAT }, shape: { shape: [2] } } },
    constant('i0', DT_INT32, [], i32([0])),
    {
      name: 'loop',
      op: 'While',
      input: ['i0', 'x', 'w'],
      attr: { T: { types: [DT_INT32, DT_FLOAT, DT_RESOURCE] }, cond: { func: 'loop_cond' }, body: { func: 'loop_body' } },
    },
    { name: 'y', op: 'Identity', input: ['loop:1'], attr: float },
    constant('zero', DT_FLOAT, [], f32([0])),
    constant('axes', DT_INT32, [2], i32([0, 1])),
    { name: 'total', op: 'Sum', input: ['x', 'axes'], attr: { T: { type: DT_FLOAT }, Tidx: { type: DT_INT32 } } },
    { name: 'positive', op: 'Greater', input: ['total', 'zero'], attr: float },
    {
      name: 'branch',
      op: 'StatelessIf',
      input: ['positive', 'y'],
      attr: { Tcond: { type: DT_BOOL }, Tin: { types: [DT_FLOAT] }, Tout: { types: [DT_FLOAT] }, then_branch: { func: 'double_it' }, else_branch: { func: 'minus_one' } },
    },
    { name: 'z', op: 'Identity', input: ['branch'], attr: float },
    stringConstant('save/filename', ['model'], []),
    stringConstant('save/tensor_names', ['w/.ATTRIBUTES/VARIABLE_VALUE']),
    stringConstant('save/shape_and_slices', ['']),
    { name: 'save/RestoreV2', op: 'RestoreV2', input: ['save/filename', 'save/tensor_names', 'save/shape_and_slices'], attr: { dtypes: { types: [DT_FLOAT] } } },
    { name: 'save/assign', op: 'AssignVariableOp', input: ['w', 'save/RestoreV2'], attr: { dtype: { type: DT_FLOAT } } },
    { name: 'save/restore_all', op: 'NoOp', input: ['^save/assign'] },
  ];
  writeSavedModel(
    dir,
    nodes,
    {
      serving_default: {
        inputs: { x: { name: 'x:0', dtype: DT_FLOAT, shape: [-1, 2] } },
        outputs: { y: { name: 'y:0', dtype: DT_FLOAT, shape: [-1, 2] }, z: { name: 'z:0', dtype: DT_FLOAT, shape: [-1, 2] } },
      },
    },
    { filenameTensor: 'save/filename:0', restoreOp: 'save/restore_all' },
    functions,
  );
  writeTensorBundle(join(dir, 'variables', 'variables'), [{ key: 'w/.ATTRIBUTES/VARIABLE_VALUE', dtype: DT_FLOAT, shape: [2], data: f32(W) }]);
  writeMeta(dir, name);
  return dir;
}

/** The model's meaning, in float64. */
export function reference(rows: number[][]): { y: number[]; z: number[] } {
  const y = rows.map((row) =>
    row.map((v, j) => {
      let acc = v;
      for (let s = 0; s < STEPS; s++) acc = acc * W[j]! + B;
      return acc;
    }),
  );
  const total = rows.flat().reduce((a, b) => a + b, 0);
  return { y: y.flat(), z: y.flat().map((v) => (total > 0 ? v * 2 : v - 1)) };
}

