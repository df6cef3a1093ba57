/**
 * Writes a small TensorBundle checkpoint (`<prefix>.index` as an uncompressed
 * LevelDB table + one `<prefix>.data-00000-of-00001`) for tests that need
 * variables no fixture has. Layout per tensorflow/core/lib/io/table_format.txt
 * and tensor_bundle.proto.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { ProtobufWriter } from '../../../functions/protobuf/protobuf-writer.js';
import { crc32c, maskCrc32c } from '../../../functions/scorer/engines/tensorflow/crc32c.js';

export interface BundleTensor {
  key: string;
  dtype: number;
  shape: number[];
  data: Uint8Array;
}

/** A partitioned tensor: its full entry lists the slices, each stored under its own slice key. */
export interface PartitionedBundleTensor {
  key: string;
  dtype: number;
  shape: number[];
  /** Per slice: [start, length] per dimension (length -1: the whole dimension), and its row-major bytes. */
  slices: { extents: [number, number][]; data: Uint8Array }[];
}

export function writeTensorBundle(prefix: string, tensors: BundleTensor[], partitioned: PartitionedBundleTensor[] = []): void {
  mkdirSync(dirname(prefix), { recursive: true });
  const stored: { readonly key: Uint8Array; readonly proto: (offset: number) => Uint8Array; readonly data: Uint8Array }[] = [];
  const shapeProto = (shape: number[]) => (s: ProtobufWriter) => shape.forEach((d) => s.message(2, (dim) => dim.varint(1, d)));
  const dataEntry = (dtype: number, shape: number[], data: Uint8Array) => (offset: number): Uint8Array =>
    concat([
      new ProtobufWriter().varint(1, dtype).message(2, shapeProto(shape)).varint(3, 0).varint(4, offset).varint(5, data.length).finish(),
      fixed32Field(6, maskCrc32c(crc32c(data))),
    ]);
  for (const t of tensors) stored.push({ key: new TextEncoder().encode(t.key), proto: dataEntry(t.dtype, t.shape, t.data), data: t.data });
  for (const p of partitioned) {
    // BundleEntryProto.slices = 7: TensorSliceProto { extent = 1 { start = 1, length = 2 } }, no length for a whole dimension.
    const full = new ProtobufWriter().varint(1, p.dtype).message(2, shapeProto(p.shape));
    for (const slice of p.slices) {
      full.message(7, (w) => slice.extents.forEach(([start, length]) => w.message(1, (e) => (length < 0 ? e : e.varint(1, start).varint(2, length)))));
    }
    const fullBytes = full.finish();
    stored.push({ key: new TextEncoder().encode(p.key), proto: () => fullBytes, data: new Uint8Array(0) });
    for (const slice of p.slices) {
      const shape = slice.extents.map(([, length], d) => (length < 0 ? p.shape[d]! : length));
      stored.push({ key: sliceKey(p.key, slice.extents), proto: dataEntry(p.dtype, shape, slice.data), data: slice.data });
    }
  }
  stored.sort((a, b) => compareBytes(a.key, b.key));
  const entries: [Uint8Array, Uint8Array][] = [[new Uint8Array(0), new ProtobufWriter().varint(1, 1).finish()]];
  let offset = 0;
  for (const t of stored) {
    entries.push([t.key, t.proto(offset)]);
    offset += t.data.length;
  }
  writeFileSync(`${prefix}.data-00000-of-00001`, concat(stored.map((t) => t.data)));

  const data = block(entries);
  const metaindex = block([]);
  const index = block([[entries[entries.length - 1]![0], handle(0, data.length - 5)]]);
  const footer = new Uint8Array(48);
  footer.set(concat([handle(data.length, metaindex.length - 5), handle(data.length + metaindex.length, index.length - 5)]));
  footer.set([0x57, 0xfb, 0x80, 0x8b, 0x24, 0x75, 0x47, 0xdb], 40);
  writeFileSync(`${prefix}.index`, concat([data, metaindex, index, footer]));
}

/**
 * checkpoint::EncodeTensorNameSlice, written from the OrderedCode description
 * (strings/ordered_code.h): NumIncreasing 0, String name, NumIncreasing rank,
 * then SignedNumIncreasing start and length per dimension (a whole dimension: 0, -1).
 */
export function sliceKey(name: string, extents: [number, number][]): Uint8Array {
  const parts: number[] = [...numIncreasing(0)];
  for (const b of new TextEncoder().encode(name)) parts.push(...(b === 0 ? [0, 0xff] : b === 0xff ? [0xff, 0] : [b]));
  parts.push(0, 1, ...numIncreasing(extents.length));
  for (const [start, length] of extents) parts.push(...signedNumIncreasing(length < 0 ? 0 : start), ...signedNumIncreasing(length));
  return Uint8Array.from(parts);
}

function numIncreasing(v: number): number[] {
  const bytes: number[] = [];
  for (let x = v; x > 0; x = Math.floor(x / 256)) bytes.unshift(x % 256);
  return [bytes.length, ...bytes];
}

/** Length L (1..8 here) takes 7L - 1 value bits after L leading one bits; negative values are the bitwise complement. */
function signedNumIncreasing(v: number): number[] {
  const x = BigInt(v < 0 ? -v - 1 : v);
  let length = 1;
  while (length < 8 && x >= 1n << BigInt(7 * length - 1)) length++;
  const bytes: number[] = [];
  for (let i = length - 1; i >= 0; i--) bytes.push(Number((x >> BigInt(8 * i)) & 0xffn));
  bytes[0] = bytes[0]! | (0xff << (8 - length)) & 0xff;
  return v < 0 ? bytes.map((b) => b ^ 0xff) : bytes;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/** A block with one restart point (no key sharing) and its type byte + masked CRC trailer. */
function block(entries: [Uint8Array, Uint8Array][]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const [k, value] of entries) {
    parts.push(varint(0), varint(k.length), varint(value.length), k, value);
  }
  parts.push(uint32(0), uint32(1));
  const contents = concat(parts);
  const type = Uint8Array.of(0);
  return concat([contents, type, uint32(maskCrc32c(crc32c(concat([contents, type]))))]);
}

function handle(offset: number, size: number): Uint8Array {
  return concat([varint(offset), varint(size)]);
}

function fixed32Field(field: number, value: number): Uint8Array {
  return concat([varint((field << 3) | 5), uint32(value)]);
}

function varint(value: number): Uint8Array {
  const bytes: number[] = [];
  let v = value;
  do {
    let b = v & 0x7f;
    v = Math.floor(v / 128);
    if (v > 0) b |= 0x80;
    bytes.push(b);
  } while (v > 0);
  return Uint8Array.from(bytes);
}

function uint32(value: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value >>> 0, true);
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
