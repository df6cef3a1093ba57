/**
 * Reads every key/value of a LevelDB-format table (the layout of TensorFlow's
 * `variables.index`, see tensorflow/core/lib/io/table_format.txt): a 48-byte
 * footer points at the index block, whose values point at the data blocks;
 * blocks hold prefix-compressed entries, each block followed by a
 * compression-type byte and a masked CRC-32C.
 */
import { crc32c, extendCrc32c, maskCrc32c } from './crc32c.js';
import { snappyUncompress } from './snappy.js';

const FOOTER_LENGTH = 48;
const BLOCK_TRAILER_LENGTH = 5;
const MAGIC_LO = 0x8b80fb57;
const MAGIC_HI = 0xdb477524;
const NO_COMPRESSION = 0;
const SNAPPY_COMPRESSION = 1;

export class TableFormatError extends Error {}

interface BlockHandle {
  readonly offset: number;
  readonly size: number;
}

export interface TableEntry {
  readonly key: string;
  /** The key as stored: slice keys of partitioned tensors are binary. */
  readonly keyBytes: Uint8Array;
  readonly value: Uint8Array;
}

export function readTable(file: Uint8Array): TableEntry[] {
  if (file.length < FOOTER_LENGTH) throw new TableFormatError(`file of ${file.length} bytes is too short for a table footer`);
  const footer = file.subarray(file.length - FOOTER_LENGTH);
  const view = new DataView(footer.buffer, footer.byteOffset, FOOTER_LENGTH);
  if (view.getUint32(40, true) !== MAGIC_LO || view.getUint32(44, true) !== MAGIC_HI) {
    throw new TableFormatError('bad table magic number (not a LevelDB-format table)');
  }
  const cursor = { pos: 0 };
  readHandle(footer, cursor); // metaindex: TensorFlow writes no filters, nothing to read there
  const index = readHandle(footer, cursor);
  const entries: TableEntry[] = [];
  for (const indexEntry of readBlock(file, index)) {
    const handle = readHandle(indexEntry.value, { pos: 0 });
    entries.push(...readBlock(file, handle));
  }
  return entries;
}

function readBlock(file: Uint8Array, handle: BlockHandle): TableEntry[] {
  const end = handle.offset + handle.size;
  if (end + BLOCK_TRAILER_LENGTH > file.length) throw new TableFormatError(`block at ${handle.offset} runs past the end of the file`);
  const raw = file.subarray(handle.offset, end);
  const type = file[end]!;
  const stored = new DataView(file.buffer, file.byteOffset + end + 1, 4).getUint32(0, true);
  const actual = maskCrc32c(extendCrc32c(crc32c(raw), file.subarray(end, end + 1)));
  if (stored !== actual) throw new TableFormatError(`block at ${handle.offset}: checksum mismatch (file corrupt)`);
  let block: Uint8Array;
  if (type === NO_COMPRESSION) block = raw;
  else if (type === SNAPPY_COMPRESSION) block = snappyUncompress(raw);
  else throw new TableFormatError(`block at ${handle.offset}: unknown compression type ${type}`);
  return readEntries(block);
}

function readEntries(block: Uint8Array): TableEntry[] {
  if (block.length < 4) throw new TableFormatError('block too short');
  const view = new DataView(block.buffer, block.byteOffset, block.byteLength);
  const restarts = view.getUint32(block.length - 4, true);
  const limit = block.length - 4 * (restarts + 1);
  if (limit < 0) throw new TableFormatError('block restart array is larger than the block');
  const entries: TableEntry[] = [];
  const cursor = { pos: 0 };
  let key = new Uint8Array(0);
  const decoder = new TextDecoder();
  while (cursor.pos < limit) {
    const shared = readVarint(block, cursor);
    const unshared = readVarint(block, cursor);
    const valueLength = readVarint(block, cursor);
    if (shared > key.length || cursor.pos + unshared + valueLength > limit) throw new TableFormatError('corrupt block entry');
    const next = new Uint8Array(shared + unshared);
    next.set(key.subarray(0, shared));
    next.set(block.subarray(cursor.pos, cursor.pos + unshared), shared);
    key = next;
    cursor.pos += unshared;
    entries.push({ key: decoder.decode(key), keyBytes: key, value: block.subarray(cursor.pos, cursor.pos + valueLength) });
    cursor.pos += valueLength;
  }
  return entries;
}

function readHandle(bytes: Uint8Array, cursor: { pos: number }): BlockHandle {
  return { offset: readVarint(bytes, cursor), size: readVarint(bytes, cursor) };
}

function readVarint(bytes: Uint8Array, cursor: { pos: number }): number {
  let result = 0;
  for (let shift = 0; shift < 64; shift += 7) {
    if (cursor.pos >= bytes.length) throw new TableFormatError('truncated varint');
    const b = bytes[cursor.pos++]!;
    result += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) return result;
  }
  throw new TableFormatError('varint too long');
}
