/**
 * GraphDef, NodeDef, AttrValue, TensorProto and FunctionDef from protobuf bytes.
 * Field numbers are those of tensorflow/core/framework/{graph,node_def,
 * attr_value,tensor,tensor_shape,function,op_def}.proto.
 */
import { ProtobufError, decodeMessage, type ProtobufReader } from '../../../protobuf/protobuf-reader.js';
import {
  DT,
  dtypeName,
  elementBytes,
  numElements,
  type ArgDef,
  type AttrList,
  type AttrValue,
  type FunctionDef,
  type GraphDef,
  type NameAttrList,
  type NodeDef,
  type TensorShape,
  type TensorValue,
} from './tf-graph.js';

export function decodeGraphDef(bytes: Uint8Array): GraphDef {
  const nodes: NodeDef[] = [];
  const functions = new Map<string, FunctionDef>();
  let producer = 0;
  decodeMessage(bytes, (r) => {
    if (r.field === 1) nodes.push(decodeNodeDef(r.bytes()));
    else if (r.field === 2) for (const f of decodeFunctionLibrary(r.bytes())) functions.set(f.name, f);
    else if (r.field === 4) producer = decodeVersionProducer(r.bytes());
    else r.skip();
  });
  return { nodes, functions, producer };
}

function decodeVersionProducer(bytes: Uint8Array): number {
  let producer = 0;
  decodeMessage(bytes, (r) => (r.field === 1 ? (producer = r.int32()) : r.skip()));
  return producer;
}

function decodeFunctionLibrary(bytes: Uint8Array): FunctionDef[] {
  const functions: FunctionDef[] = [];
  decodeMessage(bytes, (r) => (r.field === 1 ? functions.push(decodeFunctionDef(r.bytes())) : r.skip()));
  return functions;
}

function decodeFunctionDef(bytes: Uint8Array): FunctionDef {
  let signature = { name: '', inputArgs: [] as ArgDef[], outputArgs: [] as ArgDef[] };
  const nodes: NodeDef[] = [];
  const ret: Record<string, string> = {};
  decodeMessage(bytes, (r) => {
    if (r.field === 1) signature = decodeOpDefSignature(r.bytes());
    else if (r.field === 3) nodes.push(decodeNodeDef(r.bytes()));
    else if (r.field === 4) {
      const [key, value] = decodeStringMapEntry(r.bytes());
      ret[key] = value;
    } else r.skip();
  });
  return { ...signature, nodes, ret };
}

function decodeOpDefSignature(bytes: Uint8Array): { name: string; inputArgs: ArgDef[]; outputArgs: ArgDef[] } {
  let name = '';
  const inputArgs: ArgDef[] = [];
  const outputArgs: ArgDef[] = [];
  decodeMessage(bytes, (r) => {
    if (r.field === 1) name = r.string();
    else if (r.field === 2) inputArgs.push(decodeArgDef(r.bytes()));
    else if (r.field === 3) outputArgs.push(decodeArgDef(r.bytes()));
    else r.skip();
  });
  return { name, inputArgs, outputArgs };
}

function decodeArgDef(bytes: Uint8Array): ArgDef {
  const arg = { name: '', type: 0, typeAttr: '', numberAttr: '', typeListAttr: '' };
  decodeMessage(bytes, (r) => {
    if (r.field === 1) arg.name = r.string();
    else if (r.field === 3) arg.type = r.uint32();
    else if (r.field === 4) arg.typeAttr = r.string();
    else if (r.field === 5) arg.numberAttr = r.string();
    else if (r.field === 6) arg.typeListAttr = r.string();
    else r.skip();
  });
  return arg;
}

function decodeNodeDef(bytes: Uint8Array): NodeDef {
  let name = '';
  let op = '';
  let device = '';
  const input: string[] = [];
  const attr: Record<string, AttrValue> = {};
  decodeMessage(bytes, (r) => {
    if (r.field === 1) name = r.string();
    else if (r.field === 2) op = r.string();
    else if (r.field === 3) input.push(r.string());
    else if (r.field === 4) device = r.string();
    else if (r.field === 5) decodeAttrEntry(r.bytes(), attr);
    else r.skip();
  });
  return { name, op, input, device, attr };
}

