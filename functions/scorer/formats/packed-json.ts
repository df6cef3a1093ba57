/**
 * The fast path for the common record: a JSON object whose members are all
 * rectangular arrays of numbers (`{"values": [[[0.5], ...]]}`), read straight
 * from the bytes into one Float64Array per member. Building the JS arrays is
 * most of the cost of decoding such a record: `npx tsx bench/record-decoding.ts`
 * compares both paths on the sample records (about 3x for the 10.7 KiB MNIST
 * one, whose prediction takes only ~0.2 ms).
 *
 * It accepts a strict subset of JSON and returns `undefined` for everything
 * else (strings, objects inside, empty or ragged arrays, escapes, non-ASCII,
 * numbers out of range): the caller then takes the general path, which also
 * says what is wrong with a bad record.
 */

/** A rectangular numeric array as the shape and its row-major values. */
export class PackedArray {
  constructor(
    readonly shape: readonly number[],
    readonly data: Float64Array,
  ) {}
}

// The general path refuses deeper nesting, with its own message.
const MAX_RANK = 32;
// Input names are short; a longer key is left to the general path (and its error).
const MAX_KEY_LENGTH = 256;
// 10^0 … 10^22 are exact doubles: a mantissa below 2^53 times or divided by one is correctly rounded.
const EXACT_POWERS_OF_TEN = Array.from({ length: 23 }, (_, i) => Number(`1e${i}`));

const enum Byte {
  Tab = 0x09,
  LineFeed = 0x0a,
  CarriageReturn = 0x0d,
  Space = 0x20,
  Quote = 0x22,
  Plus = 0x2b,
  Comma = 0x2c,
  Minus = 0x2d,
  Dot = 0x2e,
  Zero = 0x30,
  Nine = 0x39,
  Colon = 0x3a,
  UpperE = 0x45,
  OpenBracket = 0x5b,
  Backslash = 0x5c,
  CloseBracket = 0x5d,
  LowerE = 0x65,
  OpenBrace = 0x7b,
  CloseBrace = 0x7d,
}

// One instance, thrown to leave the parse from any depth: no stack captured per record.
const notPackable = new Error('not a packable record');

export function parsePackedRecord(bytes: Uint8Array): Record<string, PackedArray> | undefined {
  try {
    return new PackedParser(bytes).record();
  } catch (error) {
    if (error === notPackable) return undefined;
    throw error;
  }
}

class PackedParser {
  private pos = 0;
  /** Every member's numbers, one after the other; each member is a view of its part. */
  private values = new Float64Array(1024);
  private count = 0;

  private readonly view: DataView;
  /** The record as text, made once a number needs the runtime's own conversion. */
  private asText: string | undefined;

  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Numbers are ASCII, so a byte offset is a character offset in the latin1 reading. */
  private text(): string {
    this.asText ??= Buffer.from(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength).toString('latin1');
    return this.asText;
  }

  record(): Record<string, PackedArray> {
    const record: Record<string, PackedArray> = {};
    this.skipWhitespace();
    this.expect(Byte.OpenBrace);
    this.skipWhitespace();
    if (this.bytes[this.pos] === Byte.CloseBrace) throw notPackable;
    for (;;) {
      this.skipWhitespace();
      const key = this.key();
      this.skipWhitespace();
      this.expect(Byte.Colon);
      this.skipWhitespace();
      record[key] = this.member();
      this.skipWhitespace();
      if (this.bytes[this.pos] === Byte.Comma) this.pos++;
      else break;
    }
    this.expect(Byte.CloseBrace);
    this.skipWhitespace();
    if (this.pos !== this.bytes.length) throw notPackable;
    return record;
  }

  private key(): string {
    this.expect(Byte.Quote);
    const start = this.pos;
    for (;;) {
      const c = this.bytes[this.pos];
      if (c === Byte.Quote) break;
      if (this.pos - start === MAX_KEY_LENGTH) throw notPackable;
      // Escapes, control characters and non-ASCII (and the end of the input) are left to JSON.parse.
      if (c === undefined || c === Byte.Backslash || c < Byte.Space || c > 0x7e) throw notPackable;
      this.pos++;
    }
    const key = String.fromCharCode(...this.bytes.subarray(start, this.pos));
    this.pos++;
    // JSON.parse makes "__proto__" an own property; assigning it would set the prototype instead.
    if (key === '__proto__') throw notPackable;
    return key;
  }

