/**
 * A frozen GraphDef in the shape TensorFlow.js's graph executor loads: the
 * nodes as proto-JSON (`{"dtype": {"type": "DT_FLOAT"}}`, strings base64,
 * int64 as numbers) and every Const's value moved into `weightSpecs` +
 * `weightData`, as tensorflowjs_converter writes a graph model.
 *
 * TensorFlow.js computes in float32 / int32 / bool only, like its converter
 * does: float64 and float16 constants become float32, 64-bit and small
 * integers become int32 (saturating, so "to the end" markers such as
 * INT64_MAX in StridedSlice keep their meaning).
 */
import type { io } from '@tensorflow/tfjs-core';
import { ModelLoadError } from '../../domain/errors.js';
import { functionJson } from './control-flow-library.js';
import { DT, baseType, dtypeName, numElements, type AttrList, type AttrValue, type FunctionDef, type NodeDef, type TensorShape, type TensorValue } from './tf-graph.js';

type JsonAttr = Record<string, unknown>;

export interface TfjsGraphArtifacts {
  readonly modelTopology: { node: unknown[]; versions: { producer: number }; library?: { function: unknown[] } };
  readonly weightSpecs: io.WeightsManifestEntry[];
  readonly weightData: ArrayBuffer;
  readonly format: 'graph-model';
}

/** `functions`: the library functions control-flow nodes run (control-flow-library.ts), with their constants as weights too. */
export function toTfjsArtifacts(nodes: readonly NodeDef[], producer: number, functions: readonly FunctionDef[] = [], library: ReadonlyMap<string, FunctionDef> = new Map()): TfjsGraphArtifacts {
  const weightSpecs: io.WeightsManifestEntry[] = [];
  const chunks: Uint8Array[] = [];
  const nodeJson = (node: NodeDef): Record<string, unknown> => {
    const attr: Record<string, JsonAttr> = {};
    for (const [key, value] of Object.entries(node.attr)) {
      if (node.op === 'Const' && key === 'value' && value.kind === 'tensor') {
        const { spec, bytes } = toWeight(node.name, value.value);
        weightSpecs.push(spec);
        chunks.push(bytes);
        attr[key] = { tensor: { dtype: dtypeName(baseType(value.value.dtype)), tensorShape: shapeJson({ dims: value.value.shape }) } };
        continue;
      }
      const json = attrJson(value);
      if (json) attr[key] = json;
    }
    return { name: node.name, op: node.op, input: [...node.input], attr };
  };
  const jsonNodes = nodes.map(nodeJson);
  const topology = { node: jsonNodes, versions: { producer } };
  if (functions.length > 0) Object.assign(topology, { library: { function: functions.map((fn) => functionJson(fn, library, nodeJson)) } });
  return { modelTopology: topology, weightSpecs, weightData: concat(chunks), format: 'graph-model' };
}

function attrJson(value: AttrValue): JsonAttr | undefined {
  switch (value.kind) {
    case 's': return { s: base64(value.value) };
    case 'i': return { i: value.value };
    case 'f': return { f: value.value };
    case 'b': return { b: value.value };
    case 'type': return { type: dtypeName(baseType(value.value)) };
    case 'shape': return { shape: shapeJson(value.value) };
    case 'tensor': return { tensor: { dtype: dtypeName(value.value.dtype), tensorShape: shapeJson({ dims: value.value.shape }) } };
    case 'list': return { list: listJson(value.value) };
    case 'func': return { func: { name: value.value.name, attr: attrsJson(value.value.attr) } };
    case 'placeholder': return { placeholder: value.value };
    case 'none': return undefined;
  }
}

function attrsJson(attrs: Readonly<Record<string, AttrValue>>): Record<string, JsonAttr> {
  const out: Record<string, JsonAttr> = {};
  for (const [key, value] of Object.entries(attrs)) {
    const json = attrJson(value);
    if (json) out[key] = json;
  }
  return out;
}

function listJson(list: AttrList): JsonAttr {
  return {
    s: list.s.map(base64),
    i: [...list.i],
    f: [...list.f],
    b: [...list.b],
    type: list.type.map((t) => dtypeName(baseType(t))),
    shape: list.shape.map(shapeJson),
    func: list.func.map((f) => ({ name: f.name, attr: attrsJson(f.attr) })),
  };
}

