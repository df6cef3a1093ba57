/**
 * Splits a byte stream into lines with their byte offsets, in bounded memory:
 * a line longer than the caller's limit is measured but not kept. The line
 * break is `\n` (a `\r` before it is dropped, so CRLF files read the same); a
 * UTF-8 byte order mark at the very start of the object is skipped.
 */

export interface Line {
  /** 1-based, counting every line of the object (blank ones too). */
  readonly number: number;
  /** Byte offset of the line's first byte in the object. */
  readonly start: number;
  /** Byte offset just past its line break (or the object's end). */
  readonly end: number;
  /** Its bytes without the line break; absent when it is longer than the limit. */
  readonly bytes?: Uint8Array;
  /** Its length in bytes without the line break. */
  readonly size: number;
  /** Nothing but spaces and tabs (or nothing at all). */
  readonly blank: boolean;
}

export interface LineReading {
  /** Offset of the stream's first byte in the object (a ranged read). */
  readonly offset: number;
  /** Number of the stream's first line. */
  readonly firstLine: number;
  /** Lines longer than this are not kept (`bytes` absent). */
  readonly keepBytes: number;
}

const NEWLINE = 0x0a;
const CR = 0x0d;
const BOM = [0xef, 0xbb, 0xbf];

export async function* readLines(chunks: AsyncIterable<Uint8Array>, reading: LineReading): AsyncGenerator<Line> {
  let pending: Uint8Array[] = [];
  let kept = 0;
  let size = 0;
  let overLimit = false;
  let content = false; // a byte other than space, tab or CR seen in this line
  let lastByte = -1;
  let number = reading.firstLine;
  let lineStart = reading.offset;
  let position = reading.offset;
  let atObjectStart = reading.offset === 0;

  const take = (segment: Uint8Array) => {
    if (segment.length === 0) return;
    if (!content) content = hasContent(segment);
    size += segment.length;
    lastByte = segment[segment.length - 1]!;
    if (overLimit) return;
    // One byte of slack: a CR ending the line is not part of it.
    if (size > reading.keepBytes + 1) {
      overLimit = true;
      pending = [];
      kept = 0;
      return;
    }
    pending.push(segment);
    kept += segment.length;
  };
  const finish = (end: number): Line => {
    const withoutCr = lastByte === CR ? size - 1 : size;
    const keep = !overLimit && withoutCr <= reading.keepBytes;
    const joined = !keep ? undefined : pending.length === 1 ? pending[0]! : Buffer.concat(pending, kept);
    const line: Line = { number, start: lineStart, end, size: withoutCr, blank: !content, ...(joined ? { bytes: joined.subarray(0, withoutCr) } : {}) };
    number++;
    lineStart = end;
    pending = [];
    kept = 0;
    size = 0;
    overLimit = false;
    content = false;
    lastByte = -1;
    return line;
  };

  for await (const raw of chunks) {
    let chunk = raw;
    if (atObjectStart) {
      atObjectStart = false;
      if (chunk.length >= 3 && BOM.every((b, i) => chunk[i] === b)) {
        chunk = chunk.subarray(3);
        position += 3;
      }
    }
    let from = 0;
    for (;;) {
      const newline = chunk.indexOf(NEWLINE, from);
      take(chunk.subarray(from, newline === -1 ? chunk.length : newline));
      if (newline === -1) break;
      yield finish(position + newline + 1);
      from = newline + 1;
    }
    position += chunk.length;
  }
  if (size > 0) yield finish(position);
}

function hasContent(bytes: Uint8Array): boolean {
  for (const byte of bytes) if (byte !== 0x20 && byte !== 0x09 && byte !== CR) return true;
  return false;
}
