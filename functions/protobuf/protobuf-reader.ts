/**
 * The protobuf binary wire format, read without a protobuf library: a cursor
 * that walks a message's (field, wire type) pairs and reads the value the
 * caller asks for. Field numbers belong to the decoders (the Caffe and
 * TensorFlow readers); this file knows only the encoding. Decoders skip the
 * fields they do not know, as protobuf requires, so files written by newer
 * producers still decode.
 */

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LENGTH_DELIMITED = 2;
const WIRE_START_GROUP = 3;
const WIRE_FIXED32 = 5;

const WIRE_NAMES: Readonly<Record<number, string>> = {
  [WIRE_VARINT]: 'varint',
  [WIRE_FIXED64]: 'fixed64',
  [WIRE_LENGTH_DELIMITED]: 'length-delimited',
  [WIRE_START_GROUP]: 'start group',
  4: 'end group',
  [WIRE_FIXED32]: 'fixed32',
};

const TWO_POW_32 = 2 ** 32;
const utf8 = new TextDecoder('utf-8', { fatal: false });

/** Malformed bytes; decoders turn it into an error that names the file. */
export class ProtobufError extends Error {}

export class ProtobufReader {
  /** Field number of the current field (valid after `next()` returned true). */
  field = 0;
  /** Wire type of the current field. */
  wireType = 0;
  private pos = 0;
  private readonly view: DataView;

  constructor(private readonly data: Uint8Array) {
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  }

  /** Advances to the next field; false at the end of the message. */
  next(): boolean {
    if (this.pos >= this.data.length) return false;
    const at = this.pos;
    this.field = 0; // so that a truncated tag is reported as such, not as the previous field
    const [tag, high] = this.varint();
    // Field numbers stop at 2^29 - 1, so any valid tag fits in 32 bits.
    if (high !== 0) throw this.error(`field number of 2^29 or more at byte ${at}`);
    if (tag >>> 3 === 0) throw this.error(`field number 0 at byte ${at}`);
    this.field = tag >>> 3;
    this.wireType = tag & 7;
    return true;
  }

  /** uint32 and enum fields; a value that needs more than 32 bits is an error rather than silently cut. */
  uint32(): number {
    const [lo, hi] = this.scalarVarint();
    if (hi !== 0) throw this.error('varint out of 32-bit range');
    return lo;
  }

  /** int32 fields (negative values arrive sign-extended to 10 bytes). */
  int32(): number {
    return this.scalarVarint()[0] | 0;
  }

  /** int64 fields as a number: exact up to 2^53, which dims, offsets and sizes never reach. */
  int64(): number {
    const [lo, hi] = this.scalarVarint();
    return (hi | 0) * TWO_POW_32 + lo;
  }

  /** uint64 fields as a number: exact up to 2^53. */
  uint64(): number {
    const [lo, hi] = this.scalarVarint();
    return hi * TWO_POW_32 + lo;
  }

  /** int64 fields, exact. */
  bigInt64(): bigint {
    return BigInt.asIntN(64, this.bigUint64());
  }

  /** uint64 fields, exact. */
  bigUint64(): bigint {
    const [lo, hi] = this.scalarVarint();
    return (BigInt(hi) << 32n) | BigInt(lo);
  }

  bool(): boolean {
    const [lo, hi] = this.scalarVarint();
    return (lo | hi) !== 0;
  }

  fixed32(): number {
    this.expect(WIRE_FIXED32);
    return this.view.getUint32(this.take(4), true);
  }

  fixed64(): bigint {
    this.expect(WIRE_FIXED64);
    return this.view.getBigUint64(this.take(8), true);
  }

  float(): number {
    this.expect(WIRE_FIXED32);
    return this.view.getFloat32(this.take(4), true);
  }

  double(): number {
    this.expect(WIRE_FIXED64);
    return this.view.getFloat64(this.take(8), true);
  }

  /** A bytes, string or sub-message field as a view into the buffer (no copy); decode sub-messages with `decodeMessage`. */
  bytes(): Uint8Array {
    this.expect(WIRE_LENGTH_DELIMITED);
    return this.lengthDelimited();
  }

  string(): string {
    return utf8.decode(this.bytes());
  }

  /**
   * One occurrence of a repeated int64 (or int32, enum, bool) field: a packed run
   * or a single unpacked value. Writers may use either encoding, and may mix them.
   */
  int64s(): number[] {
    return this.repeatedVarints((r) => r.int64());
  }