  /**
   * One member's nested arrays, walked without recursion. The hot path: it keeps
   * to locals, and reads numbers inline (as a separate function, even a
   * module-level one, the 10.7 KiB MNIST record took ~20 µs instead of ~16).
   */
  private member(): PackedArray {
    const bytes = this.bytes;
    const end = bytes.length;
    const view = this.view;
    let pos = this.pos;
    let values = this.values;
    let count = this.count;
    const first = count;
    /** Per depth: the length every array there must have (set by the first one to close), and the open one's so far. */
    const dims = new Int32Array(MAX_RANK).fill(-1);
    const lengths = new Int32Array(MAX_RANK);
    /** The depth of the arrays that hold the numbers, once known. */
    let leafDepth = -1;
    let depth = -1;
    if (bytes[pos] !== Byte.OpenBracket) throw notPackable;
    for (;;) {
      // A value starts at pos: an array or a number.
      let c = bytes[pos];
      if (c === Byte.OpenBracket) {
        if (leafDepth !== -1 && depth >= leafDepth) throw notPackable; // an array among numbers
        if (++depth === MAX_RANK) throw notPackable;
        lengths[depth] = 0;
        pos++;
        if (bytes[pos]! <= Byte.Space) pos = skipWhitespace(bytes, pos);
        if (bytes[pos] === Byte.CloseBracket) throw notPackable; // empty arrays keep the general path's rules
        continue;
      }
      if (leafDepth === -1) leafDepth = depth;
      else if (depth !== leafDepth) throw notPackable; // a number among arrays
      // JSON's number grammar, exactly; the value as JSON.parse would give it.
      const start = pos;
      const negative = c === Byte.Minus;
      if (negative) c = bytes[++pos];
      let mantissa = 0;
      let digits = 0;
      let exponent = 0;
      if (c === Byte.Zero) {
        c = bytes[++pos];
      } else {
        if (!(c! >= Byte.Zero && c! <= Byte.Nine)) throw notPackable;
        do {
          mantissa = mantissa * 10 + (c! - Byte.Zero);
          digits++;
          c = bytes[++pos];
        } while (c! >= Byte.Zero && c! <= Byte.Nine);
      }
      if (c === Byte.Dot) {
        c = bytes[++pos];
        if (!(c! >= Byte.Zero && c! <= Byte.Nine)) throw notPackable;
        const fractionStart = pos;
        // Four digits at a time while they last: one little-endian 32-bit read, checked and
        // combined with integer arithmetic (fractions are where records spend their digits).
        while (pos + 4 <= end) {
          let quad = view.getUint32(pos, true);
          if (((quad & 0xf0f0f0f0) | (((quad + 0x06060606) & 0xf0f0f0f0) >>> 4)) !== 0x33333333) break;
          quad -= 0x30303030;
          quad = (Math.imul(quad, 10) + (quad >>> 8)) & 0x00ff00ff;
          quad = (Math.imul(quad, 100) + (quad >>> 16)) & 0x0000ffff;
          mantissa = mantissa * 10000 + quad;
          pos += 4;
        }
        c = bytes[pos];
        while (c! >= Byte.Zero && c! <= Byte.Nine) {
          mantissa = mantissa * 10 + (c! - Byte.Zero);
          c = bytes[++pos];
        }
        digits += pos - fractionStart;
        exponent -= pos - fractionStart;
      }
      if (c === Byte.LowerE || c === Byte.UpperE) {
        c = bytes[++pos];
        const sign = c === Byte.Minus ? -1 : 1;
        if (c === Byte.Minus || c === Byte.Plus) c = bytes[++pos];
        if (!(c! >= Byte.Zero && c! <= Byte.Nine)) throw notPackable;
        let written = 0;
        do {
          written = Math.min(written * 10 + (c! - Byte.Zero), 1e6);
          c = bytes[++pos];
        } while (c! >= Byte.Zero && c! <= Byte.Nine);
        exponent += sign * written;
      }
      let value: number;
      if (mantissa === 0) value = 0;
      else if (digits <= 15 && exponent >= -22 && exponent <= 22) {
        value = exponent >= 0 ? mantissa * EXACT_POWERS_OF_TEN[exponent]! : mantissa / EXACT_POWERS_OF_TEN[-exponent]!;
      } else {
        // Too many digits or too large an exponent for one exact operation: let the runtime round it.
        // (Common: float32 values written as doubles have 16–17 digits, like 0.2705882489681244.)
        value = Math.abs(Number(this.text().slice(start, pos)));
        if (!Number.isFinite(value)) throw notPackable;
      }
      if (count === values.length) {
        // Views already handed out keep the old buffer, which is never written again.
        const grown = new Float64Array(values.length * 2);
        grown.set(values);
        values = this.values = grown;
      }
      values[count++] = negative ? -value : value;
      lengths[depth]!++;
      // After a value: more values, or the end of one or more arrays.
      for (;;) {
        if (bytes[pos]! <= Byte.Space) pos = skipWhitespace(bytes, pos);
        c = bytes[pos++];
        if (c === Byte.Comma) break;
        if (c !== Byte.CloseBracket) throw notPackable;
        const expected = dims[depth];
        if (expected === -1) dims[depth] = lengths[depth]!;
        else if (expected !== lengths[depth]) throw notPackable; // ragged
        if (--depth === -1) {
          this.pos = pos;
          this.count = count;
          return new PackedArray(Array.from(dims.subarray(0, leafDepth + 1)), values.subarray(first, count));
        }
        lengths[depth]!++;
      }
      if (bytes[pos]! <= Byte.Space) pos = skipWhitespace(bytes, pos);
    }
  }

  private skipWhitespace(): void {
    this.pos = skipWhitespace(this.bytes, this.pos);
  }

  private expect(byte: Byte): void {
    if (this.bytes[this.pos] !== byte) throw notPackable;
    this.pos++;
  }
}

// Reads stay in bounds: an out-of-bounds read makes V8 deoptimize the hot loop it sits in.
function skipWhitespace(bytes: Uint8Array, pos: number): number {
  while (pos < bytes.length) {
    const c = bytes[pos]!;
    if (c !== Byte.Space && c !== Byte.LineFeed && c !== Byte.CarriageReturn && c !== Byte.Tab) return pos;
    pos++;
  }
  return pos;
}
