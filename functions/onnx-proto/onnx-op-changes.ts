/**
 * How default-domain (ai.onnx) operators changed from opset 1 to opset 7, per
 * the ONNX operator changelog (docs/Changelog.md, "Version N of the default
 * ONNX operator set"), and how to rewrite a node written for the old version
 * into one with the same meaning under the new one. Every operator with a new
 * version in opsets 2-7 is listed: an operator missing here kept its schema
 * through opset 7, so its nodes need no rewrite. A change that cannot be
 * rewritten (or only under conditions a node does not meet) throws
 * UpgradeRefusal with the reason.
 */
import { readAttribute, type EditableAttribute, type EditableNode } from './onnx-model-editor.js';

export class UpgradeRefusal extends Error {}

export interface RewriteContext {
  readonly initializerDims: ReadonlyMap<string, readonly number[]>;
  /** A node name not yet used in the graph, for nodes a rewrite adds. */
  freshName(base: string): string;
}

/** Rewrites one node in place to the op version `since`; may return extra nodes to insert before it. */
type Rewrite = (node: EditableNode, context: RewriteContext) => EditableNode[] | void;

export interface OpChange {
  readonly since: number;
  /** What changed, for the load note. */
  readonly what: string;
  readonly rewrite: Rewrite;
}

/** The opset old models are brought to: the oldest one onnxruntime still has kernels for. */
export const UPGRADE_TARGET_OPSET = 7;

const unchanged: Rewrite = () => undefined;

function attribute(node: EditableNode, name: string): ReturnType<typeof readAttribute> | undefined {
  const found = node.attributes.find((a) => a.name === name);
  return found ? readAttribute(found) : undefined;
}

function dropAttributes(...names: string[]): (node: EditableNode) => void {
  return (node) => {
    node.attributes = node.attributes.filter((a) => !names.includes(a.name));
  };
}

function setAttribute(node: EditableNode, replacement: EditableAttribute, ...replaced: string[]): void {
  node.attributes = [...node.attributes.filter((a) => a.name !== replacement.name && !replaced.includes(a.name)), replacement];
}

/** Opset 6 removed `consumed_inputs` (an in-place hint) and widened type constraints. */
const CONSUMED_INPUTS_REMOVED: OpChange = { since: 6, what: 'dropped "consumed_inputs"', rewrite: dropAttributes('consumed_inputs') };

/**
 * Opset 7 replaced the `broadcast`/`axis` attributes with numpy broadcasting.
 * Without `broadcast` the shapes were equal, and without `axis` the second
 * operand matched a suffix of the first: numpy broadcasting gives the same
 * result in both cases. An `axis` aligns the operand elsewhere, which numpy
 * rules can only express with the first operand's rank, not known here.
 */
const NUMPY_BROADCASTING: OpChange = {
  since: 7,
  what: 'dropped "broadcast" (numpy broadcasting)',
  rewrite: (node) => {
    const broadcast = attribute(node, 'broadcast')?.i ?? 0;
    if (broadcast !== 0 && attribute(node, 'axis') !== undefined) {
      throw new UpgradeRefusal(`legacy broadcasting along "axis" (numpy broadcasting aligns trailing dimensions; the rewrite would need the first operand's rank)`);
    }
    dropAttributes('broadcast', 'axis')(node);
  },
};

/** TensorProto.DataType codes for Cast-1's string `to`. */
const DATA_TYPES: Readonly<Record<string, number>> = {
  FLOAT: 1, UINT8: 2, INT8: 3, UINT16: 4, INT16: 5, INT32: 6, INT64: 7, STRING: 8, BOOL: 9, FLOAT16: 10, DOUBLE: 11, UINT32: 12, UINT64: 13,
};

const ELEMENTWISE_V6 = [
  'Abs', 'Add', 'Ceil', 'Clip', 'Div', 'Elu', 'Exp', 'Floor', 'HardSigmoid', 'InstanceNormalization', 'LeakyRelu', 'Log', 'Max', 'Mean',
  'Min', 'Mul', 'Neg', 'Reciprocal', 'Relu', 'Selu', 'Sigmoid', 'Sqrt', 'Sub', 'Sum', 'Tanh',
];
const BROADCASTING_V7 = ['Add', 'Sub', 'Mul', 'Div', 'Pow', 'And', 'Or', 'Xor', 'Equal', 'Greater', 'Less'];

function pIntegral(node: EditableNode): void {
  const p = attribute(node, 'p');
  if (p?.f === undefined) return;
  if (!Number.isInteger(p.f)) throw new UpgradeRefusal(`p = ${p.f} is not an integer, which opset 2 requires`);
  setAttribute(node, { name: 'p', value: { int: p.f } });
}

export const OP_CHANGES: Readonly<Record<string, readonly OpChange[]>> = buildTable();

