/**
 * Partitioned variables (TF1 `PartitionedVariable`): the checkpoint holds the
 * full tensor's entry with its slice list, and each slice under a key that
 * TensorFlow builds with OrderedCode (checkpoint::EncodeTensorNameSlice: the
 * number 0, the tensor name, the rank, then start and length of every
 * dimension, a full dimension being start 0, length -1). Each graph variable
 * is one part, restored with a `"<full dims> <slice spec>"` string such as
 * `"4 2 0,2:-"`. Formats from tensorflow/core/lib/strings/ordered_code.cc,
 * util/saved_tensor_slice_util.cc and framework/tensor_slice.h.
 */

export interface SliceExtent {
  readonly start: number;
  /** -1: the whole dimension. */
  readonly length: number;
}

export interface SliceKey {
  readonly name: string;
  readonly extents: readonly SliceExtent[];
}

/** A slice entry's key, or undefined for an ordinary key (those never start with byte 0). */
export function decodeSliceKey(key: Uint8Array): SliceKey | undefined {
  if (key[0] !== 0) return undefined;
  let pos = 0;
  const readString = (): string => {
    const out: number[] = [];
    for (;;) {
      const b = key[pos++];
      if (b === undefined) throw new Error('truncated slice key');
      if (b === 0x00) {
        const next = key[pos++];
        if (next === 0x01) break;
        if (next !== 0xff) throw new Error('malformed slice key');
        out.push(0x00);
      } else if (b === 0xff) {
        if (key[pos++] !== 0x00) throw new Error('malformed slice key');
        out.push(0xff);
      } else out.push(b);
    }
    return new TextDecoder().decode(Uint8Array.from(out));
  };
  const readNumIncreasing = (): number => {
    const length = key[pos++]!;
    let v = 0;
    for (let i = 0; i < length; i++) v = v * 256 + key[pos++]!;
    return v;
  };
  const readSignedNumIncreasing = (): number => {
    const negative = (key[pos]! & 0x80) === 0;
    const flip = negative ? 0xff : 0;
    const first = key[pos]! ^ flip;
    let length = 0;
    while (length < 8 && first & (0x80 >> length)) length++;
    if (length === 8) {
      const second = key[pos + 1]! ^ flip;
      length = second & 0x80 ? (second & 0x40 ? 10 : 9) : 8;
    }
    // The header is `length` leading one bits (spilling into the second byte past 8); the value is the rest, big-endian.
    const masks = [length >= 8 ? 0 : 0xff >> length, length === 9 ? 0x7f : length === 10 ? 0x3f : 0xff];
    let v = 0n;
    for (let i = 0; i < length; i++) v = (v << 8n) | BigInt((key[pos + i]! ^ flip) & (masks[i] ?? 0xff));
    pos += length;
    return Number(negative ? ~v : v);
  };
  if (readNumIncreasing() !== 0) return undefined;
  const name = readString();
  const rank = readNumIncreasing();
  const extents: SliceExtent[] = [];
  for (let d = 0; d < rank; d++) extents.push({ start: readSignedNumIncreasing(), length: readSignedNumIncreasing() });
  return { name, extents };
}

/** `"4 2 0,2:-"` → the full shape and the part's extents. */
export function parseShapeAndSlice(spec: string): { fullShape: number[]; extents: SliceExtent[] } {
  const parts = spec.trim().split(/\s+/);
  const slice = parts.pop()!;
  const fullShape = parts.map(Number);
  const extents = slice.split(':').map((s) => {
    if (s === '-') return { start: 0, length: -1 };
    const [start, length] = s.split(',').map(Number);
    return { start: start!, length: length! };
  });
  if (extents.length !== fullShape.length || fullShape.some((d) => !Number.isInteger(d)) || extents.some((e) => !Number.isInteger(e.start) || !Number.isInteger(e.length))) {
    throw new Error(`malformed shape and slice "${spec}"`);
  }
  return { fullShape, extents };
}

export function sameExtents(a: readonly SliceExtent[], b: readonly SliceExtent[], fullShape: readonly number[]): boolean {
  return a.length === b.length && a.every((e, d) => resolvedLength(e, fullShape[d]!) === resolvedLength(b[d]!, fullShape[d]!) && e.start === b[d]!.start);
}

export function sliceShape(extents: readonly SliceExtent[], fullShape: readonly number[]): number[] {
  return extents.map((e, d) => resolvedLength(e, fullShape[d]!));
}

function resolvedLength(extent: SliceExtent, dim: number): number {
  return extent.length < 0 ? dim : extent.length;
}

/**
 * Copies between a full tensor and one slice of it (row-major bytes):
 * `into: 'full'` writes the slice into the full tensor, `'slice'` reads it out.
 */
export function copySlice(full: Uint8Array, fullShape: readonly number[], part: Uint8Array, extents: readonly SliceExtent[], elementBytes: number, into: 'full' | 'slice'): void {
  const shape = sliceShape(extents, fullShape);
  const rank = shape.length;
  if (rank === 0) {
    if (into === 'full') full.set(part.subarray(0, elementBytes));
    else part.set(full.subarray(0, elementBytes));
    return;
  }
  const strides = new Array<number>(rank).fill(1);
  for (let d = rank - 2; d >= 0; d--) strides[d] = strides[d + 1]! * fullShape[d + 1]!;
  const rowBytes = shape[rank - 1]! * elementBytes;
  const rows = shape.slice(0, -1).reduce((a, b) => a * b, 1);
  const index = new Array<number>(rank - 1).fill(0);
  for (let row = 0; row < rows; row++) {
    let offset = extents[rank - 1]!.start;
    for (let d = 0; d < rank - 1; d++) offset += (extents[d]!.start + index[d]!) * strides[d]!;
    const fullAt = offset * elementBytes;
    const partAt = row * rowBytes;
    if (into === 'full') full.set(part.subarray(partAt, partAt + rowBytes), fullAt);
    else part.set(full.subarray(fullAt, fullAt + rowBytes), partAt);
    for (let d = rank - 2; d >= 0; d--) {
      if (++index[d]! < shape[d]!) break;
      index[d] = 0;
    }
  }
}