function shapeJson(shape: TensorShape): JsonAttr {
  return shape.dims === null ? { unknownRank: true } : { dim: shape.dims.map((size) => ({ size })) };
}

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

function toWeight(name: string, value: TensorValue): { spec: io.WeightsManifestEntry; bytes: Uint8Array } {
  const shape = [...value.shape];
  const n = numElements(shape);
  const view = new DataView(value.content.buffer, value.content.byteOffset, value.content.byteLength);
  const ints = (read: (i: number) => number | bigint): Uint8Array => {
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) out[i] = saturateInt32(read(i));
    return new Uint8Array(out.buffer);
  };
  const floats = (read: (i: number) => number): Uint8Array => {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = read(i);
    return new Uint8Array(out.buffer);
  };
  switch (value.dtype) {
    case DT.FLOAT: return { spec: { name, shape, dtype: 'float32' }, bytes: value.content };
    case DT.DOUBLE: return { spec: { name, shape, dtype: 'float32' }, bytes: floats((i) => view.getFloat64(i * 8, true)) };
    case DT.HALF: return { spec: { name, shape, dtype: 'float32' }, bytes: floats((i) => halfToFloat(view.getUint16(i * 2, true))) };
    case DT.BFLOAT16: return { spec: { name, shape, dtype: 'float32' }, bytes: floats((i) => bfloat16ToFloat(view.getUint16(i * 2, true))) };
    case DT.INT32: case DT.QINT32: return { spec: { name, shape, dtype: 'int32' }, bytes: value.content };
    case DT.UINT32: return { spec: { name, shape, dtype: 'int32' }, bytes: ints((i) => view.getUint32(i * 4, true)) };
    case DT.INT64: return { spec: { name, shape, dtype: 'int32' }, bytes: ints((i) => view.getBigInt64(i * 8, true)) };
    case DT.UINT64: return { spec: { name, shape, dtype: 'int32' }, bytes: ints((i) => view.getBigUint64(i * 8, true)) };
    case DT.INT16: case DT.QINT16: return { spec: { name, shape, dtype: 'int32' }, bytes: ints((i) => view.getInt16(i * 2, true)) };
    case DT.UINT16: case DT.QUINT16: return { spec: { name, shape, dtype: 'int32' }, bytes: ints((i) => view.getUint16(i * 2, true)) };
    case DT.INT8: case DT.QINT8: return { spec: { name, shape, dtype: 'int32' }, bytes: ints((i) => view.getInt8(i)) };
    case DT.UINT8: case DT.QUINT8: return { spec: { name, shape, dtype: 'int32' }, bytes: ints((i) => view.getUint8(i)) };
    case DT.BOOL: return { spec: { name, shape, dtype: 'bool' }, bytes: value.content };
    case DT.COMPLEX64: return { spec: { name, shape, dtype: 'complex64' }, bytes: value.content };
    case DT.STRING: return { spec: { name, shape, dtype: 'string' }, bytes: encodeStrings(value.strings ?? []) };
    default: throw new ModelLoadError(`constant "${name}" has dtype ${dtypeName(value.dtype)}, which TensorFlow.js cannot hold`);
  }
}

function saturateInt32(v: number | bigint): number {
  const n = typeof v === 'bigint' ? (v > 2147483647n ? 2147483647 : v < -2147483648n ? -2147483648 : Number(v)) : v;
  return Math.max(-2147483648, Math.min(2147483647, n));
}

/** TensorFlow.js string weights: each element as a uint32 byte length, then its bytes. */
function encodeStrings(strings: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(strings.reduce((n, s) => n + 4 + s.length, 0));
  const view = new DataView(out.buffer);
  let at = 0;
  for (const s of strings) {
    view.setUint32(at, s.length, true);
    out.set(s, at + 4);
    at += 4 + s.length;
  }
  return out;
}

function halfToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 0x1f) return fraction ? NaN : sign * Infinity;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

function bfloat16ToFloat(bits: number): number {
  return new Float32Array(new Uint32Array([bits << 16]).buffer)[0]!;
}

function concat(chunks: readonly Uint8Array[]): ArrayBuffer {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out.buffer;
}
