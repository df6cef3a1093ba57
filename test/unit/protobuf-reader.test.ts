/** The shared protobuf wire-format reader, checked against the shared writer. */
import { describe, expect, it } from 'vitest';
import { ProtobufError, ProtobufReader, decodeMessage } from '../../functions/protobuf/protobuf-reader.js';
import { ProtobufWriter } from '../../functions/protobuf/protobuf-writer.js';

/** The value `read` gets out of each field, in order. */
function readEach<T>(bytes: Uint8Array, read: (r: ProtobufReader) => T): T[] {
  const out: T[] = [];
  decodeMessage(bytes, (r) => out.push(read(r)));
  return out;
}

/** One field with a fixed32 (wire type 5) or fixed64 (wire type 1) value, which the writer only emits as float/double. */
function fixedField(field: number, wireType: 1 | 5, littleEndian: number[]): Uint8Array {
  return Uint8Array.from([(field << 3) | wireType, ...littleEndian]);
}

describe('protobuf reader: scalars round-tripped through the writer', () => {
  it('reads each scalar type back, with the field numbers and wire types it was written with', () => {
    const bytes = new ProtobufWriter()
      .varint(1, 150)
      .varint(2, 2 ** 40)
      .varint(3, 1)
      .float(4, 0.5)
      .double(5, Math.PI)
      .string(6, 'naïve ✓')
      .bytes(7, Uint8Array.from([0, 255, 7]))
      .message(8, (m) => m.string(1, 'inner').varint(2, 42))
      .finish();
    const reader = new ProtobufReader(bytes);
    const seen: [number, number, unknown][] = [];
    while (reader.next()) {
      const { field, wireType } = reader;
      switch (field) {
        case 1: seen.push([field, wireType, reader.uint32()]); break;
        case 2: seen.push([field, wireType, reader.uint64()]); break;
        case 3: seen.push([field, wireType, reader.bool()]); break;
        case 4: seen.push([field, wireType, reader.float()]); break;
        case 5: seen.push([field, wireType, reader.double()]); break;
        case 6: seen.push([field, wireType, reader.string()]); break;
        case 7: seen.push([field, wireType, Array.from(reader.bytes())]); break;
        case 8: seen.push([field, wireType, readEach(reader.bytes(), (m) => (m.field === 1 ? m.string() : m.int64()))]); break;
      }
    }
    expect(seen).toEqual([
      [1, 0, 150],
      [2, 0, 2 ** 40],
      [3, 0, true],
      [4, 5, 0.5],
      [5, 1, Math.PI],
      [6, 2, 'naïve ✓'],
      [7, 2, [0, 255, 7]],
      [8, 2, ['inner', 42]],
    ]);
  });

  it('reads fixed32 and fixed64 as unsigned', () => {
    expect(readEach(fixedField(1, 5, [0xff, 0xff, 0xff, 0xff]), (r) => r.fixed32())).toEqual([0xffffffff]);
    expect(readEach(fixedField(1, 1, [1, 0, 0, 0, 0, 0, 0, 0x80]), (r) => r.fixed64())).toEqual([2n ** 63n + 1n]);
  });

  it('returns bytes as a view into the buffer, not a copy', () => {
    const bytes = new ProtobufWriter().bytes(1, Uint8Array.from([1, 2, 3])).finish();
    const [view] = readEach(bytes, (r) => r.bytes());
    expect(view!.buffer).toBe(bytes.buffer);
  });

  it('keeps 64-bit varints exact as bigint', () => {
    const max = 2n ** 64n - 1n;
    const bytes = new ProtobufWriter().varint(1, max).varint(1, 2n ** 63n - 1n).varint(1, 2n ** 53n + 1n).finish();
    expect(readEach(bytes, (r) => r.bigUint64())).toEqual([max, 2n ** 63n - 1n, 2n ** 53n + 1n]);
  });
});

