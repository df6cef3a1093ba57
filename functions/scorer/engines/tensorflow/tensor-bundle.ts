/**
 * A TensorFlow checkpoint in TensorBundle form (`<prefix>.index` +
 * `<prefix>.data-0000k-of-0000n`): the index is a table of BundleEntryProto
 * (tensorflow/core/protobuf/tensor_bundle.proto) keyed by checkpoint key, the
 * empty key holding the BundleHeaderProto; each entry says which data shard
 * holds the tensor's raw little-endian bytes, where, and their masked CRC-32C.
 * Only the tensors asked for are read, so optimizer slots never leave the disk.
 */
import { open, readFile } from 'node:fs/promises';
import { crc32c, maskCrc32c } from './crc32c.js';
import { decodeTensorShape } from './graph-decoder.js';
import { ProtobufError, decodeMessage } from '../../../protobuf/protobuf-reader.js';
import { readTable } from './sstable-reader.js';
import { dtypeName, elementBytes, numElements, type TensorValue } from './tf-graph.js';

export class TensorBundleError extends Error {}

export interface BundleEntry {
  readonly key: string;
  readonly dtype: number;
  readonly shape: readonly number[];
  readonly shardId: number;
  readonly offset: number;
  readonly size: number;
  readonly crc32c: number;
  /** Partitioned variables store slices in other entries; not supported. */
  readonly sliced: boolean;
}

export interface TensorBundle {
  readonly entries: ReadonlyMap<string, BundleEntry>;
  read(key: string): Promise<TensorValue>;
}

const BIG_ENDIAN = 1;

export async function openTensorBundle(prefix: string): Promise<TensorBundle> {
  const index = await readFile(`${prefix}.index`);
  let numShards = 1;
  const entries = new Map<string, BundleEntry>();
  for (const { key, value } of readTable(index)) {
    if (key === '') {
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

  return {
    entries,
    async read(key: string): Promise<TensorValue> {
      const entry = entries.get(key);
      if (!entry) throw new TensorBundleError(`checkpoint has no tensor "${key}"`);
      if (entry.sliced) throw new TensorBundleError(`checkpoint tensor "${key}" is partitioned into slices, which is not supported`);
      const size = elementBytes(entry.dtype);
      if (size === undefined) throw new TensorBundleError(`checkpoint tensor "${key}" has dtype ${dtypeName(entry.dtype)}, which cannot be frozen into a constant`);
      const expected = numElements(entry.shape) * size;
      if (entry.size !== expected) throw new TensorBundleError(`checkpoint tensor "${key}" has ${entry.size} bytes, expected ${expected}`);
      if (entry.shardId >= numShards) throw new TensorBundleError(`checkpoint tensor "${key}" is in shard ${entry.shardId}, but the bundle has ${numShards}`);
      const content = new Uint8Array(entry.size);
      const path = shardPath(entry.shardId);
      const handle = await open(path, 'r');
      try {
        const { bytesRead } = await handle.read(content, 0, entry.size, entry.offset);
        if (bytesRead !== entry.size) throw new TensorBundleError(`${path} ends before checkpoint tensor "${key}" (truncated shard)`);
      } finally {
        await handle.close();
      }
      if (maskCrc32c(crc32c(content)) !== entry.crc32c) throw new TensorBundleError(`checkpoint tensor "${key}" in ${path}: checksum mismatch (file corrupt)`);
      return { dtype: entry.dtype, shape: entry.shape, content };
    },
  };
}

function decodeEntry(key: string, bytes: Uint8Array): BundleEntry {
  const entry = { key, dtype: 0, shape: [] as number[], shardId: 0, offset: 0, size: 0, crc32c: 0, sliced: false };
  try {
    decodeMessage(bytes, (r) => {
      switch (r.field) {
        case 1: entry.dtype = r.uint32(); break;
        case 2: entry.shape = [...(decodeTensorShape(r.bytes()).dims ?? [])]; break;
        case 3: entry.shardId = r.int32(); break;
        case 4: entry.offset = r.int64(); break;
        case 5: entry.size = r.int64(); break;
        case 6: entry.crc32c = r.fixed32(); break;
        case 7: entry.sliced = true; r.skip(); break;
        default: r.skip();
      }
    });
  } catch (error) {
    if (error instanceof ProtobufError) throw new TensorBundleError(`index entry "${key}": ${error.message}`, { cause: error });
    throw error;
  }
  return entry;
}

function pad(n: number): string {
  return String(n).padStart(5, '0');
}
