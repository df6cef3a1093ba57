import { describe, expect, it } from 'vitest';
import { scoreRecord } from '../../functions/scorer/domain/score-record.js';
import type { Model, Signature, TensorMap } from '../../functions/scorer/engines/engine.js';
import type { LoadedModel } from '../../functions/scorer/engines/engine-registry.js';
import { namedTensorsFormat } from '../../functions/scorer/formats/named-tensors-format.js';

const signature: Signature = {
  inputs: [{ name: 'x', dtype: 'float32', shape: [null, 2] }],
  outputs: [{ name: 'y', dtype: 'float32', shape: [null, 2] }],
};

/** Doubles its input: enough to see records flow through decode → predict → encode. */
function fakeModel(predict?: Model['predict']): LoadedModel {
  const model: Model = {
    signature,
    predict: predict ?? (async (inputs: TensorMap) => {
      const x = inputs['x']!;
      return { y: { dtype: 'float32', shape: x.shape, data: (x.data as Float32Array).map((v) => v * 2) } };
    }),
  };
  return { model, format: namedTensorsFormat, artifact: { dir: '/m', artifactPath: '/m/a', sha256: 'abc', meta: { name: 'm', framework: 'onnx', version: '1', artifact: 'a' } } };
}

const bytes = (text: string) => new TextEncoder().encode(text);

describe('scoreRecord', () => {
  it('writes the result under the input file name, keyed by output name', async () => {
    const outcome = await scoreRecord(bytes('{"x": [[1, 2]]}'), 'rec.json', fakeModel());
    expect(outcome).toEqual({ kind: 'result', body: { 'rec.json': { y: [[2, 4]] } } });
  });

  it('accepts "values" for a single-input model', async () => {
    const outcome = await scoreRecord(bytes('{"values": [[1, 2], [3, 4]]}'), 'r.json', fakeModel());
    expect(outcome).toEqual({ kind: 'result', body: { 'r.json': { y: [[2, 4], [6, 8]] } } });
  });

  it.each([
    ['an empty file', '', 'EMPTY_RECORD'],
    ['whitespace only', '  \n', 'EMPTY_RECORD'],
    ['invalid JSON', '{"x": [[1, 2]', 'INVALID_JSON'],
    ['a JSON array', '[[1, 2]]', 'NOT_AN_OBJECT'],
    ['a missing input', '{"z": [[1, 2]]}', 'UNEXPECTED_INPUT'],
    ['no keys at all', '{}', 'MISSING_INPUT'],
    ['strings in the array', '{"x": [[1, "2"]]}', 'INVALID_VALUE'],
    ['a wrong shape', '{"x": [1, 2]}', 'SHAPE_MISMATCH'],
  ])('gives %s an error outcome', async (_label, text, code) => {
    const outcome = await scoreRecord(bytes(text), 'r.json', fakeModel());
    expect(outcome.kind).toBe('error');
    expect(outcome.kind === 'error' && outcome.error.code).toBe(code);
  });

  it('says what the model expects when an input is missing', async () => {
    const outcome = await scoreRecord(bytes('{}'), 'r.json', fakeModel());
    expect(outcome.kind === 'error' && outcome.error.message).toBe('missing input "x"; the model expects "x" float32 [N,2] (or "values")');
  });

  it('recognises a binary file', async () => {
    const outcome = await scoreRecord(Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0xff, 0x00]), 'img.png', fakeModel());
    expect(outcome.kind === 'error' && outcome.error.code).toBe('NOT_TEXT');
  });

  it('refuses records over the size limit before parsing them', async () => {
    const outcome = await scoreRecord(bytes('{"x": [[1, 2]]}'), 'r.json', fakeModel(), 10);
    expect(outcome.kind === 'error' && outcome.error.message).toBe('record is 15 bytes, over the 10-byte limit');
  });

  it('turns an engine failure into a PREDICTION_FAILED outcome', async () => {
    const failing = fakeModel(async () => {
      throw new Error('kernel exploded');
    });
    const outcome = await scoreRecord(bytes('{"x": [[1, 2]]}'), 'r.json', failing);
    expect(outcome.kind === 'error' && [outcome.error.code, outcome.error.message]).toEqual(['PREDICTION_FAILED', 'kernel exploded']);
  });
});