describe('protobuf reader: negative int64 varints', () => {
  // Negative int32 and int64 values are written sign-extended to 64 bits: always 10 bytes.
  const values = [-1n, -300n, -(2n ** 40n), -(2n ** 63n)];
  const bytes = values.reduce((w, v) => w.varint(1, v), new ProtobufWriter()).finish();

  it('writes them as 10-byte varints', () => {
    expect(bytes.length).toBe(values.length * (1 + 10));
  });

  it('reads them as signed numbers, exact bigints, and (cut to 32 bits) int32', () => {
    expect(readEach(bytes, (r) => r.int64())).toEqual([-1, -300, -(2 ** 40), -(2 ** 63)]);
    expect(readEach(bytes, (r) => r.bigInt64())).toEqual(values);
    expect(readEach(bytes, (r) => r.int32())).toEqual([-1, -300, 0, 0]);
  });

  it('reads them as unsigned 64-bit values when the field is uint64', () => {
    expect(readEach(bytes, (r) => r.bigUint64())).toEqual(values.map((v) => BigInt.asUintN(64, v)));
    expect(readEach(bytes.subarray(0, 11), (r) => r.uint64())).toEqual([2 ** 64]);
  });

  it('reads them inside a packed run', () => {
    const packed = new ProtobufWriter().packedVarints(1, values).finish();
    expect(readEach(packed, (r) => r.int64s())).toEqual([[-1, -300, -(2 ** 40), -(2 ** 63)]]);
  });

  it('reads repeated int64s exactly as bigints, packed or not, up to INT64_MAX', () => {
    const extremes = [2n ** 63n - 1n, ...values];
    expect(readEach(new ProtobufWriter().packedVarints(1, extremes).finish(), (r) => r.bigInt64s())).toEqual([extremes]);
    expect(readEach(extremes.reduce((w, v) => w.varint(1, v), new ProtobufWriter()).finish(), (r) => r.bigInt64s())).toEqual(extremes.map((v) => [v]));
  });
});

describe('protobuf reader: repeated scalars, packed or unpacked', () => {
  /** Every value of field 1, whatever encoding each occurrence used. */
  function all<T>(bytes: Uint8Array, read: (r: ProtobufReader) => ArrayLike<T>): T[] {
    return readEach(bytes, (r) => Array.from(read(r))).flat();
  }

  it('reads varints the same either way, and mixed', () => {
    const packed = new ProtobufWriter().packedVarints(1, [3, 300, 70000]).finish();
    const unpacked = new ProtobufWriter().varint(1, 3).varint(1, 300).varint(1, 70000).finish();
    const mixed = new ProtobufWriter().varint(1, 3).packedVarints(1, [300, 70000]).finish();
    for (const bytes of [packed, unpacked, mixed]) expect(all(bytes, (r) => r.int64s())).toEqual([3, 300, 70000]);
  });

  it('reads floats the same either way, as a copy that outlives the buffer', () => {
    const values = [1.5, -2, 0.25];
    const packed = new ProtobufWriter().packedFloats(1, values).finish();
    const unpacked = values.reduce((w, v) => w.float(1, v), new ProtobufWriter()).finish();
    expect(all(packed, (r) => r.floats())).toEqual(values);
    expect(all(unpacked, (r) => r.floats())).toEqual(values);
    const [run] = readEach(packed, (r) => r.floats());
    packed.fill(0);
    expect(Array.from(run!)).toEqual(values);
  });

  it('reads doubles the same either way', () => {
    const values = [Math.PI, -1e300];
    const packed = new ProtobufWriter().bytes(1, new Uint8Array(Float64Array.from(values).buffer)).finish();
    const unpacked = values.reduce((w, v) => w.double(1, v), new ProtobufWriter()).finish();
    expect(all(packed, (r) => r.doubles())).toEqual(values);
    expect(all(unpacked, (r) => r.doubles())).toEqual(values);
  });

  it('reads an empty packed run as no values', () => {
    const empty = new ProtobufWriter().bytes(1, new Uint8Array(0)).finish();
    expect(readEach(empty, (r) => r.int64s())).toEqual([[]]);
    expect(readEach(empty, (r) => r.floats().length)).toEqual([0]);
  });
});

describe('protobuf reader: unknown fields', () => {
  it('skips fields of every wire type', () => {
    const bytes = new ProtobufWriter()
      .varint(9, -1)
      .double(10, 1)
      .string(11, 'skipped')
      .float(12, 2)
      .message(13, (m) => m.varint(1, 5))
      .varint(1, 7)
      .finish();
    const kept: number[] = [];
    decodeMessage(bytes, (r) => (r.field === 1 ? kept.push(r.int64()) : r.skip()));
    expect(kept).toEqual([7]);
  });
});

