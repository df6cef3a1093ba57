/**
 * The fast path for the common record: a JSON object whose members are all
 * rectangular arrays of numbers (`{"values": [[[0.5], ...]]}`), read straight
 * from the bytes into one Float64Array per member. Building the JS arrays is
 * most of the cost of decoding such a record: `npx tsx bench/record-decoding.ts`
 * compares both paths on the sample records (for the 10.7 KiB MNIST one,
 * whose prediction takes only ~0.19 ms, about 10 µs against 70).
 *
 * The arrays are read by a small WebAssembly loop (`packed-json.wat`, less than
 * half the time of the same loop in TypeScript). This module drives it: the
 * object, its keys, copying the record in and handing out views of the values.
 *
 * It accepts a strict subset of JSON and returns `undefined` for everything
 * else (strings, objects inside, empty or ragged arrays, escapes, non-ASCII,
 * numbers out of range): the caller then takes the general path, which also
 * says what is wrong with a bad record.
 */
import { PACKED_JSON_WASM } from './packed-json-wasm.js';

/**
 * A rectangular numeric array as the shape and its row-major values. The
 * values stay in the reader's memory (copying them out cost as much as reading
 * a small record's numbers), so they can be read only until the next record is:
 * callers copy them into their tensor at once, and a late read throws.
 */
export class PackedArray {
  constructor(
    readonly shape: readonly number[],
    private readonly values: Float64Array,
    private readonly record: number,
  ) {}

  get data(): Float64Array {
    if (this.record !== recordsRead) throw new Error('packed values read after a later record replaced them; copy them before reading the next record');
    return this.values;
  }
}

// Input names are short; a longer key is left to the general path (and its error).
const MAX_KEY_LENGTH = 256;

// The WebAssembly memory's layout (packed-json.wat says what each part holds).
const COUNT_AT = 0;
const RANK_AT = 4;
const VALUES_AT_AT = 8;
const DIMS_AT = 16;
const INPUT_AT = 512;
const PAGE_BYTES = 65536;

const enum Byte {
  Tab = 0x09,
  LineFeed = 0x0a,
  CarriageReturn = 0x0d,
  Space = 0x20,
  Quote = 0x22,
  Comma = 0x2c,
  Colon = 0x3a,
  Backslash = 0x5c,
  OpenBrace = 0x7b,
  CloseBrace = 0x7d,
}

interface ArrayReader {
  readonly memory: { readonly buffer: ArrayBuffer; grow(pages: number): number };
  /** The member at `pos` (absolute); the position after it, or -1 when it is not packable. */
  member(pos: number, end: number): number;
}

// The part of the runtime's WebAssembly API used here (Node's type definitions for this target leave it out).
const { Module, Instance } = (globalThis as unknown as {
  WebAssembly: { Module: new (binary: Uint8Array) => object; Instance: new (module: object, imports: object) => { exports: unknown } };
}).WebAssembly;

/** The record being read, for the numbers the WebAssembly loop hands back to the runtime. */
let reading: { bytes: Uint8Array; text?: string } | undefined;
/** Counts the records read, so a PackedArray knows whether its values are still in the memory. */
let recordsRead = 0;

const reader = new Instance(new Module(Buffer.from(PACKED_JSON_WASM, 'base64')), { packed: { slowNumber } }).exports as ArrayReader;

/** Views of the memory, made again only when it has grown (which replaces its buffer). */
let views: { buffer: ArrayBuffer; heap: Uint8Array; header: Int32Array } | undefined;

function memoryViews(): { heap: Uint8Array; header: Int32Array } {
  const buffer = reader.memory.buffer;
  if (views?.buffer !== buffer) views = { buffer, heap: new Uint8Array(buffer), header: new Int32Array(buffer, 0, DIMS_AT / 4 + 32) };
  return views;
}

