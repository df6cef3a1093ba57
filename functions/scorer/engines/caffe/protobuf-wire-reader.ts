/**
 * Just enough of the protobuf binary wire format to read `.caffemodel` files
 * without a protobuf library: a message is split into its fields once, and
 * nested messages are decoded only when a caller asks for them, so the large
 * weight arrays are touched once, when they are copied out.
 * Field numbers belong to the callers (see caffemodel-reader.ts).
 */

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LENGTH_DELIMITED = 2;
const WIRE_START_GROUP = 3;
const WIRE_FIXED32 = 5;

export type WireValue =
  | { readonly wireType: typeof WIRE_VARINT; readonly value: bigint }
  | { readonly wireType: typeof WIRE_FIXED64 | typeof WIRE_LENGTH_DELIMITED | typeof WIRE_FIXED32; readonly bytes: Uint8Array };

/** Malformed bytes; callers wrap it in a ModelLoadError that names the file. */
export class WireFormatError extends Error {}

export class WireMessage {
  private constructor(private readonly fields: ReadonlyMap<number, readonly WireValue[]>) {}

  static decode(bytes: Uint8Array): WireMessage {
    const fields = new Map<number, WireValue[]>();
    const cursor = new Cursor(bytes);
    while (!cursor.done()) {
      const tag = cursor.varint();
      const field = Number(tag >> 3n);
      const wireType = Number(tag & 7n);
      if (field === 0) throw new WireFormatError(`field number 0 at byte ${cursor.offset}`);
      let value: WireValue;
      switch (wireType) {
        case WIRE_VARINT:
          value = { wireType, value: cursor.varint() };
          break;
        case WIRE_FIXED64:
          value = { wireType, bytes: cursor.take(8) };
          break;
        case WIRE_LENGTH_DELIMITED:
          value = { wireType, bytes: cursor.take(cursor.length()) };
          break;
        case WIRE_FIXED32:
          value = { wireType, bytes: cursor.take(4) };
          break;
        case WIRE_START_GROUP:
          throw new WireFormatError(`field ${field} uses the deprecated group encoding, which no Caffe message has`);
        default:
          throw new WireFormatError(`unknown wire type ${wireType} for field ${field} at byte ${cursor.offset}`);
      }
      let list = fields.get(field);
      if (!list) fields.set(field, (list = []));
      list.push(value);
    }
    return new WireMessage(fields);
  }

  has(field: number): boolean {
    return this.fields.has(field);
  }

  /** proto2 semantics: for a non-repeated field the last occurrence wins. */
  string(field: number): string | undefined {
    const strings = this.strings(field);
    return strings[strings.length - 1];
  }

  strings(field: number): string[] {
    return this.lengthDelimited(field).map((b) => new TextDecoder().decode(b));
  }

  /** Last value of a varint field (int32/int64/uint64/enum/bool), as a signed number. */
  integer(field: number): number | undefined {
    const values = this.integers(field);
    return values[values.length - 1];
  }

  /** A repeated varint field, accepting both the packed and the unpacked encoding. */
  integers(field: number): number[] {
    const out: number[] = [];
    for (const v of this.values(field)) {
      if (v.wireType === WIRE_VARINT) out.push(toSigned(v.value));
      else if (v.wireType === WIRE_LENGTH_DELIMITED) {
        const cursor = new Cursor(v.bytes);
        while (!cursor.done()) out.push(toSigned(cursor.varint()));
      } else throw new WireFormatError(`field ${field}: expected varints, found wire type ${v.wireType}`);
    }
    return out;
  }

  /** A repeated float field, packed or not, copied into one array. */
  floats(field: number): Float32Array {
    return this.fixedWidth(field, 4, WIRE_FIXED32, (bytes) => copyLittleEndian(bytes, Float32Array), (view, at) => view.getFloat32(at, true));
  }

