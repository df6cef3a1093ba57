/**
 * The in-memory shape of a TensorFlow graph as this engine works on it: the
 * decoded GraphDef / FunctionDef messages, with tensors already turned into
 * raw little-endian bytes so freezing and the executor adapter never look at
 * protobuf again.
 */

/** DataType enum values from tensorflow/core/framework/types.proto. */
export const DT = {
  FLOAT: 1,
  DOUBLE: 2,
  INT32: 3,
  UINT8: 4,
  INT16: 5,
  INT8: 6,
  STRING: 7,
  COMPLEX64: 8,
  INT64: 9,
  BOOL: 10,
  QINT8: 11,
  QUINT8: 12,
  QINT32: 13,
  BFLOAT16: 14,
  QINT16: 15,
  QUINT16: 16,
  UINT16: 17,
  COMPLEX128: 18,
  HALF: 19,
  RESOURCE: 20,
  VARIANT: 21,
  UINT32: 22,
  UINT64: 23,
} as const;

/** Reference types (`float_ref` of TF1 VariableV2 outputs) are the base type + 100. */
const REF_OFFSET = 100;

const NAMES = new Map<number, string>(Object.entries(DT).map(([name, code]) => [code, `DT_${name}`]));

const ELEMENT_BYTES = new Map<number, number>([
  [DT.FLOAT, 4], [DT.DOUBLE, 8], [DT.INT32, 4], [DT.UINT8, 1], [DT.INT16, 2], [DT.INT8, 1],
  [DT.COMPLEX64, 8], [DT.INT64, 8], [DT.BOOL, 1], [DT.QINT8, 1], [DT.QUINT8, 1], [DT.QINT32, 4],
  [DT.BFLOAT16, 2], [DT.QINT16, 2], [DT.QUINT16, 2], [DT.UINT16, 2], [DT.COMPLEX128, 16],
  [DT.HALF, 2], [DT.UINT32, 4], [DT.UINT64, 8],
]);

export function baseType(dtype: number): number {
  return dtype > REF_OFFSET ? dtype - REF_OFFSET : dtype;
}

export function dtypeName(dtype: number): string {
  const base = baseType(dtype);
  const name = NAMES.get(base) ?? `DataType(${base})`;
  return base === dtype ? name : `${name}_REF`;
}

/** Bytes per element of a fixed-size type; undefined for strings, resources and variants. */
export function elementBytes(dtype: number): number | undefined {
  return ELEMENT_BYTES.get(baseType(dtype));
}

/** `null` dims = unknown rank; a -1 dim = unknown size. */
export interface TensorShape {
  readonly dims: readonly number[] | null;
}

export interface TensorValue {
  readonly dtype: number;
  readonly shape: readonly number[];
  /** Raw little-endian element bytes (fixed-size types). */
  readonly content: Uint8Array;
  /** DT_STRING elements. */
  readonly strings?: readonly Uint8Array[];
}

export interface NameAttrList {
  readonly name: string;
  readonly attr: Readonly<Record<string, AttrValue>>;
}

export interface AttrList {
  readonly s: readonly Uint8Array[];
  readonly i: readonly number[];
  readonly f: readonly number[];
  readonly b: readonly boolean[];
  readonly type: readonly number[];
  readonly shape: readonly TensorShape[];
  readonly tensor: readonly TensorValue[];
  readonly func: readonly NameAttrList[];
}

export type AttrValue =
  | { readonly kind: 's'; readonly value: Uint8Array }
  | { readonly kind: 'i'; readonly value: number }
  | { readonly kind: 'f'; readonly value: number }
  | { readonly kind: 'b'; readonly value: boolean }
  | { readonly kind: 'type'; readonly value: number }
  | { readonly kind: 'shape'; readonly value: TensorShape }
  | { readonly kind: 'tensor'; readonly value: TensorValue }
  | { readonly kind: 'list'; readonly value: AttrList }
  | { readonly kind: 'func'; readonly value: NameAttrList }
  | { readonly kind: 'placeholder'; readonly value: string }
  | { readonly kind: 'none' };

export interface NodeDef {
  readonly name: string;
  readonly op: string;
  /** `node`, `node:k` or `^node` (control) in graphs; `node:out_arg:k` or an argument name inside functions. */
  readonly input: readonly string[];
  readonly device: string;
  readonly attr: Readonly<Record<string, AttrValue>>;
}

export interface ArgDef {
  readonly name: string;
  readonly type: number;
  readonly typeAttr: string;
  readonly numberAttr: string;
  readonly typeListAttr: string;
}

export interface FunctionDef {
  readonly name: string;
  readonly inputArgs: readonly ArgDef[];
  readonly outputArgs: readonly ArgDef[];
  readonly nodes: readonly NodeDef[];
  /** Output argument name → `node:out_arg:k` or an input argument name. */
  readonly ret: Readonly<Record<string, string>>;
}

export interface GraphDef {
  readonly nodes: readonly NodeDef[];
  readonly functions: ReadonlyMap<string, FunctionDef>;
  readonly producer: number;
}

export function numElements(shape: readonly number[]): number {
  return shape.reduce((n, d) => n * d, 1);
}

export function attrType(node: NodeDef, name: string): number | undefined {
  const a = node.attr[name];
  return a?.kind === 'type' ? a.value : undefined;
}

export function attrFunc(node: NodeDef, name: string): NameAttrList | undefined {
  const a = node.attr[name];
  return a?.kind === 'func' ? a.value : undefined;
}

/** Splits a graph tensor reference `name:k` / `^name` into node name and output index (-1 = control). */
export function parseTensorRef(ref: string): { node: string; index: number } {
  if (ref.startsWith('^')) return { node: ref.slice(1), index: -1 };
  const colon = ref.lastIndexOf(':');
  if (colon > 0) {
    const suffix = ref.slice(colon + 1);
    if (/^\d+$/.test(suffix)) return { node: ref.slice(0, colon), index: Number(suffix) };
  }
  return { node: ref, index: 0 };
}

export function tensorRef(node: string, index: number): string {
  return index === 0 ? node : `${node}:${index}`;
}
