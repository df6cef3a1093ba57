/**
 * Reads an ONNX ModelProto far enough to edit its main graph's nodes and its
 * opset imports, and writes it back with every other field as it was (weights,
 * value infos, metadata, fields of newer IR versions). Field numbers are from
 * onnx.proto: ModelProto graph=7, opset_import=8; GraphProto node=1,
 * initializer=5, input=11; NodeProto input=1, output=2, name=3, op_type=4,
 * attribute=5, domain=7; AttributeProto name=1, f=2, i=3, s=4, g=6, floats=7,
 * ints=8, graphs=11, type=20; OperatorSetIdProto domain=1, version=2.
 */
import { ProtobufError, ProtobufReader, decodeMessage } from '../protobuf/protobuf-reader.js';
import { ProtobufWriter } from '../protobuf/protobuf-writer.js';
import { writeAttribute, type OnnxAttribute } from './onnx-model-builder.js';

/** One attribute: either kept as its original bytes, or a new value to encode. */
export interface EditableAttribute {
  readonly name: string;
  readonly original?: Uint8Array;
  readonly value?: OnnxAttribute;
}

export interface EditableNode {
  opType: string;
  domain: string;
  inputs: string[];
  outputs: string[];
  name: string;
  attributes: EditableAttribute[];
  /** Fields this editor does not interpret (doc_string, ...), re-emitted as they came. */
  readonly otherFields: readonly RawField[];
}

export interface OpsetImport {
  readonly domain: string;
  readonly version: number;
}

export interface EditableModel {
  readonly opsets: readonly OpsetImport[];
  readonly nodes: readonly EditableNode[];
  /** Initializer name → dims: enough for rewrites that depend on a constant's size. */
  readonly initializerDims: ReadonlyMap<string, readonly number[]>;
}

interface RawField {
  readonly field: number;
  readonly varint?: bigint;
  readonly bytes?: Uint8Array;
}

/** Decoded AttributeProto values a rewrite may need. */
export interface AttributeValue {
  readonly name: string;
  readonly type: number;
  readonly f?: number;
  readonly i?: number;
  readonly s?: string;
  readonly floats?: readonly number[];
  readonly ints?: readonly number[];
  /** Holds a subgraph (If/Loop/Scan bodies). */
  readonly hasGraph: boolean;
}

const DEFAULT_DOMAINS = new Set(['', 'ai.onnx']);

export function isDefaultDomain(domain: string): boolean {
  return DEFAULT_DOMAINS.has(domain);
}

export function readOnnxModel(bytes: Uint8Array): EditableModel {
  const opsets: OpsetImport[] = [];
  let graph: Uint8Array | undefined;
  decodeMessage(bytes, (r) => {
    if (r.field === 8) opsets.push(readOpset(r.bytes()));
    else if (r.field === 7) graph = r.bytes();
    else r.skip();
  });
  const nodes: EditableNode[] = [];
  const initializerDims = new Map<string, number[]>();
  if (graph) {
    decodeMessage(graph, (r) => {
      if (r.field === 1) nodes.push(readNode(r.bytes()));
      else if (r.field === 5) readInitializerDims(r.bytes(), initializerDims);
      else r.skip();
    });
  }
  return { opsets, nodes, initializerDims };
}

/** The model with its main graph's nodes replaced and the given opset versions set. */
export function writeOnnxModel(bytes: Uint8Array, nodes: readonly EditableNode[], opsets: readonly OpsetImport[]): Uint8Array {
  const out = new ProtobufWriter();
  let opsetsWritten = false;
  decodeMessage(bytes, (r) => {
    if (r.field === 8) {
      r.skip();
      if (!opsetsWritten) for (const opset of opsets) out.message(8, (o) => (opset.domain ? o.string(1, opset.domain) : o).varint(2, opset.version));
      opsetsWritten = true;
    } else if (r.field === 7) {
      out.bytes(7, writeGraph(r.bytes(), nodes));
    } else {
      copyField(r, out);
    }
  });
  return out.finish();
}

