/**
 * Just enough of the protobuf wire format to read TensorFlow's files: a cursor
 * that walks (field, wire type) pairs and reads the value the caller asks for.
 * Field numbers belong to the decoders (saved-model-decoder.ts, graph-decoder.ts);
 * this file knows only the encoding. Unknown fields are skipped, as protobuf
 * requires, so files written by newer TensorFlow versions still decode.
 */

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_LENGTH_DELIMITED = 2;
export const WIRE_FIXED32 = 5;

const TWO_POW_32 = 2 ** 32;
const utf8 = new TextDecoder('utf-8', { fatal: false });

/** A malformed buffer; decoders turn it into a ModelLoadError naming the file. */
export class ProtobufError extends Error {}

export class ProtobufReader {
  private pos: number;
  private readonly end: number;
  private readonly view: DataView;
  /** Field number of the current field (valid after `next()` returned true). */
  field = 0;
  /** Wire type of the current field. */
  wire = 0;

  constructor(private readonly bytes: Uint8Array) {
    this.pos = 0;
    this.end = bytes.length;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Advances to the next field; false at the end of the message. */
  next(): boolean {
    if (this.pos >= this.end) return false;
    const tag = this.uint32();
    this.field = tag >>> 3;
    this.wire = tag & 7;
    if (this.field === 0) throw new ProtobufError(`invalid field number 0 at byte ${this.pos}`);
    return true;
  }

  /** An unsigned varint that must fit 32 bits (tags, lengths, enums). */
  uint32(): number {
    const [lo, hi] = this.varint64Parts();
    if (hi !== 0) throw new ProtobufError(`varint out of 32-bit range in field ${this.field}`);
    return lo;
  }

  /** A signed 64-bit varint as a number (exact up to 2^53; int64 fields such as -1 dims). */
  int64(): number {
    const [lo, hi] = this.varint64Parts();
    return (hi | 0) * TWO_POW_32 + lo;
  }

  /** An unsigned 64-bit varint as a number (exact up to 2^53). */
  uint64(): number {
    const [lo, hi] = this.varint64Parts();
    return hi * TWO_POW_32 + lo;
  }

  /** A signed 32-bit varint (int32 fields; negatives are sign-extended to 10 bytes). */
  int32(): number {
    return this.varint64Parts()[0] | 0;
  }

  bool(): boolean {
    return this.uint64() !== 0;
  }

  float(): number {
    return this.view.getFloat32(this.take(4), true);
  }

  double(): number {
    return this.view.getFloat64(this.take(8), true);
  }

  fixed32(): number {
    return this.view.getUint32(this.take(4), true);
  }

  /** A length-delimited field as a view into the buffer (no copy). */
  bytesField(): Uint8Array {
    const length = this.uint32();
    const start = this.take(length);
    return this.bytes.subarray(start, start + length);
  }

  string(): string {
    return utf8.decode(this.bytesField());
  }

  /** Repeated varint scalars, packed or not (writers may use either). */
  repeatedInt64(into: number[]): void {
    if (this.wire !== WIRE_LENGTH_DELIMITED) {
      into.push(this.int64());
      return;
    }
    const inner = new ProtobufReader(this.bytesField());
    while (inner.pos < inner.end) into.push(inner.int64());
  }

  /** Repeated float (fixed32) scalars, packed or not. */
  repeatedFloat(into: number[]): void {
    if (this.wire !== WIRE_LENGTH_DELIMITED) {
      into.push(this.float());
      return;
    }
    const chunk = this.bytesField();
    const view = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    for (let i = 0; i + 4 <= chunk.length; i += 4) into.push(view.getFloat32(i, true));
  }

  /** Repeated double (fixed64) scalars, packed or not. */
  repeatedDouble(into: number[]): void {
    if (this.wire !== WIRE_LENGTH_DELIMITED) {
      into.push(this.double());
      return;
    }
    const chunk = this.bytesField();
    const view = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    for (let i = 0; i + 8 <= chunk.length; i += 8) into.push(view.getFloat64(i, true));
  }

  /** Skips the current field's value. */
  skip(): void {
    switch (this.wire) {
      case WIRE_VARINT:
        this.varint64Parts();
        return;
      case WIRE_FIXED64:
        this.take(8);
        return;
      case WIRE_LENGTH_DELIMITED:
        this.take(this.uint32());
        return;
      case WIRE_FIXED32:
        this.take(4);
        return;
      default:
        // Groups (3, 4) are proto2-only and never used by TensorFlow's protos.
        throw new ProtobufError(`unsupported wire type ${this.wire} for field ${this.field}`);
    }
  }

  private take(n: number): number {
    const start = this.pos;
    if (n < 0 || start + n > this.end) throw new ProtobufError(`field ${this.field} runs past the end of the buffer`);
    this.pos += n;
    return start;
  }

  /** Low and high 32 bits (both unsigned) of a varint of up to 10 bytes. */
  private varint64Parts(): [number, number] {
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new ProtobufError('truncated varint');
      const b = this.bytes[this.pos++]!;
      const bits = b & 0x7f;
      const shift = i * 7;
      if (shift < 28) {
        lo |= bits << shift;
      } else if (shift === 28) {
        lo |= (bits & 0x0f) << 28;
        hi |= bits >>> 4;
      } else {
        hi |= bits << (shift - 32);
      }
      if ((b & 0x80) === 0) return [lo >>> 0, hi >>> 0];
    }
    throw new ProtobufError('varint longer than 10 bytes');
  }
}

/** Decodes every field of a message with one callback, the loop every decoder needs. */
export function decodeMessage(bytes: Uint8Array, onField: (reader: ProtobufReader) => void): void {
  const reader = new ProtobufReader(bytes);
  while (reader.next()) onField(reader);
}
