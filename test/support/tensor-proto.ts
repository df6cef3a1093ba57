/**
 * Reads the ONNX backend tests' `input_0.pb` / `output_0.pb` (TensorProto) so
 * tests compare against the ONNX project's own reference data. Field numbers
 * from onnx.proto: dims=1, data_type=2, float_data=4, name=8, raw_data=9.
 */
import { readFileSync } from 'node:fs';

export interface ReferenceTensor {
  dims: number[];
  data: Float32Array;
}

export function readTensorProto(path: string): ReferenceTensor {
  const bytes = readFileSync(path);
  let pos = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const b = bytes[pos++]!;
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
    }
  };
  const dims: number[] = [];
  let dataType = 0;
  let data: Float32Array | undefined;
  const floats: number[] = [];
  while (pos < bytes.length) {
    const tag = Number(varint());
    const field = tag >> 3;
    const wire = tag & 7;
    if (wire === 0) {
      const v = Number(varint());
      if (field === 1) dims.push(v);
      if (field === 2) dataType = v;
    } else if (wire === 2) {
      const len = Number(varint());
      const chunk = bytes.subarray(pos, pos + len);
      pos += len;
      if (field === 1) {
        let p = 0;
        while (p < chunk.length) {
          let v = 0;
          let s = 0;
          for (;;) {
            const b = chunk[p++]!;
            v += (b & 0x7f) * 2 ** s;
            if ((b & 0x80) === 0) break;
            s += 7;
          }
          dims.push(v);
        }
      }
      if (field === 9) data = new Float32Array(chunk.buffer.slice(chunk.byteOffset, chunk.byteOffset + chunk.byteLength));
      if (field === 4) for (let i = 0; i < chunk.length; i += 4) floats.push(chunk.readFloatLE(i));
    } else if (wire === 5) {
      if (field === 4) floats.push(bytes.readFloatLE(pos));
      pos += 4;
    } else if (wire === 1) {
      pos += 8;
    } else {
      throw new Error(`${path}: unexpected wire type ${wire}`);
    }
  }
  if (dataType !== 1) throw new Error(`${path}: only float tensors are read here (data_type ${dataType})`);
  return { dims, data: data ?? Float32Array.from(floats) };
}

export function maxRelativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) return Infinity;
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!) / Math.max(1, Math.abs(expected[i]!)));
  }
  return worst;
}

/** The project-wide tolerance: |a − b| ≤ 1e-5 · max(1, |b|). */
export const TOLERANCE = 1e-5;
