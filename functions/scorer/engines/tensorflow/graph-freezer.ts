/**
 * Turns the (inlined) serving graph into a frozen inference graph: only the
 * nodes the fetched tensors depend on through data edges, variables replaced
 * by constants holding their checkpoint values, and the fed tensors made
 * placeholders. Control edges are dropped: what they order are side effects
 * (initialisers, assignments, summaries) that inference does not run.
 */
import { ModelLoadError } from '../../domain/errors.js';
import { isControlFlowOp } from './control-flow-library.js';
import { PASS_THROUGH_OPS, VARIABLE_OPS, producerThrough } from './checkpoint-keys.js';
import type { WorkingGraph } from './function-inliner.js';
import { DT, attrType, baseType, dtypeName, parseTensorRef, type AttrValue, type NodeDef, type TensorShape, type TensorValue } from './tf-graph.js';

export interface Feed {
  readonly tensor: string;
  readonly dtype: number;
  readonly shape: TensorShape;
}

/** Reads a variable's value (from the checkpoint, given its variable node). */
export type VariableReader = (variableNode: string) => Promise<TensorValue>;

const RESOURCE_READERS = new Set(['ReadVariableOp', 'ResourceGather']);
const PLACEHOLDER_OPS = new Set(['Placeholder', 'PlaceholderV2']);

export async function freezeGraph(graph: WorkingGraph, feeds: readonly Feed[], fetches: readonly string[], readVariable: VariableReader): Promise<NodeDef[]> {
  const fedNodes = new Map<string, Feed>();
  for (const feed of feeds) {
    const { node, index } = parseTensorRef(graph.resolve(feed.tensor));
    const producer = graph.nodes.get(node);
    if (!producer) throw new ModelLoadError(`signature input tensor "${feed.tensor}" is not in the graph`);
    if (index !== 0 && !PLACEHOLDER_OPS.has(producer.op)) throw new ModelLoadError(`signature input "${feed.tensor}" is output ${index} of ${producer.op} "${node}"; only first outputs can be fed`);
    fedNodes.set(node, feed);
  }

  // Fed nodes stay even when no output depends on them, so every signature input can be fed.
  const needed = new Set<string>(fedNodes.keys());
  const variables = new Map<string, NodeDef>();
  const stack = fetches.map((f) => parseTensorRef(graph.resolve(f)).node);
  const visited = new Set<string>();
  while (stack.length > 0) {
    const name = stack.pop()!;
    if (visited.has(name)) continue;
    visited.add(name);
    const node = graph.nodes.get(name);
    if (!node) throw new ModelLoadError(`the serving graph references a node "${name}" that does not exist`);
    needed.add(name);
    if (fedNodes.has(name)) continue;
    if (VARIABLE_OPS.has(node.op)) {
      variables.set(name, node);
      continue;
    }
    for (const [i, input] of node.input.entries()) {
      if (input.startsWith('^')) continue;
      if (i === 0 && RESOURCE_READERS.has(node.op)) {
        const variable = producerThrough(graph, input);
        if (!variable || !VARIABLE_OPS.has(variable.node.op)) throw new ModelLoadError(`${node.op} "${name}" reads a resource that is not a variable (${variable?.node.op ?? 'unknown'}), which cannot be frozen`);
        variables.set(variable.node.name, variable.node);
        continue;
      }
      stack.push(parseTensorRef(input).node);
    }
  }

  const unfed = [...needed].filter((n) => PLACEHOLDER_OPS.has(graph.nodes.get(n)!.op) && !fedNodes.has(n));
  if (unfed.length > 0) throw new ModelLoadError(`the signature's outputs depend on placeholder(s) ${unfed.map((n) => `"${n}"`).join(', ')}, which are not signature inputs`);

  const values = new Map<string, TensorValue>();
  for (const name of variables.keys()) values.set(name, await readVariable(name));

  const frozen: NodeDef[] = [];
  const taken = new Set(graph.nodes.keys());
  for (const [name, variable] of variables) frozen.push(constNode(name, checkVariable(variable, values.get(name)!)));
  for (const name of needed) {
    if (variables.has(name)) continue;
    const node = graph.nodes.get(name)!;
    const feed = fedNodes.get(name);
    if (feed) {
      frozen.push(placeholderNode(name, feed));
      continue;
    }
    const input = node.input.filter((i) => !i.startsWith('^')).map((i) => graph.resolve(i));
    if (node.op === 'ReadVariableOp') {
      const variable = producerThrough(graph, input[0]!)!.node.name;
      frozen.push({ name, op: 'Identity', input: [variable], device: '', attr: { T: { kind: 'type', value: values.get(variable)!.dtype } } });
    } else if (node.op === 'ResourceGather') {
      frozen.push(...gatherFromConstant(node, producerThrough(graph, input[0]!)!.node.name, input[1]!, values, taken));
    } else if (isControlFlowOp(node.op)) {
      // Its functions, and variables it passes them, are frozen by control-flow-library.ts.
      frozen.push({ ...node, input, device: '' });
    } else {
      rejectResourceInputs(node, input, graph);
      rejectFunctionAttrs(node);
      frozen.push({ ...node, input, device: '' });
    }
  }
  return frozen;
}