  /** `int64s`, exact: for values that may pass 2^53 (e.g. INT64_MAX as a "to the end" marker). */
  bigInt64s(): bigint[] {
    return this.repeatedVarints((r) => r.bigInt64());
  }

  private repeatedVarints<T>(read: (r: ProtobufReader) => T): T[] {
    if (this.wireType !== WIRE_LENGTH_DELIMITED) return [read(this)];
    const packed = new ProtobufReader(this.lengthDelimited());
    packed.field = this.field;
    packed.wireType = WIRE_VARINT;
    const out: T[] = [];
    while (packed.pos < packed.data.length) out.push(read(packed));
    return out;
  }

  /** One occurrence of a repeated float field, packed or not, as a copy (weights outlive the file buffer). */
  floats(): Float32Array {
    if (this.wireType !== WIRE_LENGTH_DELIMITED) return Float32Array.of(this.float());
    return new Float32Array(this.packedCopy(4));
  }

  /** One occurrence of a repeated double field, packed or not, as a copy. */
  doubles(): Float64Array {
    if (this.wireType !== WIRE_LENGTH_DELIMITED) return Float64Array.of(this.double());
    return new Float64Array(this.packedCopy(8));
  }

  /** Skips the current field's value, whatever its type. */
  skip(): void {
    switch (this.wireType) {
      case WIRE_VARINT:
        this.varint();
        return;
      case WIRE_FIXED64:
        this.take(8);
        return;
      case WIRE_LENGTH_DELIMITED:
        this.lengthDelimited();
        return;
      case WIRE_FIXED32:
        this.take(4);
        return;
      case WIRE_START_GROUP:
        // Groups are deprecated proto2; neither caffe.proto nor TensorFlow's protos use them.
        throw this.error('the group encoding (wire type 3) is not supported');
      default:
        throw this.error(`unknown wire type ${this.wireType}`);
    }
  }

  private scalarVarint(): [number, number] {
    this.expect(WIRE_VARINT);
    return this.varint();
  }

  private expect(wireType: number): void {
    if (this.wireType !== wireType) {
      throw this.error(`expected a ${WIRE_NAMES[wireType]} value, found wire type ${this.wireType} (${WIRE_NAMES[this.wireType] ?? 'unknown'})`);
    }
  }

  private lengthDelimited(): Uint8Array {
    const at = this.pos;
    const [lo, hi] = this.varint();
    const length = hi * TWO_POW_32 + lo;
    const left = this.data.length - this.pos;
    if (length > left) throw this.error(`length ${length} at byte ${at} runs past the end of the data (${left} bytes left)`);
    const start = this.take(length);
    return this.data.subarray(start, start + length);
  }

  /**
   * Copies a packed run into a fresh, aligned buffer: `new Uint8Array(view)` copies where
   * Buffer#slice would not. Typed arrays then read it in host order, little-endian on
   * every platform we run on (the ONNX writer assumes so too).
   */
  private packedCopy(width: number): ArrayBuffer {
    const run = this.lengthDelimited();
    if (run.length % width !== 0) throw this.error(`packed length ${run.length} is not a multiple of ${width}`);
    return new Uint8Array(run).buffer;
  }

  private take(count: number): number {
    const start = this.pos;
    if (start + count > this.data.length) {
      throw this.error(`a ${count}-byte value at byte ${start} runs past the end of the data (${this.data.length - start} bytes left)`);
    }
    this.pos += count;
    return start;
  }

  /** Low and high 32 bits (both unsigned) of a varint of up to 10 bytes; numbers keep the common case free of BigInt. */
  private varint(): [number, number] {
    const at = this.pos;
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.data.length) throw this.error(`truncated varint at byte ${at}`);
      const b = this.data[this.pos++]!;
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
    throw this.error(`varint longer than 10 bytes at byte ${at}`);
  }

  private error(problem: string): ProtobufError {
    return new ProtobufError(this.field === 0 ? `field tag: ${problem}` : `field ${this.field}: ${problem}`);
  }
}

/** Decodes every field of a message with one callback, the loop every decoder needs. */
export function decodeMessage(bytes: Uint8Array, onField: (reader: ProtobufReader) => void): void {
  const reader = new ProtobufReader(bytes);
  while (reader.next()) onField(reader);
}