  doubles(field: number): Float64Array {
    return this.fixedWidth(field, 8, WIRE_FIXED64, (bytes) => copyLittleEndian(bytes, Float64Array), (view, at) => view.getFloat64(at, true));
  }

  messages(field: number): WireMessage[] {
    return this.lengthDelimited(field).map((b) => WireMessage.decode(b));
  }

  message(field: number): WireMessage | undefined {
    const all = this.lengthDelimited(field);
    // proto2 merges repeated occurrences of a singular message; the last one is enough for the fields Caffe writes once.
    return all.length === 0 ? undefined : WireMessage.decode(all[all.length - 1]!);
  }

  private values(field: number): readonly WireValue[] {
    return this.fields.get(field) ?? [];
  }

  private lengthDelimited(field: number): Uint8Array[] {
    return this.values(field).map((v) => {
      if (v.wireType !== WIRE_LENGTH_DELIMITED) throw new WireFormatError(`field ${field}: expected a length-delimited value, found wire type ${v.wireType}`);
      return v.bytes;
    });
  }

  private fixedWidth<T extends Float32Array | Float64Array>(
    field: number,
    width: number,
    unpackedWireType: number,
    copyPacked: (bytes: Uint8Array) => T,
    readOne: (view: DataView, at: number) => number,
  ): T {
    const parts: (T | number)[] = [];
    let total = 0;
    for (const v of this.values(field)) {
      if (v.wireType === WIRE_LENGTH_DELIMITED) {
        if (v.bytes.length % width !== 0) throw new WireFormatError(`field ${field}: packed length ${v.bytes.length} is not a multiple of ${width}`);
        const part = copyPacked(v.bytes);
        parts.push(part);
        total += part.length;
      } else if (v.wireType !== WIRE_VARINT && v.wireType === unpackedWireType) {
        parts.push(readOne(new DataView(v.bytes.buffer, v.bytes.byteOffset, width), 0));
        total += 1;
      } else throw new WireFormatError(`field ${field}: expected ${width * 8}-bit floats, found wire type ${v.wireType}`);
    }
    const only = parts[0];
    if (parts.length === 1 && typeof only !== 'number') return only!;
    const out = (width === 4 ? new Float32Array(total) : new Float64Array(total)) as T;
    let offset = 0;
    for (const part of parts) {
      if (typeof part === 'number') out[offset++] = part;
      else {
        out.set(part, offset);
        offset += part.length;
      }
    }
    return out;
  }
}

class Cursor {
  offset = 0;
  constructor(private readonly bytes: Uint8Array) {}

  done(): boolean {
    return this.offset >= this.bytes.length;
  }

  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.offset >= this.bytes.length) throw new WireFormatError(`truncated varint at byte ${this.offset}`);
      const b = this.bytes[this.offset++]!;
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
    }
    throw new WireFormatError(`varint longer than 10 bytes at byte ${this.offset}`);
  }

  length(): number {
    const length = this.varint();
    if (length > BigInt(this.bytes.length - this.offset)) {
      throw new WireFormatError(`length ${length} at byte ${this.offset} runs past the end of the data (${this.bytes.length - this.offset} bytes left)`);
    }
    return Number(length);
  }

  take(count: number): Uint8Array {
    if (this.offset + count > this.bytes.length) throw new WireFormatError(`truncated field at byte ${this.offset}`);
    const out = this.bytes.subarray(this.offset, this.offset + count);
    this.offset += count;
    return out;
  }
}

/** int32/int64 fields carry negative values as 64-bit two's complement. */
function toSigned(value: bigint): number {
  return Number(BigInt.asIntN(64, value));
}

// Copies into a fresh, aligned buffer (Buffer#slice would not copy); typed arrays read it in
// host order, which is little-endian on every platform we run on (as the ONNX writer assumes too).
function copyLittleEndian<T extends Float32Array | Float64Array>(bytes: Uint8Array, type: { new (buffer: ArrayBuffer): T }): T {
  return new type(new Uint8Array(bytes).buffer);
}
