/**
 * Snappy raw-format decompression: LevelDB tables (and so TensorFlow's
 * `variables.index`) compress their blocks with it by default.
 */

export class SnappyError extends Error {}

export function snappyUncompress(input: Uint8Array): Uint8Array {
  let pos = 0;
  const byte = (): number => {
    if (pos >= input.length) throw new SnappyError('truncated snappy block');
    return input[pos++]!;
  };
  let length = 0;
  for (let shift = 0; ; shift += 7) {
    const b = byte();
    length += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) break;
    if (shift > 28) throw new SnappyError('snappy length varint too long');
  }
  const out = new Uint8Array(length);
  let written = 0;
  while (pos < input.length) {
    const tag = byte();
    const kind = tag & 3;
    if (kind === 0) {
      let len = tag >>> 2;
      if (len >= 60) {
        const extra = len - 59;
        len = 0;
        for (let i = 0; i < extra; i++) len |= byte() << (8 * i);
        len >>>= 0;
      }
      len += 1;
      if (pos + len > input.length || written + len > length) throw new SnappyError('snappy literal runs past the end');
      out.set(input.subarray(pos, pos + len), written);
      pos += len;
      written += len;
      continue;
    }
    let len: number;
    let offset: number;
    if (kind === 1) {
      len = ((tag >>> 2) & 7) + 4;
      offset = ((tag >>> 5) << 8) | byte();
    } else if (kind === 2) {
      len = (tag >>> 2) + 1;
      offset = byte() | (byte() << 8);
    } else {
      len = (tag >>> 2) + 1;
      offset = (byte() | (byte() << 8) | (byte() << 16) | (byte() << 24)) >>> 0;
    }
    if (offset === 0 || offset > written || written + len > length) throw new SnappyError('invalid snappy copy');
    // Copies may overlap their own output (run-length style), so go byte by byte.
    for (let i = 0; i < len; i++) out[written + i] = out[written - offset + i]!;
    written += len;
  }
  if (written !== length) throw new SnappyError(`snappy block decoded to ${written} bytes, header says ${length}`);
  return out;
}