describe('protobuf reader: malformed input', () => {
  const read = (bytes: Uint8Array, onField: (r: ProtobufReader) => unknown = (r) => r.skip()): (() => void) => () => decodeMessage(bytes, (r) => void onField(r));

  it('names the field whose length-delimited value runs past the end', () => {
    const bytes = new ProtobufWriter().varint(1, 1).string(7, 'truncated value').finish().subarray(0, 10);
    expect(read(bytes)).toThrow(ProtobufError);
    expect(read(bytes)).toThrow(/^field 7: length 15 at byte 3 runs past the end of the data \(6 bytes left\)$/);
    expect(read(bytes, (r) => (r.field === 7 ? r.string() : r.skip()))).toThrow(/^field 7: length 15 .* runs past the end/);
  });

  it('names the field of a truncated varint, fixed32 or fixed64', () => {
    const varint = new ProtobufWriter().varint(3, 300).finish().subarray(0, 2);
    expect(read(varint, (r) => r.int64())).toThrow(/^field 3: truncated varint at byte 1$/);
    const fixed32 = new ProtobufWriter().float(4, 1).finish().subarray(0, 3);
    expect(read(fixed32, (r) => r.float())).toThrow(/^field 4: a 4-byte value at byte 1 runs past the end of the data \(2 bytes left\)$/);
    const fixed64 = new ProtobufWriter().double(5, 1).finish().subarray(0, 8);
    expect(read(fixed64)).toThrow(/^field 5: a 8-byte value at byte 1 runs past the end/);
  });

  it('names the field of a truncated packed run', () => {
    const varints = new ProtobufWriter().bytes(6, Uint8Array.from([0x96])).finish();
    expect(read(varints, (r) => r.int64s())).toThrow(/^field 6: truncated varint/);
    const floats = new ProtobufWriter().bytes(6, new Uint8Array(7)).finish();
    expect(read(floats, (r) => r.floats())).toThrow(/^field 6: packed length 7 is not a multiple of 4$/);
    expect(read(floats, (r) => r.doubles())).toThrow(/^field 6: packed length 7 is not a multiple of 8$/);
  });

  it('reports a truncated tag', () => {
    const bytes = Uint8Array.from([0x08, 0x01, 0x80]);
    expect(read(bytes)).toThrow(/^field tag: truncated varint at byte 2$/);
  });

  it('rejects a varint longer than 10 bytes, and field number 0', () => {
    expect(read(Uint8Array.from([0x08, ...new Array(10).fill(0xff), 0x01]))).toThrow(/^field 1: varint longer than 10 bytes at byte 1$/);
    expect(read(Uint8Array.from([0x00, 0x01]))).toThrow(/^field tag: field number 0 at byte 0$/);
    expect(read(Uint8Array.from([0x80, 0x80, 0x80, 0x80, 0x10]))).toThrow(/^field tag: field number of 2\^29 or more at byte 0$/);
  });

  it('rejects a value read with the wrong type, naming the field and both wire types', () => {
    const bytes = new ProtobufWriter().string(2, 'text').finish();
    expect(read(bytes, (r) => r.int64())).toThrow(/^field 2: expected a varint value, found wire type 2 \(length-delimited\)$/);
    expect(read(bytes, (r) => r.float())).toThrow(/^field 2: expected a fixed32 value/);
    expect(read(new ProtobufWriter().varint(2, 1).finish(), (r) => r.string())).toThrow(/^field 2: expected a length-delimited value, found wire type 0 \(varint\)$/);
    expect(read(new ProtobufWriter().float(2, 1).finish(), (r) => r.int64s())).toThrow(/^field 2: expected a varint value, found wire type 5/);
  });

  it('rejects uint32 values that need more than 32 bits', () => {
    expect(read(new ProtobufWriter().varint(1, 2 ** 32).finish(), (r) => r.uint32())).toThrow(/^field 1: varint out of 32-bit range$/);
  });

  it('rejects groups and unknown wire types when skipping', () => {
    expect(read(Uint8Array.from([(1 << 3) | 3]))).toThrow(/^field 1: the group encoding \(wire type 3\) is not supported$/);
    expect(read(Uint8Array.from([(1 << 3) | 6]))).toThrow(/^field 1: unknown wire type 6$/);
  });
});
