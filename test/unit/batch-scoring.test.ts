import { describe, expect, it } from 'vitest';
import { scoreRecords } from '../../functions/scorer/domain/batch-scoring.js';
import type { Model, Signature, TensorMap } from '../../functions/scorer/engines/engine.js';
import type { LoadedModel } from '../../functions/scorer/engines/engine-registry.js';
import { namedTensorsFormat } from '../../functions/scorer/formats/named-tensors-format.js';

const bytes = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

/** Adds 1 to its input; counts calls and fails on a row containing 13, like a kernel that cannot handle it. */
function counting(signature: Signature) {
  const calls: number[][] = [];
  const model: Model = {
    signature,
    async predict(inputs: TensorMap) {
      const x = inputs['x']!;
      calls.push([...x.shape]);
      if (Array.from(x.data as Float32Array).includes(13)) throw new Error('kernel failed on 13');
      return { y: { dtype: 'float32', shape: x.shape, data: (x.data as Float32Array).map((v) => v + 1) } };
    },
  };
  const loaded: LoadedModel = { model, format: namedTensorsFormat, artifact: { dir: '', artifactPath: '', sha256: '', meta: { name: 'm', framework: 'onnx', version: '1', artifact: 'a' } } };
  return { loaded, calls };
}

const free: Signature = { inputs: [{ name: 'x', dtype: 'float32', shape: [null, 2] }], outputs: [{ name: 'y', dtype: 'float32', shape: [null, 2] }] };

describe('scoring records together', () => {
  it('stacks records into one predict call and splits the rows back, batches of several rows included', async () => {
    const { loaded, calls } = counting(free);
    const outcomes = await scoreRecords([
      { bytes: bytes({ x: [[1, 2]] }), size: 10, fileName: 'a.json' },
      { bytes: bytes({ x: [[3, 4], [5, 6]] }), size: 10, fileName: 'b.json' },
      { bytes: bytes({ x: [1, 2, 3] }), size: 10, fileName: 'bad.json' },
    ], loaded, 1000);
    expect(calls).toEqual([[3, 2]]);
    expect(outcomes[0]).toEqual({ kind: 'result', body: { 'a.json': { y: [[2, 3]] } } });
    expect(outcomes[1]).toEqual({ kind: 'result', body: { 'b.json': { y: [[4, 5], [6, 7]] } } });
    expect(outcomes[2]!.kind === 'error' && outcomes[2]!.error.code).toBe('SHAPE_MISMATCH');
  });

  it('isolates a record that makes the stacked call fail', async () => {
    const { loaded, calls } = counting(free);
    const outcomes = await scoreRecords([
      { bytes: bytes({ x: [[1, 2]] }), size: 10, fileName: 'a.json' },
      { bytes: bytes({ x: [[13, 0]] }), size: 10, fileName: 'poison.json' },
      { bytes: bytes({ x: [[5, 6]] }), size: 10, fileName: 'c.json' },
    ], loaded, 1000);
    expect(calls).toEqual([[3, 2], [1, 2], [1, 2], [1, 2]]);
    expect(outcomes.map((o) => o.kind)).toEqual(['result', 'error', 'result']);
    expect(outcomes[1]!.kind === 'error' && [outcomes[1]!.error.code, outcomes[1]!.error.message]).toEqual(['PREDICTION_FAILED', 'kernel failed on 13']);
    expect(outcomes[2]).toEqual({ kind: 'result', body: { 'c.json': { y: [[6, 7]] } } });
  });

  it('predicts record by record when the model has a fixed batch size', async () => {
    const fixed: Signature = { inputs: [{ name: 'x', dtype: 'float32', shape: [1, 2] }], outputs: free.outputs };
    const { loaded, calls } = counting(fixed);
    await scoreRecords([{ bytes: bytes({ x: [[1, 2]] }), size: 10, fileName: 'a.json' }, { bytes: bytes({ x: [[3, 4]] }), size: 10, fileName: 'b.json' }], loaded, 1000);
    expect(calls).toEqual([[1, 2], [1, 2]]);
  });

  it('gives a record that was too large to download its error outcome', async () => {
    const { loaded } = counting(free);
    const [outcome] = await scoreRecords([{ size: 5000, fileName: 'big.json' }], loaded, 1000);
    expect(outcome!.kind === 'error' && outcome!.error.code).toBe('RECORD_TOO_LARGE');
  });
});
