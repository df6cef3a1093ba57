import { describe, expect, it } from 'vitest';
import type { TensorSpec } from '../../functions/scorer/engines/engine.js';
import { decodeTensor, encodeTensor } from '../../functions/scorer/formats/tensor-json.js';
import { recordError } from '../support/record-error.js';

const image: TensorSpec = { name: 'x', dtype: 'float32', shape: [null, 2, 2] };


describe('decodeTensor', () => {
  it('flattens a nested array with a free batch dimension', () => {
    const t = decodeTensor([[[1, 2], [3, 4]], [[5, 6], [7, 8]]], image, 'x');
    expect(t.shape).toEqual([2, 2, 2]);
    expect(Array.from(t.data as Float32Array)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('names expected and received shapes on a mismatch', () => {
    const e = recordError(() => decodeTensor([[1, 2, 3]], image, 'values'));
    expect(e.code).toBe('SHAPE_MISMATCH');
    expect(e.message).toBe('input "values": expected shape [N,2,2], received [1,3]');
  });

  it('points at the ragged row', () => {
    const e = recordError(() => decodeTensor([[[1, 2], [3]]], image, 'x'));
    expect(e.code).toBe('SHAPE_MISMATCH');
    expect(e.message).toContain('at [0][1]');
    expect(e.message).toContain('expected 2 elements');
  });

  it.each([
    ['a string', 'NaN', 'string "NaN"'],
    ['null', null, 'null'],
    ['a boolean', true, 'boolean'],
  ])('rejects %s inside the array, saying where', (_label, bad, shown) => {
    const e = recordError(() => decodeTensor([[[1, 2], [3, bad]]], image, 'x'));
    expect(e.code).toBe('INVALID_VALUE');
    expect(e.message).toBe(`input "x" at [0][1][1]: expected a finite number, got ${shown}`);
  });

  it('rejects fractions and out-of-range values for integer inputs', () => {
    const spec: TensorSpec = { name: 'ids', dtype: 'int64', shape: [null, 2] };
    expect(recordError(() => decodeTensor([[1, 2.5]], spec, 'ids')).code).toBe('DTYPE_MISMATCH');
    const bytes: TensorSpec = { name: 'px', dtype: 'uint8', shape: [2] };
    expect(recordError(() => decodeTensor([0, 256], bytes, 'px')).message).toContain('256 is not a valid uint8');
    expect(Array.from(decodeTensor([[7, -3]], spec, 'ids').data as BigInt64Array)).toEqual([7n, -3n]);
  });

  it('accepts booleans for bool inputs', () => {
    const spec: TensorSpec = { name: 'mask', dtype: 'bool', shape: [3] };
    expect(Array.from(decodeTensor([true, false, 1], spec, 'mask').data as Uint8Array)).toEqual([1, 0, 1]);
  });

});

describe('encodeTensor', () => {
  it('rebuilds nested arrays and turns int64 into numbers', () => {
    expect(encodeTensor({ dtype: 'float32', shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) })).toEqual([[1, 2, 3], [4, 5, 6]]);
    expect(encodeTensor({ dtype: 'int64', shape: [2], data: BigInt64Array.from([5n, -1n]) })).toEqual([5, -1]);
    expect(encodeTensor({ dtype: 'float32', shape: [], data: Float32Array.from([0.5]) })).toBe(0.5);
  });

  it('keeps every dimension, including empty ones', () => {
    const data = Float32Array.from({ length: 12 }, (_, i) => i);
    expect(encodeTensor({ dtype: 'float32', shape: [2, 3, 2], data })).toEqual([[[0, 1], [2, 3], [4, 5]], [[6, 7], [8, 9], [10, 11]]]);
    expect(encodeTensor({ dtype: 'float32', shape: [12], data })).toEqual(Array.from(data));
    expect(encodeTensor({ dtype: 'float32', shape: [2, 0], data: new Float32Array(0) })).toEqual([[], []]);
    expect(encodeTensor({ dtype: 'float32', shape: [0, 3], data: new Float32Array(0) })).toEqual([]);
    expect(encodeTensor({ dtype: 'float32', shape: [2, 0, 3], data: new Float32Array(0) })).toEqual([[], []]);
  });
});
