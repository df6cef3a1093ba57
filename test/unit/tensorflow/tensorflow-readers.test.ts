/** The file-format readers under the engine: TensorProto values, snappy, CRC-32C, TensorBundle. */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ProtobufWriter } from '../../../functions/protobuf/protobuf-writer.js';
import { crc32c, maskCrc32c } from '../../../functions/scorer/engines/tensorflow/crc32c.js';
import { decodeTensorProto } from '../../../functions/scorer/engines/tensorflow/graph-decoder.js';
import { snappyUncompress } from '../../../functions/scorer/engines/tensorflow/snappy.js';
import { openTensorBundle } from '../../../functions/scorer/engines/tensorflow/tensor-bundle.js';
import { SAVED_MODELS } from './model-folders.js';

// The wire format itself is tested with the shared reader, in test/unit/protobuf-reader.test.ts.
describe('TensorProto decoding', () => {
  it('fills a TensorProto typed field shorter than the tensor with its last value', () => {
    const proto = new ProtobufWriter()
      .varint(1, 1)
      .message(2, (s) => s.message(2, (d) => d.varint(1, 2)).message(2, (d) => d.varint(1, 2)))
      .packedFloats(5, [1.5, 2])
      .finish();
    const tensor = decodeTensorProto(proto);
    expect(tensor.shape).toEqual([2, 2]);
    expect(Array.from(new Float32Array(tensor.content.buffer))).toEqual([1.5, 2, 2, 2]);
  });

  it('keeps int64 values exact, INT64_MAX (a "to the end" marker in slices) included', () => {
    const values = [2n ** 63n - 1n, -1n, 2n ** 53n + 1n];
    const proto = new ProtobufWriter()
      .varint(1, 9) // DT_INT64
      .message(2, (s) => s.message(2, (d) => d.varint(1, 3)))
      .packedVarints(10, values) // int64_val
      .finish();
    const tensor = decodeTensorProto(proto);
    expect(Array.from(new BigInt64Array(tensor.content.buffer, tensor.content.byteOffset, 3))).toEqual(values);
  });
});

describe('snappy and CRC-32C', () => {
  it('expands literals and overlapping copies', () => {
    // length 12; literal "abc"; copy of 9 bytes from offset 3 (1-byte-offset form)
    const block = Uint8Array.from([12, 0x08, 0x61, 0x62, 0x63, (5 << 2) | 1, 3]);
    expect(new TextDecoder().decode(snappyUncompress(block))).toBe('abcabcabcabc');
  });

  it('matches the CRC-32C check value and LevelDB masking', () => {
    const crc = crc32c(new TextEncoder().encode('123456789'));
    expect(crc).toBe(0xe3069283);
    expect(maskCrc32c(crc)).toBe((((crc >>> 15) | (crc << 17)) + 0xa282ead8) >>> 0);
  });
});

describe('TensorBundle', () => {
  it('reads each tensor from the shard the index names (two-shard checkpoint)', async () => {
    const bundle = await openTensorBundle(join(SAVED_MODELS, 'mnist_mlp_keras_tf2_2_two_shards', 'variables', 'variables'));
    const kernel = bundle.entries.get('layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE')!;
    expect(kernel).toMatchObject({ shape: [784, 128], shardId: 1, size: 784 * 128 * 4 });
    expect(bundle.entries.get('_CHECKPOINTABLE_OBJECT_GRAPH')).toMatchObject({ shardId: 0 });
    const tensor = await bundle.read('layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE');
    expect(tensor.shape).toEqual([784, 128]);
    // Keras' metrics hold what training counted: 10000 test images, 9345 right (PROVENANCE: accuracy 0.9345).
    const count = await bundle.read('keras_api/metrics/1/count/.ATTRIBUTES/VARIABLE_VALUE');
    const total = await bundle.read('keras_api/metrics/1/total/.ATTRIBUTES/VARIABLE_VALUE');
    expect([new Float32Array(count.content.buffer)[0], new Float32Array(total.content.buffer)[0]]).toEqual([10000, 9345]);
  });

  it('reads the TF1 checkpoint of half_plus_two: a=0.5, b=2, c=3', async () => {
    const bundle = await openTensorBundle(join(SAVED_MODELS, 'half_plus_two_cpu_tf1', 'variables', 'variables'));
    const values = await Promise.all(['a', 'b', 'c'].map(async (k) => new Float32Array((await bundle.read(k)).content.buffer)[0]));
    expect(values).toEqual([0.5, 2, 3]);
  });
});