/** Numbers are ASCII, so a byte offset is a character offset in the latin1 reading (made once per record). */
function slowNumber(start: number, end: number): number {
  const record = reading!;
  record.text ??= Buffer.from(record.bytes.buffer, record.bytes.byteOffset, record.bytes.byteLength).toString('latin1');
  return Number(record.text.slice(start - INPUT_AT, end - INPUT_AT));
}

// One instance, thrown to leave the parse from any depth: no stack captured per record.
const notPackable = new Error('not a packable record');

/** The record's members, or `undefined` for the general path. Their values last until the next call. */
export function parsePackedRecord(bytes: Uint8Array): Record<string, PackedArray> | undefined {
  recordsRead++;
  reading = { bytes };
  try {
    return new PackedParser(bytes).record();
  } catch (error) {
    if (error === notPackable) return undefined;
    throw error;
  } finally {
    reading = undefined;
  }
}

class PackedParser {
  private pos = 0;
  /** Where the values start in the WebAssembly memory: after the record and its closing 0 byte, 8-aligned. */
  private readonly valuesAt: number;

  constructor(private readonly bytes: Uint8Array) {
    this.valuesAt = (INPUT_AT + bytes.length + 1 + 7) & ~7;
    // Room for the record and as many values as it has bytes / 8; the loop grows the memory for more.
    const needed = this.valuesAt + bytes.length;
    const memory = reader.memory;
    if (memory.buffer.byteLength < needed) memory.grow(Math.ceil((needed - memory.buffer.byteLength) / PAGE_BYTES));
    const { heap, header } = memoryViews();
    heap.set(bytes, INPUT_AT);
    heap[INPUT_AT + bytes.length] = 0;
    header[COUNT_AT / 4] = 0;
    header[VALUES_AT_AT / 4] = this.valuesAt;
  }

  record(): Record<string, PackedArray> {
    const members: [key: string, shape: number[], first: number, end: number][] = [];
    this.skipWhitespace();
    this.expect(Byte.OpenBrace);
    this.skipWhitespace();
    if (this.bytes[this.pos] === Byte.CloseBrace) throw notPackable;
    let count = 0;
    for (;;) {
      this.skipWhitespace();
      const key = this.key();
      this.skipWhitespace();
      this.expect(Byte.Colon);
      this.skipWhitespace();
      const next = reader.member(INPUT_AT + this.pos, INPUT_AT + this.bytes.length);
      if (next < 0) throw notPackable;
      this.pos = next - INPUT_AT;
      // Read after the call: the loop may have grown the memory, which replaces its buffer.
      const { header } = memoryViews();
      const first = count;
      count = header[COUNT_AT / 4]!;
      const shape = new Array<number>(header[RANK_AT / 4]!);
      for (let i = 0; i < shape.length; i++) shape[i] = header[DIMS_AT / 4 + i]!;
      members.push([key, shape, first, count]);
      this.skipWhitespace();
      if (this.bytes[this.pos] === Byte.Comma) this.pos++;
      else break;
    }
    this.expect(Byte.CloseBrace);
    this.skipWhitespace();
    if (this.pos !== this.bytes.length) throw notPackable;
    // Views made only now: a later member may have grown the memory, which replaces its buffer.
    const buffer = reader.memory.buffer;
    const record: Record<string, PackedArray> = {};
    for (const [key, shape, first, end] of members) {
      record[key] = new PackedArray(shape, new Float64Array(buffer, this.valuesAt + 8 * first, end - first), recordsRead);
    }
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

  private skipWhitespace(): void {
    const bytes = this.bytes;
    while (this.pos < bytes.length) {
      const c = bytes[this.pos]!;
      if (c !== Byte.Space && c !== Byte.LineFeed && c !== Byte.CarriageReturn && c !== Byte.Tab) return;
      this.pos++;
    }
  }

  private expect(byte: Byte): void {
    if (this.bytes[this.pos] !== byte) throw notPackable;
    this.pos++;
  }
}