/** One entry of a `map<string, AttrValue>` (key = 1, value = 2). */
function decodeAttrEntry(bytes: Uint8Array, into: Record<string, AttrValue>): void {
  let key = '';
  let value: AttrValue = { kind: 'none' };
  decodeMessage(bytes, (r) => {
    if (r.field === 1) key = r.string();
    else if (r.field === 2) value = decodeAttrValue(r.bytes());
    else r.skip();
  });
  into[key] = value;
}

/** One entry of a `map<string, string>` (key = 1, value = 2). */
function decodeStringMapEntry(bytes: Uint8Array): [string, string] {
  let key = '';
  let value = '';
  decodeMessage(bytes, (r) => {
    if (r.field === 1) key = r.string();
    else if (r.field === 2) value = r.string();
    else r.skip();
  });
  return [key, value];
}

export function decodeAttrValue(bytes: Uint8Array): AttrValue {
  let value: AttrValue = { kind: 'none' };
  decodeMessage(bytes, (r) => {
    switch (r.field) {
      case 1: value = { kind: 'list', value: decodeAttrList(r.bytes()) }; break;
      case 2: value = { kind: 's', value: r.bytes() }; break;
      case 3: value = { kind: 'i', value: r.int64() }; break;
      case 4: value = { kind: 'f', value: r.float() }; break;
      case 5: value = { kind: 'b', value: r.bool() }; break;
      case 6: value = { kind: 'type', value: r.uint32() }; break;
      case 7: value = { kind: 'shape', value: decodeTensorShape(r.bytes()) }; break;
      case 8: value = { kind: 'tensor', value: decodeTensorProto(r.bytes()) }; break;
      case 9: value = { kind: 'placeholder', value: r.string() }; break;
      case 10: value = { kind: 'func', value: decodeNameAttrList(r.bytes()) }; break;
      default: r.skip();
    }
  });
  return value;
}

function decodeAttrList(bytes: Uint8Array): AttrList {
  const list = {
    s: [] as Uint8Array[], i: [] as number[], f: [] as number[], b: [] as boolean[], type: [] as number[],
    shape: [] as TensorShape[], tensor: [] as TensorValue[], func: [] as NameAttrList[],
  };
  const flags: number[] = [];
  const types: number[] = [];
  decodeMessage(bytes, (r) => {
    switch (r.field) {
      case 2: list.s.push(r.bytes()); break;
      case 3: append(list.i, r.int64s()); break;
      case 4: append(list.f, r.floats()); break;
      case 5: append(flags, r.int64s()); break;
      case 6: append(types, r.int64s()); break;
      case 7: list.shape.push(decodeTensorShape(r.bytes())); break;
      case 8: list.tensor.push(decodeTensorProto(r.bytes())); break;
      case 9: list.func.push(decodeNameAttrList(r.bytes())); break;
      default: r.skip();
    }
  });
  list.b = flags.map((v) => v !== 0);
  list.type = types;
  return list;
}

function decodeNameAttrList(bytes: Uint8Array): NameAttrList {
  let name = '';
  const attr: Record<string, AttrValue> = {};
  decodeMessage(bytes, (r) => {
    if (r.field === 1) name = r.string();
    else if (r.field === 2) decodeAttrEntry(r.bytes(), attr);
    else r.skip();
  });
  return { name, attr };
}

export function decodeTensorShape(bytes: Uint8Array): TensorShape {
  const dims: number[] = [];
  let unknownRank = false;
  decodeMessage(bytes, (r) => {
    if (r.field === 2) {
      let size = 0;
      decodeMessage(r.bytes(), (d) => (d.field === 1 ? (size = d.int64()) : d.skip()));
      dims.push(size);
    } else if (r.field === 3) unknownRank = r.bool();
    else r.skip();
  });
  return { dims: unknownRank ? null : dims };
}

/**
 * A TensorProto as raw little-endian bytes. Values come either as
 * `tensor_content` or in the typed repeated field of the dtype; a typed field
 * shorter than the tensor is padded with its last value (TensorFlow's rule,
 * which lets a 1-value proto describe a filled tensor).
 */
