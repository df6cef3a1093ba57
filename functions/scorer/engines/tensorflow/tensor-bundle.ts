/**
 * A TensorFlow checkpoint in TensorBundle form (`<prefix>.index` +
 * `<prefix>.data-0000k-of-0000n`): the index is a table of BundleEntryProto
 * (tensorflow/core/protobuf/tensor_bundle.proto) keyed by checkpoint key, the
 * empty key holding the BundleHeaderProto; each entry says which data shard
 * holds the tensor's raw little-endian bytes, where, and their masked CRC-32C.
 * Only the tensors asked for are read, so optimizer slots never leave the disk.
 */
import { open, readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { crc32c, maskCrc32c } from './crc32c.js';
import { decodeTensorShape } from './graph-decoder.js';
import { ProtobufError, decodeMessage } from '../../../protobuf/protobuf-reader.js';
import { readTable } from './sstable-reader.js';
import { dtypeName, elementBytes, numElements, type TensorValue } from './tf-graph.js';
import { copySlice, decodeSliceKey, parseShapeAndSlice, sameExtents, sliceShape, type SliceExtent, type SliceKey } from './tensor-slices.js';

export class TensorBundleError extends Error {}

export interface BundleEntry {
  readonly key: string;
  readonly dtype: number;
  readonly shape: readonly number[];
  readonly shardId: number;
  readonly offset: number;
  readonly size: number;
  readonly crc32c: number;
  /** A partitioned tensor's parts, each stored under its own slice key; empty for an ordinary tensor. */
  readonly slices: readonly (readonly SliceExtent[])[];
}

export interface TensorBundle {
  readonly entries: ReadonlyMap<string, BundleEntry>;
  /** `shapeAndSlice` (e.g. `"4 2 0,2:-"`): only that part of the tensor, as a partitioned variable's part restores it. */
  read(key: string, shapeAndSlice?: string): Promise<TensorValue>;
}

const BIG_ENDIAN = 1;

export async function openTensorBundle(prefix: string): Promise<TensorBundle> {
  const index = await readFile(`${prefix}.index`);
  let numShards = 1;
  const entries = new Map<string, BundleEntry>();
  const sliceEntries = new Map<string, { extents: readonly SliceExtent[]; entry: BundleEntry }[]>();
  for (const { key, keyBytes, value } of readTable(index)) {
    const slice = key === '' ? undefined : decodeSlice(keyBytes);
    if (slice) {
      const parts = sliceEntries.get(slice.name) ?? [];
      parts.push({ extents: slice.extents, entry: decodeEntry(`${slice.name} (slice)`, value) });
      sliceEntries.set(slice.name, parts);
    } else if (key === '') {
      let endianness = 0;
      decodeMessage(value, (r) => {
        if (r.field === 1) numShards = r.int32();
        else if (r.field === 2) endianness = r.uint32();
        else r.skip();
      });
      if (endianness === BIG_ENDIAN) throw new TensorBundleError(`${prefix}.index: big-endian checkpoints are not supported`);
    } else {
      entries.set(key, decodeEntry(key, value));
    }
  }
  const shardPath = (id: number): string => `${prefix}.data-${pad(id)}-of-${pad(numShards)}`;

  const readBytes = async (entry: BundleEntry, what: string): Promise<Uint8Array> => {
    const size = elementBytes(entry.dtype);
    if (size === undefined) throw new TensorBundleError(`checkpoint tensor ${what} has dtype ${dtypeName(entry.dtype)}, which cannot be frozen into a constant`);
    const expected = numElements(entry.shape) * size;
    if (entry.size !== expected) throw new TensorBundleError(`checkpoint tensor ${what} has ${entry.size} bytes, expected ${expected}`);
    if (entry.shardId >= numShards) throw new TensorBundleError(`checkpoint tensor ${what} is in shard ${entry.shardId}, but the bundle has ${numShards}`);
    const content = new Uint8Array(entry.size);
    const path = shardPath(entry.shardId);
    const handle = await open(path, 'r');
    try {
      const { bytesRead } = await handle.read(content, 0, entry.size, entry.offset);
      if (bytesRead !== entry.size) throw new TensorBundleError(`${basename(path)} ends before checkpoint tensor ${what} (truncated shard)`);
    } finally {
      await handle.close();
    }
    if (maskCrc32c(crc32c(content)) !== entry.crc32c) throw new TensorBundleError(`checkpoint tensor ${what} in ${basename(path)}: checksum mismatch (file corrupt)`);
    return content;
  };

  /** A partitioned tensor, put together from its slices. */
  const assemble = async (entry: BundleEntry): Promise<Uint8Array> => {
    const size = elementBytes(entry.dtype);
    if (size === undefined) throw new TensorBundleError(`checkpoint tensor "${entry.key}" has dtype ${dtypeName(entry.dtype)}, which cannot be frozen into a constant`);
    const full = new Uint8Array(numElements(entry.shape) * size);
    const parts = sliceEntries.get(entry.key) ?? [];
    for (const extents of entry.slices) {
      const part = parts.find((p) => sameExtents(p.extents, extents, entry.shape));
      const spec = extents.map((e) => (e.length < 0 ? '-' : `${e.start},${e.length}`)).join(':');
      if (!part) throw new TensorBundleError(`checkpoint tensor "${entry.key}" lists slice ${spec}, which the checkpoint does not hold`);
      const bytes = await readBytes(part.entry, `"${entry.key}" slice ${spec}`);
      if (numElements(sliceShape(extents, entry.shape)) * size !== bytes.length) throw new TensorBundleError(`checkpoint tensor "${entry.key}" slice ${spec} has the wrong size`);
      copySlice(full, entry.shape, bytes, extents, size, 'full');
    }
    return full;
  };

  return {
    entries,
    async read(key: string, shapeAndSlice?: string): Promise<TensorValue> {
      const entry = entries.get(key);
      if (!entry) throw new TensorBundleError(`checkpoint has no tensor "${key}"`);
      const content = entry.slices.length > 0 ? await assemble(entry) : await readBytes(entry, `"${key}"`);
      if (!shapeAndSlice) return { dtype: entry.dtype, shape: entry.shape, content };
      let part: ReturnType<typeof parseShapeAndSlice>;
      try {
        part = parseShapeAndSlice(shapeAndSlice);
      } catch (error) {
        throw new TensorBundleError(`checkpoint tensor "${key}": ${(error as Error).message}`, { cause: error });
      }
      if (part.fullShape.join(',') !== entry.shape.join(',')) {
        throw new TensorBundleError(`checkpoint tensor "${key}" has shape [${entry.shape.join(',')}], but the graph restores a slice of a [${part.fullShape.join(',')}] tensor`);
      }
      const shape = sliceShape(part.extents, entry.shape);
      if (part.extents.some((e, d) => e.start < 0 || e.start + shape[d]! > entry.shape[d]!)) throw new TensorBundleError(`checkpoint tensor "${key}": slice "${shapeAndSlice}" is out of bounds`);
      const out = new Uint8Array(numElements(shape) * elementBytes(entry.dtype)!);
      copySlice(content, entry.shape, out, part.extents, elementBytes(entry.dtype)!, 'slice');
      return { dtype: entry.dtype, shape, content: out };
    },
  };
}

function decodeSlice(keyBytes: Uint8Array): SliceKey | undefined {
  try {
    return decodeSliceKey(keyBytes);
  } catch (error) {
    throw new TensorBundleError(`malformed slice key in the checkpoint index: ${(error as Error).message}`, { cause: error });
  }
}

function decodeEntry(key: string, bytes: Uint8Array): BundleEntry {
  const entry = { key, dtype: 0, shape: [] as number[], shardId: 0, offset: 0, size: 0, crc32c: 0, slices: [] as SliceExtent[][] };
  try {
    decodeMessage(bytes, (r) => {
      switch (r.field) {
        case 1: entry.dtype = r.uint32(); break;
        case 2: entry.shape = [...(decodeTensorShape(r.bytes()).dims ?? [])]; break;
        case 3: entry.shardId = r.int32(); break;
        case 4: entry.offset = r.int64(); break;
        case 5: entry.size = r.int64(); break;
        case 6: entry.crc32c = r.fixed32(); break;
        case 7: entry.slices.push(decodeSliceProto(r.bytes())); break;
        default: r.skip();
      }
    });
  } catch (error) {
    if (error instanceof ProtobufError) throw new TensorBundleError(`index entry "${key}": ${error.message}`, { cause: error });
    throw error;
  }
  return entry;
}

/** TensorSliceProto: extent = 1 (start = 1, length = 2; no length = the whole dimension). */
function decodeSliceProto(bytes: Uint8Array): SliceExtent[] {
  const extents: SliceExtent[] = [];
  decodeMessage(bytes, (r) => {
    if (r.field !== 1) return r.skip();
    let start = 0;
    let length = -1;
    decodeMessage(r.bytes(), (e) => {
      if (e.field === 1) start = e.int64();
      else if (e.field === 2) length = e.int64();
      else e.skip();
    });
    extents.push({ start, length });
  });
  return extents;
}

function pad(n: number): string {
  return String(n).padStart(5, '0');
}
