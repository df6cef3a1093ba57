/**
 * Encodes an ONNX ModelProto from a plain description of a graph, so that
 * converters (Keras at build time, Caffe at load time) can hand their nets to
 * onnxruntime, the one native engine we ship. Field numbers are from onnx.proto.
 */
import { ProtobufWriter } from '../protobuf/protobuf-writer.js';

export type OnnxElemType = 'float32' | 'float64' | 'int32' | 'int64';

const ELEM_TYPE_CODES: Record<OnnxElemType, number> = { float32: 1, int32: 6, int64: 7, float64: 11 };

export type OnnxAttribute =
  | { int: number }
  | { ints: readonly number[] }
  | { float: number }
  | { floats: readonly number[] }
  | { string: string }
  | { tensor: OnnxInitializer };

export interface OnnxNode {
  opType: string;
  inputs: readonly string[];
  outputs: readonly string[];
  name?: string;
  attributes?: Readonly<Record<string, OnnxAttribute>>;
}

export interface OnnxInitializer {
  name: string;
  dims: readonly number[];
  data: Float32Array | Float64Array | Int32Array | BigInt64Array;
}

export interface OnnxValueInfo {
  name: string;
  elemType: OnnxElemType;
  /** A string is a symbolic dimension (e.g. the batch size). */
  shape: readonly (number | string)[];
}

export interface OnnxGraph {
  name: string;
  nodes: readonly OnnxNode[];
  initializers: readonly OnnxInitializer[];
  inputs: readonly OnnxValueInfo[];
  outputs: readonly OnnxValueInfo[];
  opsetVersion: number;
  producerName: string;
  docString?: string;
}

const IR_VERSION = 7;

export function encodeOnnxModel(graph: OnnxGraph): Uint8Array {
  const model = new ProtobufWriter();
  model.varint(1, IR_VERSION);
  model.string(2, graph.producerName);
  if (graph.docString) model.string(6, graph.docString);
  model.message(7, (g) => writeGraph(g, graph));
  model.message(8, (opset) => opset.string(1, '').varint(2, graph.opsetVersion));
  return model.finish();
}

function writeGraph(g: ProtobufWriter, graph: OnnxGraph): void {
  for (const node of graph.nodes) g.message(1, (n) => writeNode(n, node));
  g.string(2, graph.name);
  for (const init of graph.initializers) g.message(5, (t) => writeTensor(t, init));
  for (const input of graph.inputs) g.message(11, (v) => writeValueInfo(v, input));
  for (const output of graph.outputs) g.message(12, (v) => writeValueInfo(v, output));
}

function writeNode(n: ProtobufWriter, node: OnnxNode): void {
  for (const input of node.inputs) n.string(1, input);
  for (const output of node.outputs) n.string(2, output);
  n.string(3, node.name ?? node.outputs[0] ?? node.opType);
  n.string(4, node.opType);
  for (const [name, value] of Object.entries(node.attributes ?? {})) {
    n.message(5, (a) => writeAttribute(a, name, value));
  }
}

// AttributeProto.AttributeType codes: FLOAT=1, INT=2, STRING=3, TENSOR=4, FLOATS=6, INTS=7.
export function writeAttribute(a: ProtobufWriter, name: string, value: OnnxAttribute): void {
  a.string(1, name);
  if ('int' in value) a.varint(3, value.int).varint(20, 2);
  else if ('ints' in value) a.packedVarints(8, value.ints).varint(20, 7);
  else if ('float' in value) a.float(2, value.float).varint(20, 1);
  else if ('floats' in value) a.packedFloats(7, value.floats).varint(20, 6);
  else if ('tensor' in value) a.message(5, (t) => writeTensor(t, value.tensor)).varint(20, 4);
  else a.string(4, value.string).varint(20, 3);
}

function writeTensor(t: ProtobufWriter, init: OnnxInitializer): void {
  t.packedVarints(1, init.dims);
  t.varint(2, ELEM_TYPE_CODES[elemTypeOf(init.data)]);
  t.string(8, init.name);
  // raw_data is little-endian, which is what typed arrays hold on every platform we target.
  t.bytes(9, new Uint8Array(init.data.buffer, init.data.byteOffset, init.data.byteLength));
}

function writeValueInfo(v: ProtobufWriter, info: OnnxValueInfo): void {
  v.string(1, info.name);
  v.message(2, (type) =>
    type.message(1, (tensor) => {
      tensor.varint(1, ELEM_TYPE_CODES[info.elemType]);
      tensor.message(2, (shape) => {
        for (const dim of info.shape) {
          shape.message(1, (d) => (typeof dim === 'number' ? d.varint(1, dim) : d.string(2, dim)));
        }
      });
    }),
  );
}

function elemTypeOf(data: OnnxInitializer['data']): OnnxElemType {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof Float64Array) return 'float64';
  if (data instanceof Int32Array) return 'int32';
  return 'int64';
}
