/**
 * Which checkpoint key holds the value of which variable node, read from the
 * graph's own restore op (SaverDef.restore_op_name), i.e. exactly what
 * TensorFlow runs when it loads a SavedModel's variables the TF1 way:
 * every `Assign` / `AssignVariableOp` under the restore op writes output k
 * of a `RestoreV2` node into a variable, and that RestoreV2's `tensor_names`
 * constant names the checkpoint key at position k.
 *
 * TF2 SavedModels keep this op too (a call into `__inference__traced_restore`),
 * so one rule covers TF1 graphs (VariableV2 + Assign) and TF2 graphs
 * (VarHandleOp + AssignVariableOp on the function's captured handles) without
 * reading the object graph.
 */
import { ModelLoadError } from '../../domain/errors.js';
import type { WorkingGraph } from './function-inliner.js';
import { DT, parseTensorRef, type NodeDef } from './tf-graph.js';

const ASSIGN_OPS = new Set(['Assign', 'AssignVariableOp']);
export const VARIABLE_OPS = new Set(['VariableV2', 'Variable', 'VarHandleOp']);
/** Ops that pass a tensor or handle through unchanged. */
export const PASS_THROUGH_OPS = new Set(['Identity', 'Snapshot', 'StopGradient']);

/**
 * Variable node name → checkpoint key. A part of a partitioned variable is
 * restored from a slice of its key: `slices` receives its shape-and-slice
 * string (e.g. `"4 2 0,2:-"`).
 */
export function checkpointKeysFromRestoreOp(graph: WorkingGraph, restoreOpName: string, slices = new Map<string, string>()): Map<string, string> {
  const restoreNode = parseTensorRef(restoreOpName).node;
  if (!graph.nodes.has(restoreNode)) throw new ModelLoadError(`the SaverDef's restore op "${restoreOpName}" is not in the graph`);
  const subgraph = graph.inlineFrom([restoreNode], true);
  const keys = new Map<string, string>();
  for (const name of subgraph) {
    const assign = graph.nodes.get(name);
    if (!assign || !ASSIGN_OPS.has(assign.op) || assign.input.length < 2) continue;
    const variable = producerThrough(graph, assign.input[0]!);
    const value = producerThrough(graph, assign.input[1]!);
    if (!variable || !VARIABLE_OPS.has(variable.node.op)) continue;
    if (!value || value.node.op !== 'RestoreV2') continue;
    const names = constantStrings(graph, value.node.input[1]);
    const shapeAndSlices = constantStrings(graph, value.node.input[2]);
    const key = names?.[value.index];
    if (key === undefined) throw new ModelLoadError(`restore op "${value.node.name}": cannot read the checkpoint key of output ${value.index}`);
    keys.set(variable.node.name, key);
    const slice = shapeAndSlices?.[value.index];
    if (slice) slices.set(variable.node.name, slice);
  }
  return keys;
}

/** The node (and output index) that produces `ref`, looking through identities. */
export function producerThrough(graph: WorkingGraph, ref: string): { node: NodeDef; index: number } | undefined {
  let { node: name, index } = parseTensorRef(graph.resolve(ref));
  for (let hops = 0; hops <= graph.nodes.size; hops++) {
    const node = graph.nodes.get(name);
    if (!node) return undefined;
    if (!PASS_THROUGH_OPS.has(node.op) || node.input.length === 0) return { node, index };
    ({ node: name, index } = parseTensorRef(graph.resolve(node.input[0]!)));
  }
  return undefined;
}

function constantStrings(graph: WorkingGraph, ref: string | undefined): string[] | undefined {
  if (ref === undefined) return undefined;
  const producer = producerThrough(graph, ref);
  const value = producer?.node.op === 'Const' ? producer.node.attr['value'] : undefined;
  if (value?.kind !== 'tensor' || value.value.dtype !== DT.STRING) return undefined;
  const decoder = new TextDecoder();
  return (value.value.strings ?? []).map((s) => decoder.decode(s));
}