function buildTable(): Record<string, OpChange[]> {
  const table: Record<string, OpChange[]> = {};
  const add = (op: string, change: OpChange): void => {
    (table[op] ??= []).push(change);
  };
  for (const op of ELEMENTWISE_V6) add(op, CONSUMED_INPUTS_REMOVED);
  for (const op of BROADCASTING_V7) add(op, NUMPY_BROADCASTING);

  add('GlobalLpPool', { since: 2, what: '"p" became an integer', rewrite: pIntegral });
  add('LpPool', { since: 2, what: '"p" became an integer', rewrite: pIntegral });
  add('Pad', {
    since: 2,
    what: '"paddings" renamed "pads"',
    rewrite: (node) => {
      const paddings = attribute(node, 'paddings');
      if (paddings) setAttribute(node, { name: 'pads', value: { ints: paddings.ints ?? [] } }, 'paddings');
    },
  });
  add('Split', {
    since: 2,
    what: 'split lengths only as the "split" attribute',
    rewrite: (node) => {
      if (node.inputs.length > 1 && node.inputs[1] !== '') throw new UpgradeRefusal('split lengths given as a second input (opset 2 takes them only as an attribute)');
    },
  });
  add('GRU', { since: 3, what: 'added "linear_before_reset" (default 0, the old behaviour)', rewrite: unchanged });
  add('Concat', {
    since: 4,
    what: '"axis" became required (the old default was 1)',
    rewrite: (node) => {
      if (!attribute(node, 'axis')) setAttribute(node, { name: 'axis', value: { int: 1 } });
    },
  });
  add('Reshape', {
    since: 5,
    what: 'the target shape moved from an attribute to a Constant input',
    rewrite: (node, context) => {
      const shape = attribute(node, 'shape');
      if (!shape?.ints) throw new UpgradeRefusal('Reshape-1 without a "shape" attribute');
      const constantOutput = context.freshName(`${node.name || node.outputs[0]}_shape`);
      const constant: EditableNode = {
        opType: 'Constant',
        domain: '',
        inputs: [],
        outputs: [constantOutput],
        name: constantOutput,
        attributes: [{ name: 'value', value: { tensor: { name: constantOutput, dims: [shape.ints.length], data: BigInt64Array.from(shape.ints, (d) => BigInt(d)) } } }],
        otherFields: [],
      };
      node.inputs = [node.inputs[0]!, constantOutput];
      dropAttributes('shape', 'consumed_inputs')(node);
      return [constant];
    },
  });

  add('BatchNormalization', CONSUMED_INPUTS_REMOVED);
  add('Dropout', CONSUMED_INPUTS_REMOVED);
  add('PRelu', CONSUMED_INPUTS_REMOVED);
  add('Gemm', { since: 6, what: 'type constraints widened', rewrite: unchanged });
  add('Cast', {
    since: 6,
    what: '"to" became a DataType code',
    rewrite: (node) => {
      const to = attribute(node, 'to');
      if (to?.s === undefined) return;
      const code = DATA_TYPES[to.s.toUpperCase()];
      if (code === undefined) throw new UpgradeRefusal(`Cast to unknown type "${to.s}"`);
      setAttribute(node, { name: 'to', value: { int: code } });
    },
  });
  add('Tile', {
    since: 6,
    what: 'inputs changed from (tiles, axis) to a repeats vector',
    rewrite: () => {
      throw new UpgradeRefusal('Tile-1 takes (tiles, axis) inputs where Tile-6 takes one repeats vector; no rewrite is implemented');
    },
  });

  add('Gemm', { since: 7, what: 'dropped "broadcast" (C broadcasts unidirectionally)', rewrite: dropAttributes('broadcast') });
  add('AveragePool', { since: 7, what: 'added "count_include_pad" (default 0, the old behaviour)', rewrite: unchanged });
  add('BatchNormalization', {
    since: 7,
    what: 'dropped "is_test"',
    rewrite: (node) => {
      if (node.outputs.filter((o) => o !== '').length > 1) throw new UpgradeRefusal('BatchNormalization in training mode (running statistics as outputs)');
      dropAttributes('is_test')(node);
    },
  });
  add('Dropout', { since: 7, what: 'dropped "is_test" (inference is the identity)', rewrite: dropAttributes('is_test') });
  for (const op of ['GRU', 'LSTM', 'RNN']) add(op, { since: 7, what: 'dropped "output_sequence" (outputs are optional)', rewrite: dropAttributes('output_sequence') });
  add('PRelu', {
    since: 7,
    what: 'slope broadcasts unidirectionally',
    rewrite: (node, context) => {
      const dims = context.initializerDims.get(node.inputs[1] ?? '');
      if (!dims || dims.reduce((a, b) => a * b, 1) !== 1) {
        throw new UpgradeRefusal('a slope that is not a single constant value (per-channel slopes broadcast differently from opset 7)');
      }
    },
  });
  add('Upsample', {
    since: 7,
    what: '"height_scale"/"width_scale" became "scales", mode "bilinear" became "linear"',
    rewrite: (node) => {
      const height = attribute(node, 'height_scale')?.f;
      const width = attribute(node, 'width_scale')?.f;
      if (height !== undefined || width !== undefined) {
        setAttribute(node, { name: 'scales', value: { floats: [1, 1, height ?? 1, width ?? 1] } }, 'height_scale', 'width_scale');
      }
      if (attribute(node, 'mode')?.s === 'bilinear') setAttribute(node, { name: 'mode', value: { string: 'linear' } });
    },
  });
  for (const changes of Object.values(table)) changes.sort((a, b) => a.since - b.since);
  return table;
}
