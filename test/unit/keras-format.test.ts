import { describe, expect, it } from 'vitest';
import type { Signature } from '../../functions/scorer/engines/engine.js';
import { classOf, kerasFormat } from '../../functions/scorer/formats/keras-format.js';

const signature: Signature = { inputs: [{ name: 'in', dtype: 'float32', shape: [null, 3] }], outputs: [{ name: 'out', dtype: 'float32', shape: [null, 3] }] };
const outputs = (rows: number[][]) => ({ out: { dtype: 'float32' as const, shape: [rows.length, rows[0]!.length], data: Float32Array.from(rows.flat()) } });

describe('Keras output format', () => {
  it('writes one record exactly as the guide shows: one row [prediction, class, probability]', () => {
    expect(kerasFormat.encode('img1.json', outputs([[0.25, 0.5, 0.25]]), signature)).toEqual({
      'img1.json': { fields: ['prediction', 'prediction_classes', 'probability'], values: [[0.25, 0.5, 0.25], 1, [0.25, 0.5, 0.25]] },
    });
  });

  it('writes N rows for a batch of N', () => {
    const body = kerasFormat.encode('b.json', outputs([[0.75, 0.125, 0.125], [0.125, 0.125, 0.75]]), signature) as Record<string, { values: unknown[] }>;
    expect(body['b.json']!.values).toEqual([[[0.75, 0.125, 0.125], 0, [0.75, 0.125, 0.125]], [[0.125, 0.125, 0.75], 2, [0.125, 0.125, 0.75]]]);
  });

  it('thresholds a single sigmoid unit at 0.5', () => {
    expect([classOf([0.7]), classOf([0.2]), classOf([0.5])]).toEqual([1, 0, 0]);
  });

  it('takes the class per step for sequence outputs', () => {
    expect(classOf([[0.1, 0.9], [0.8, 0.2]])).toEqual([1, 0]);
  });

  it('writes one fields/values group per output, keyed by output name, for a model with several outputs', () => {
    const two: Signature = { inputs: signature.inputs, outputs: [{ name: 'digit', dtype: 'float32', shape: [null, 2] }, { name: 'score', dtype: 'float32', shape: [null, 1] }] };
    const body = kerasFormat.encode('m.json', {
      digit: { dtype: 'float32', shape: [1, 2], data: Float32Array.from([0.25, 0.75]) },
      score: { dtype: 'float32', shape: [1, 1], data: Float32Array.from([0.5]) },
    }, two);
    expect(body).toEqual({
      'm.json': {
        digit: { fields: ['prediction', 'prediction_classes', 'probability'], values: [[0.25, 0.75], 1, [0.25, 0.75]] },
        score: { fields: ['prediction', 'prediction_classes', 'probability'], values: [[0.5], 0, [0.5]] },
      },
    });
  });

  it('reads {"values": ...} records like the guide', () => {
    const inputs = kerasFormat.decode({ values: [[1, 2, 3]] }, signature);
    expect(inputs['in']!.shape).toEqual([1, 3]);
  });
});