export function readAttribute(attribute: EditableAttribute): AttributeValue {
  if (attribute.value) return fromBuilderValue(attribute.name, attribute.value);
  let type = 0;
  let f: number | undefined;
  let i: number | undefined;
  let s: string | undefined;
  const floats: number[] = [];
  const ints: number[] = [];
  let hasGraph = false;
  decodeMessage(attribute.original!, (r) => {
    if (r.field === 20) type = r.uint32();
    else if (r.field === 2) f = r.float();
    else if (r.field === 3) i = r.int64();
    else if (r.field === 4) s = r.string();
    else if (r.field === 7) floats.push(...r.floats());
    else if (r.field === 8) ints.push(...r.int64s());
    else if (r.field === 6 || r.field === 11) {
      hasGraph = true;
      r.skip();
    } else r.skip();
  });
  return { name: attribute.name, type, f, i, s, floats, ints, hasGraph };
}

function fromBuilderValue(name: string, value: OnnxAttribute): AttributeValue {
  if ('int' in value) return { name, type: 2, i: value.int, hasGraph: false };
  if ('float' in value) return { name, type: 1, f: value.float, hasGraph: false };
  if ('string' in value) return { name, type: 3, s: value.string, hasGraph: false };
  if ('ints' in value) return { name, type: 7, ints: value.ints, hasGraph: false };
  if ('floats' in value) return { name, type: 6, floats: value.floats, hasGraph: false };
  return { name, type: 4, hasGraph: false };
}

function readOpset(bytes: Uint8Array): OpsetImport {
  let domain = '';
  let version = 0;
  decodeMessage(bytes, (r) => {
    if (r.field === 1) domain = r.string();
    else if (r.field === 2) version = r.int64();
    else r.skip();
  });
  return { domain, version };
}

function readNode(bytes: Uint8Array): EditableNode {
  const node: EditableNode = { opType: '', domain: '', inputs: [], outputs: [], name: '', attributes: [], otherFields: [] };
  const otherFields: RawField[] = [];
  decodeMessage(bytes, (r) => {
    if (r.field === 1) node.inputs.push(r.string());
    else if (r.field === 2) node.outputs.push(r.string());
    else if (r.field === 3) node.name = r.string();
    else if (r.field === 4) node.opType = r.string();
    else if (r.field === 7) node.domain = r.string();
    else if (r.field === 5) {
      const original = r.bytes();
      node.attributes.push({ name: attributeName(original), original });
    } else otherFields.push(rawField(r));
  });
  return { ...node, otherFields };
}

function attributeName(bytes: Uint8Array): string {
  let name = '';
  decodeMessage(bytes, (r) => {
    if (r.field === 1) name = r.string();
    else r.skip();
  });
  return name;
}

function readInitializerDims(bytes: Uint8Array, into: Map<string, number[]>): void {
  let name = '';
  const dims: number[] = [];
  decodeMessage(bytes, (r) => {
    if (r.field === 1) dims.push(...r.int64s());
    else if (r.field === 8) name = r.string();
    else r.skip();
  });
  into.set(name, dims);
}

function writeGraph(bytes: Uint8Array, nodes: readonly EditableNode[]): Uint8Array {
  const out = new ProtobufWriter();
  let nodesWritten = false;
  const writeNodes = (): void => {
    if (nodesWritten) return;
    nodesWritten = true;
    for (const node of nodes) out.message(1, (n) => writeNode(n, node));
  };
  decodeMessage(bytes, (r) => {
    if (r.field === 1) {
      r.skip();
      writeNodes();
    } else copyField(r, out);
  });
  writeNodes();
  return out.finish();
}

function writeNode(n: ProtobufWriter, node: EditableNode): void {
  for (const input of node.inputs) n.string(1, input);
  for (const output of node.outputs) n.string(2, output);
  if (node.name) n.string(3, node.name);
  n.string(4, node.opType);
  if (node.domain) n.string(7, node.domain);
  for (const attribute of node.attributes) {
    if (attribute.original) n.bytes(5, attribute.original);
    else n.message(5, (a) => writeAttribute(a, attribute.name, attribute.value!));
  }
  for (const field of node.otherFields) writeRaw(n, field);
}

function rawField(r: ProtobufReader): RawField {
  if (r.wireType === 0) return { field: r.field, varint: r.bigUint64() };
  if (r.wireType === 2) return { field: r.field, bytes: r.bytes() };
  // ModelProto, GraphProto and NodeProto have only varint and length-delimited fields.
  throw new ProtobufError(`unexpected wire type ${r.wireType} for field ${r.field} of an ONNX message`);
}

function copyField(r: ProtobufReader, out: ProtobufWriter): void {
  writeRaw(out, rawField(r));
}

function writeRaw(out: ProtobufWriter, field: RawField): void {
  if (field.bytes) out.bytes(field.field, field.bytes);
  else out.varint(field.field, field.varint!);
}
