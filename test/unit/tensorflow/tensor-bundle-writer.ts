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

export function writeTensorBundle(prefix: string, tensors: BundleTensor[]): void {
  mkdirSync(dirname(prefix), { recursive: true });
  const entries: [string, Uint8Array][] = [['', new ProtobufWriter().varint(1, 1).finish()]];
  let offset = 0;
  for (const t of [...tensors].sort((a, b) => (a.key < b.key ? -1 : 1))) {
    const proto = new ProtobufWriter()
      .varint(1, t.dtype)
      .message(2, (s) => t.shape.forEach((d) => s.message(2, (dim) => dim.varint(1, d))))
      .varint(3, 0)
      .varint(4, offset)
      .varint(5, t.data.length)
      .finish();
    entries.push([t.key, concat([proto, fixed32Field(6, maskCrc32c(crc32c(t.data)))])]);
    offset += t.data.length;
  }
  writeFileSync(`${prefix}.data-00000-of-00001`, concat(tensors.slice().sort((a, b) => (a.key < b.key ? -1 : 1)).map((t) => t.data)));

  const data = block(entries);
  const metaindex = block([]);
  const index = block([[entries[entries.length - 1]![0], handle(0, data.length - 5)]]);
  const footer = new Uint8Array(48);
  footer.set(concat([handle(data.length, metaindex.length - 5), handle(data.length + metaindex.length, index.length - 5)]));
  footer.set([0x57, 0xfb, 0x80, 0x8b, 0x24, 0x75, 0x47, 0xdb], 40);
  writeFileSync(`${prefix}.index`, concat([data, metaindex, index, footer]));
}

/** A block with one restart point (no key sharing) and its type byte + masked CRC trailer. */
function block(entries: [string, Uint8Array][]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const [key, value] of entries) {
    const k = new TextEncoder().encode(key);
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
