/**
 * Collects the nodes and initializers a translation emits, and hands out
 * value names that never collide with a Caffe blob name, so graph inputs and
 * outputs can carry the blob names users write in their records.
 */
import type { OnnxAttribute, OnnxGraph, OnnxInitializer, OnnxNode, OnnxValueInfo } from '../../../onnx-proto/onnx-model-builder.js';

export class OnnxGraphBuilder {
  private readonly nodes: OnnxNode[] = [];
  private readonly initializers: OnnxInitializer[] = [];
  private readonly taken: Set<string>;

  constructor(reserved: Iterable<string>) {
    this.taken = new Set(reserved);
  }

  uniqueName(hint: string): string {
    let name = hint;
    for (let i = 2; this.taken.has(name); i++) name = `${hint}_${i}`;
    this.taken.add(name);
    return name;
  }

  /** One node with `outputCount` fresh outputs named after `hint`. */
  node(opType: string, inputs: readonly string[], hint: string, attributes?: Readonly<Record<string, OnnxAttribute>>, outputCount = 1): string[] {
    const outputs = Array.from({ length: outputCount }, (_, i) => this.uniqueName(outputCount === 1 ? hint : `${hint}:${i}`));
    this.nodes.push({ opType, inputs, outputs, name: outputs[0], attributes });
    return outputs;
  }

  op(opType: string, inputs: readonly string[], hint: string, attributes?: Readonly<Record<string, OnnxAttribute>>): string {
    return this.node(opType, inputs, hint, attributes)[0]!;
  }

  /** A node whose single output gets an exact name (a graph output). */
  namedOp(opType: string, inputs: readonly string[], output: string): void {
    this.nodes.push({ opType, inputs, outputs: [output], name: output });
  }

  floats(hint: string, dims: readonly number[], values: ArrayLike<number>): string {
    const name = this.uniqueName(hint);
    this.initializers.push({ name, dims, data: values instanceof Float32Array ? values : Float32Array.from(values) });
    return name;
  }

  int64s(hint: string, values: readonly number[]): string {
    const name = this.uniqueName(hint);
    this.initializers.push({ name, dims: [values.length], data: BigInt64Array.from(values, (v) => BigInt(v)) });
    return name;
  }

  /** Renames a value everywhere it appears (used to give a graph output its blob name). */
  rename(from: string, to: string): void {
    const swap = (names: readonly string[]): string[] => names.map((n) => (n === from ? to : n));
    for (let i = 0; i < this.nodes.length; i++) {
      const node = this.nodes[i]!;
      this.nodes[i] = { ...node, inputs: swap(node.inputs), outputs: swap(node.outputs), name: node.name === from ? to : node.name };
    }
  }

  isProducedByNode(value: string): boolean {
    return this.nodes.some((n) => n.outputs.includes(value));
  }

  finish(name: string, inputs: readonly OnnxValueInfo[], outputs: readonly OnnxValueInfo[], docString: string): OnnxGraph {
    return { name, nodes: this.nodes, initializers: this.initializers, inputs, outputs, opsetVersion: 13, producerName: 'dropscore caffe translator', docString };
  }
}