function checkVariable(variable: NodeDef, value: TensorValue): TensorValue {
  const declared = attrType(variable, 'dtype');
  if (declared !== undefined && baseType(declared) !== value.dtype) {
    throw new ModelLoadError(`variable "${variable.name}" is ${dtypeName(declared)} but its checkpoint value is ${dtypeName(value.dtype)}`);
  }
  const shape = variable.attr['shape'];
  if (shape?.kind === 'shape' && shape.value.dims !== null) {
    const dims = shape.value.dims;
    const fits = dims.length === value.shape.length && dims.every((d, i) => d < 0 || d === value.shape[i]);
    if (!fits) throw new ModelLoadError(`variable "${variable.name}" has shape [${dims.join(',')}] but its checkpoint value has shape [${value.shape.join(',')}]`);
  }
  return value;
}

function constNode(name: string, value: TensorValue): NodeDef {
  return { name, op: 'Const', input: [], device: '', attr: { dtype: { kind: 'type', value: value.dtype }, value: { kind: 'tensor', value } } };
}

function placeholderNode(name: string, feed: Feed): NodeDef {
  const attr: Record<string, AttrValue> = { dtype: { kind: 'type', value: feed.dtype }, shape: { kind: 'shape', value: feed.shape } };
  return { name, op: 'Placeholder', input: [], device: '', attr };
}

/** ResourceGather(var, indices) is GatherV2(value, indices, axis 0) once the variable is a constant. */
function gatherFromConstant(node: NodeDef, variable: string, indices: string, values: Map<string, TensorValue>, taken: Set<string>): NodeDef[] {
  let axisName = `${node.name}/axis`;
  for (let n = 1; taken.has(axisName); n++) axisName = `${node.name}/axis_${n}`;
  taken.add(axisName);
  const axis: TensorValue = { dtype: DT.INT32, shape: [], content: new Uint8Array(4) };
  const batchDims = node.attr['batch_dims'] ?? { kind: 'i', value: 0 };
  const gather: NodeDef = {
    name: node.name,
    op: 'GatherV2',
    input: [variable, indices, axisName],
    device: '',
    attr: {
      Tparams: { kind: 'type', value: values.get(variable)!.dtype },
      Tindices: node.attr['Tindices'] ?? { kind: 'type', value: DT.INT32 },
      Taxis: { kind: 'type', value: DT.INT32 },
      batch_dims: batchDims,
    },
  };
  return [constNode(axisName, axis), gather];
}

/** Reads were rewritten above; any other use of a resource variable (assignments, scatters) has no constant equivalent. */
function rejectResourceInputs(node: NodeDef, inputs: string[], graph: WorkingGraph): void {
  if (PASS_THROUGH_OPS.has(node.op)) return;
  for (const input of inputs) {
    const producer = producerThrough(graph, input)?.node;
    if (producer?.op === 'VarHandleOp') {
      throw new ModelLoadError(`${node.op} "${node.name}" uses variable "${producer.name}" in a way that cannot be frozen into a constant (only reads can)`);
    }
  }
}

/** Other ops running functions (Case, MapDataset, ...) are not supported: say so at load. */
function rejectFunctionAttrs(node: NodeDef): void {
  const functions = Object.values(node.attr).flatMap((a) => (a.kind === 'func' ? [a.value.name] : a.kind === 'list' ? a.value.func.map((f) => f.name) : []));
  if (functions.length > 0) {
    throw new ModelLoadError(`${node.op} "${node.name}" runs function(s) ${functions.map((f) => `"${f}"`).join(', ')}; of the ops that run functions, only While/StatelessWhile/If/StatelessIf are supported`);
  }
}