export function decodeTensorProto(bytes: Uint8Array): TensorValue {
  let dtype = 0;
  let shape: TensorShape = { dims: [] };
  let content: Uint8Array | undefined;
  const numbers: number[] = [];
  const int64s: bigint[] = [];
  const strings: Uint8Array[] = [];
  decodeMessage(bytes, (r: ProtobufReader) => {
    switch (r.field) {
      case 1: dtype = r.uint32(); break;
      case 2: shape = decodeTensorShape(r.bytes()); break;
      case 4: content = r.bytes(); break;
      case 5: case 9: append(numbers, r.floats()); break; // float_val, scomplex_val
      case 6: case 12: append(numbers, r.doubles()); break; // double_val, dcomplex_val
      case 7: case 13: case 11: case 16: append(numbers, r.int64s()); break; // int_val, half_val, bool_val, uint32_val
      case 10: case 17: for (const v of r.bigInt64s()) int64s.push(v); break; // int64_val, uint64_val (exact: INT64_MAX marks "to the end")
      case 8: strings.push(r.bytes()); break;
      default: r.skip();
    }
  });
  if (shape.dims === null || shape.dims.some((d) => d < 0)) throw new ProtobufError(`constant tensor of ${dtypeName(dtype)} without a fully known shape`);
  const dims = [...shape.dims];
  const n = numElements(dims);
  if (dtype === DT.STRING) {
    const padded = Array.from({ length: n }, (_, i) => strings[Math.min(i, strings.length - 1)] ?? new Uint8Array(0));
    return { dtype, shape: dims, content: new Uint8Array(0), strings: padded };
  }
  const size = elementBytes(dtype);
  // Resources and variants have no byte layout; such constants only fail if the executor needs them.
  if (size === undefined) return { dtype, shape: dims, content: new Uint8Array(0) };
  if (content !== undefined) {
    if (content.length !== n * size) throw new ProtobufError(`constant tensor content has ${content.length} bytes, expected ${n * size} for ${dtypeName(dtype)} [${dims.join(',')}]`);
    return { dtype, shape: dims, content: content.slice() };
  }
  return { dtype, shape: dims, content: packValues(dtype, n, numbers, int64s) };
}

/** Appends one occurrence of a repeated field; a loop, because spreading a long packed run would overflow the stack. */
function append(into: number[], values: ArrayLike<number>): void {
  for (let i = 0; i < values.length; i++) into.push(values[i]!);
}

function packValues(dtype: number, n: number, numbers: number[], int64s: bigint[]): Uint8Array {
  const size = elementBytes(dtype)!;
  const out = new Uint8Array(n * size);
  const view = new DataView(out.buffer);
  const complex = dtype === DT.COMPLEX64 || dtype === DT.COMPLEX128;
  const values = complex ? numbers.length / 2 : dtype === DT.INT64 || dtype === DT.UINT64 ? int64s.length : numbers.length;
  if (values === 0) return out;
  for (let i = 0; i < n; i++) {
    const j = Math.min(i, values - 1);
    const at = i * size;
    switch (dtype) {
      case DT.FLOAT: view.setFloat32(at, numbers[j]!, true); break;
      case DT.DOUBLE: view.setFloat64(at, numbers[j]!, true); break;
      case DT.COMPLEX64: view.setFloat32(at, numbers[2 * j]!, true); view.setFloat32(at + 4, numbers[2 * j + 1]!, true); break;
      case DT.COMPLEX128: view.setFloat64(at, numbers[2 * j]!, true); view.setFloat64(at + 8, numbers[2 * j + 1]!, true); break;
      case DT.INT64: view.setBigInt64(at, int64s[j]!, true); break;
      case DT.UINT64: view.setBigUint64(at, BigInt.asUintN(64, int64s[j]!), true); break;
      case DT.INT32: case DT.QINT32: case DT.UINT32: view.setUint32(at, numbers[j]! >>> 0, true); break;
      // half_val / bfloat16 carry the 16 raw bits in an int32.
      case DT.INT16: case DT.UINT16: case DT.QINT16: case DT.QUINT16: case DT.HALF: case DT.BFLOAT16: view.setUint16(at, numbers[j]! & 0xffff, true); break;
      default: out[at] = numbers[j]! & 0xff; // 1-byte types, bool included
    }
  }
  return out;
}
