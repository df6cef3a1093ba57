/**
 * Writes tiny SavedModels (a `saved_model.pb` with one `serve` MetaGraphDef, no
 * variables) for tests that need graphs no fixture has: unsupported ops, int64
 * inputs, several inputs. Field numbers as in tensorflow's saved_model.proto,
 * meta_graph.proto, graph.proto, node_def.proto, attr_value.proto, tensor.proto.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ProtobufWriter } from '../../../functions/protobuf/protobuf-writer.js';

export const DT_FLOAT = 1;
export const DT_INT64 = 9;
export const DT_STRING = 7;

export type TestAttr =
  | { s: string }
  | { i: number }
  | { shapes: number[][] }
  | { type: number }
  | { types: number[] }
  /** `null`: unknown rank. */
  | { shape: number[] | null }
  | { func: string }
  | { tensor: { dtype: number; shape: number[]; content: Uint8Array } }
  | { strings: string[]; shape: number[] };

export interface TestNode {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<string, TestAttr>;
}

export interface TestTensorInfo {
  name: string;
  dtype: number;
  /** `null`: unknown rank (TF 1.x exports such as TF Serving's half_plus_three). */
  shape: number[] | null;
}

export interface TestSignature {
  inputs: Record<string, TestTensorInfo>;
  outputs: Record<string, TestTensorInfo>;
}

export function placeholder(name: string, dtype: number, shape: number[] | null): TestNode {
  return { name, op: 'Placeholder', attr: { dtype: { type: dtype }, shape: { shape } } };
}

export function constant(name: string, dtype: number, shape: number[], content: Uint8Array): TestNode {
  return { name, op: 'Const', attr: { dtype: { type: dtype }, value: { tensor: { dtype, shape, content } } } };
}

export function stringConstant(name: string, values: string[], shape = [values.length]): TestNode {
  return { name, op: 'Const', attr: { dtype: { type: DT_STRING }, value: { strings: values, shape } } };
}

export interface TestSaver {
  filenameTensor: string;
  restoreOp: string;
}

/** A FunctionDef of the graph's library (control-flow bodies). Body inputs are `node:out_arg:k` or argument names. */
export interface TestFunction {
  name: string;
  inputs: { name: string; type: number }[];
  outputs: { name: string; type: number }[];
  nodes: TestNode[];
  ret: Record<string, string>;
}

export function writeSavedModel(dir: string, nodes: TestNode[], signatures: Record<string, TestSignature>, saver?: TestSaver, functions: TestFunction[] = []): string {
  mkdirSync(dir, { recursive: true });
  const bytes = new ProtobufWriter()
    .varint(1, 1)
    .message(2, (meta) => {
      meta.message(1, (info) => info.string(4, 'serve').string(5, 'test'));
      meta.message(2, (graph) => {
        for (const node of nodes) graph.message(1, (w) => writeNode(w, node));
        // GraphDef.library = 2 → FunctionDefLibrary.function = 1.
        if (functions.length > 0) graph.message(2, (lib) => functions.forEach((fn) => lib.message(1, (w) => writeFunction(w, fn))));
      });
      if (saver) meta.message(3, (w) => w.string(1, saver.filenameTensor).string(3, saver.restoreOp));
      for (const [key, signature] of Object.entries(signatures)) {
        meta.message(5, (entry) =>
          entry.string(1, key).message(2, (sig) => {
            for (const [k, info] of Object.entries(signature.inputs)) sig.message(1, (e) => e.string(1, k).message(2, (t) => writeTensorInfo(t, info)));
            for (const [k, info] of Object.entries(signature.outputs)) sig.message(2, (e) => e.string(1, k).message(2, (t) => writeTensorInfo(t, info)));
            sig.string(3, 'tensorflow/serving/predict');
          }),
        );
      }
    })
    .finish();
  writeFileSync(join(dir, 'saved_model.pb'), bytes);
  return dir;
}

// FunctionDef: signature = 1 (OpDef: name = 1, input_arg = 2, output_arg = 3; ArgDef: name = 1, type = 3), node_def = 3, ret = 4.
function writeFunction(w: ProtobufWriter, fn: TestFunction): void {
  w.message(1, (op) => {
    op.string(1, fn.name);
    for (const arg of fn.inputs) op.message(2, (a) => a.string(1, arg.name).varint(3, arg.type));
    for (const arg of fn.outputs) op.message(3, (a) => a.string(1, arg.name).varint(3, arg.type));
  });
  for (const node of fn.nodes) w.message(3, (n) => writeNode(n, node));
  for (const [key, value] of Object.entries(fn.ret)) w.message(4, (e) => e.string(1, key).string(2, value));
}

function writeNode(w: ProtobufWriter, node: TestNode): void {
  w.string(1, node.name).string(2, node.op);
  for (const input of node.input ?? []) w.string(3, input);
  for (const [key, attr] of Object.entries(node.attr ?? {})) {
    w.message(5, (entry) => entry.string(1, key).message(2, (value) => writeAttr(value, attr)));
  }
}

function writeAttr(w: ProtobufWriter, attr: TestAttr): void {
  if ('s' in attr) w.string(2, attr.s);
  else if ('i' in attr) w.varint(3, attr.i);
  // AttrValue.ListValue: shape = 7.
  else if ('shapes' in attr) w.message(1, (list) => attr.shapes.forEach((s) => list.message(7, (shape) => writeShape(shape, s))));
  else if ('type' in attr) w.varint(6, attr.type);
  else if ('types' in attr) w.message(1, (list) => list.packedVarints(6, attr.types));
  else if ('func' in attr) w.message(10, (f) => f.string(1, attr.func));
  else if ('strings' in attr) {
    const { strings, shape } = attr;
    w.message(8, (t) => {
      t.varint(1, DT_STRING).message(2, (s) => writeShape(s, shape));
      for (const value of strings) t.string(8, value);
    });
  } else if ('tensor' in attr) {
    const { tensor } = attr;
    w.message(8, (t) => t.varint(1, tensor.dtype).message(2, (s) => writeShape(s, tensor.shape)).bytes(4, tensor.content));
  } else w.message(7, (s) => writeShape(s, attr.shape));
}

// TensorShapeProto: dim = 2, unknown_rank = 3.
function writeShape(w: ProtobufWriter, dims: number[] | null): void {
  if (dims === null) w.varint(3, 1);
  else for (const d of dims) w.message(2, (dim) => dim.varint(1, d));
}

function writeTensorInfo(w: ProtobufWriter, info: TestTensorInfo): void {
  w.string(1, info.name).varint(2, info.dtype).message(3, (s) => writeShape(s, info.shape));
}
