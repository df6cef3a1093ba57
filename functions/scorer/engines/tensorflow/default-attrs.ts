/**
 * Puts back the attrs a SavedModel writer stripped because they held their
 * default value, as TensorFlow's loader does before running a graph:
 * executors (TensorFlow.js included) read e.g. Conv2D's `dilations` and would
 * otherwise find nothing.
 */
import type { AttrDefaults } from './saved-model-decoder.js';
import type { AttrValue, FunctionDef, GraphDef, NodeDef } from './tf-graph.js';

export function withDefaultAttrs(graph: GraphDef, defaults: AttrDefaults): GraphDef {
  if (defaults.size === 0) return graph;
  const fill = (node: NodeDef): NodeDef => {
    const known = defaults.get(node.op);
    if (!known) return node;
    let attr: Record<string, AttrValue> | undefined;
    for (const [name, value] of known) {
      if (name in node.attr) continue;
      attr ??= { ...node.attr };
      attr[name] = value;
    }
    return attr ? { ...node, attr } : node;
  };
  const functions = new Map<string, FunctionDef>();
  for (const [name, fn] of graph.functions) functions.set(name, { ...fn, nodes: fn.nodes.map(fill) });
  return { ...graph, nodes: graph.nodes.map(fill), functions };
}
