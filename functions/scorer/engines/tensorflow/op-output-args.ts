/**
 * Inside a FunctionDef a node's output is named `node:<output arg>:<k>`,
 * while a GraphDef numbers a node's outputs flat (`node:<index>`). Turning one
 * into the other needs the op's output arguments (its OpDef). Ops with a single
 * output argument (most ops, including list outputs such as Split or
 * IdentityN) need no entry: the flat index is k. The table lists the
 * multi-output ops of TensorFlow's op registry that TensorFlow.js can run;
 * a `[name, attr]` pair is a list argument whose length is the integer attr.
 */
import type { FunctionDef, NodeDef } from './tf-graph.js';

type OutputArg = string | readonly [string, string];

const FUSED_BATCH_NORM = ['y', 'batch_mean', 'batch_variance', 'reserve_space_1', 'reserve_space_2'];

const MULTI_OUTPUT_OPS: Readonly<Record<string, readonly OutputArg[]>> = {
  FusedBatchNorm: FUSED_BATCH_NORM,
  FusedBatchNormV2: FUSED_BATCH_NORM,
  FusedBatchNormV3: [...FUSED_BATCH_NORM, 'reserve_space_3'],
  _FusedBatchNormEx: [...FUSED_BATCH_NORM, 'reserve_space_3'],
  ListDiff: ['out', 'idx'],
  MaxPoolWithArgmax: ['output', 'argmax'],
  Merge: ['output', 'value_index'],
  Switch: ['output_false', 'output_true'],
  NonMaxSuppressionV4: ['selected_indices', 'valid_outputs'],
  NonMaxSuppressionV5: ['selected_indices', 'selected_scores', 'valid_outputs'],
  RaggedGather: [['output_nested_splits', 'OUTPUT_RAGGED_RANK'], 'output_dense_values'],
  RaggedRange: ['rt_nested_splits', 'rt_dense_values'],
  SparseFillEmptyRows: ['output_indices', 'output_values', 'empty_row_indicator', 'reverse_index_map'],
  SparseReshape: ['output_indices', 'output_shape'],
  StringNGrams: ['ngrams', 'ngrams_splits'],
  StringSplit: ['indices', 'values', 'shape'],
  TensorArrayV3: ['handle', 'flow'],
  TensorArrayConcatV3: ['value', 'lengths'],
  TensorListConcat: ['tensor', 'lengths'],
  TensorListConcatV2: ['tensor', 'lengths'],
  TensorListPopBack: ['output_handle', 'tensor'],
  TopKV2: ['values', 'indices'],
  Unique: ['y', 'idx'],
  UniqueV2: ['y', 'idx'],
  RestoreV2: ['tensors'],
};

/**
 * The flat output index of `<outputArg>:<k>` on `node`; undefined when the op
 * is known and has no such argument (a malformed function).
 */
export function flatOutputIndex(node: NodeDef, outputArg: string, k: number, library: ReadonlyMap<string, FunctionDef>): number | undefined {
  const fn = library.get(node.op);
  if (fn) {
    // A direct call of a library function: one tensor per output argument.
    const position = fn.outputArgs.findIndex((a) => a.name === outputArg);
    return position < 0 ? undefined : position + k;
  }
  const args = MULTI_OUTPUT_OPS[node.op];
  if (!args) return k;
  let offset = 0;
  for (const arg of args) {
    const [name, countAttr] = typeof arg === 'string' ? [arg, undefined] : arg;
    if (name === outputArg) return offset + k;
    const count = countAttr === undefined ? 1 : node.attr[countAttr];
    offset += typeof count === 'number' ? count : count?.kind === 'i' ? count.value : 1;
  }
  return undefined;
}
