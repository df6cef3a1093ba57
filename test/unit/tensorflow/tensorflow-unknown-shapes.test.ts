/**
 * Signature inputs whose shape the model leaves open: TF 1.x exports such as
 * TF Serving's half_plus_three declare `x` with no shape at all. Records are
 * checked against what is declared (dtype always; rank and dims where known)
 * and never refused for what is not.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidRecordError } from '../../../functions/scorer/domain/errors.js';
import type { Model } from '../../../functions/scorer/engines/engine.js';
import { tensorflowFormat } from '../../../functions/scorer/formats/tensorflow-format.js';
import { tempRoot } from '../../support/model-dir.js';
import { loadFolder, writeMeta } from './model-folders.js';
import { DT_FLOAT, constant, placeholder, writeSavedModel } from './saved-model-builder.js';

const root = tempRoot('dropscore-tf-shapes-');
afterAll(() => rmSync(root, { recursive: true, force: true }));

const float = { T: { type: DT_FLOAT } };
const scalar = (v: number): Uint8Array => new Uint8Array(Float32Array.of(v).buffer);

/** y = 0.5 * x + 3 for an `x` of unknown rank, as TF Serving's half_plus_three; z = x2 * 2 for an `x2` of rank 2, dims unknown. */
function halfPlusThree(): string {
  const dir = join(root, 'half-plus-three');
  writeSavedModel(
    dir,
    [
      placeholder('x', DT_FLOAT, null),
      constant('a', DT_FLOAT, [], scalar(0.5)),
      constant('b', DT_FLOAT, [], scalar(3)),
      { name: 'ax', op: 'Mul', input: ['a', 'x'], attr: float },
      { name: 'y', op: 'Add', input: ['ax', 'b'], attr: float },
      placeholder('x2', DT_FLOAT, [-1, -1]),
      constant('two', DT_FLOAT, [], scalar(2)),
      { name: 'z', op: 'Mul', input: ['x2', 'two'], attr: float },
    ],
    {
      serving_default: { inputs: { x: { name: 'x:0', dtype: DT_FLOAT, shape: null } }, outputs: { y: { name: 'y:0', dtype: DT_FLOAT, shape: null } } },
      double_it: { inputs: { x2: { name: 'x2:0', dtype: DT_FLOAT, shape: [-1, -1] } }, outputs: { z: { name: 'z:0', dtype: DT_FLOAT, shape: [-1, -1] } } },
    },
  );
  return dir;
}

async function score(model: Model, record: Record<string, unknown>): Promise<Record<string, unknown>> {
  const outputs = await model.predict(tensorflowFormat.decode(record, model.signature));
  return (tensorflowFormat.encode('r.json', outputs, model.signature) as Record<string, unknown>[])[0]!;
}

describe('an input of unknown rank (half_plus_three)', () => {
  let model: Model;
  beforeAll(async () => {
    const dir = halfPlusThree();
    writeMeta(dir, 'half-plus-three');
    model = await loadFolder(dir);
  });

  it('is accepted at load, its spec saying so, with a note for models show', () => {
    expect(model.signature.inputs).toEqual([{ name: 'x', dtype: 'float32', shape: [], unknownRank: true }]);
    expect(model.notes).toEqual(['input "x" has no declared shape: records of any shape are accepted (dtype float32 is checked)']);
  });

  it.each([
    ['a batch of rows', [[1], [2], [5]]],
    ['a vector', [1, 2, 5, -4]],
    ['a scalar', 7],
    ['a rank-3 array', [[[1, 2]], [[3, 4]]]],
  ])('scores %s, keeping its shape', async (_, x) => {
    const halfPlusThreeOf = (v: unknown): unknown => (Array.isArray(v) ? v.map(halfPlusThreeOf) : 0.5 * (v as number) + 3);
    expect(await score(model, { x })).toEqual({ filename: 'r.json', y: halfPlusThreeOf(x) });
  });

  it('still checks values and keys', () => {
    expect(() => tensorflowFormat.decode({ x: [[1], ['two']] }, model.signature)).toThrow(InvalidRecordError);
    expect(() => tensorflowFormat.decode({ x: [[1], ['two']] }, model.signature)).toThrow(/INVALID_VALUE|expected a finite number/);
    expect(() => tensorflowFormat.decode({ y: [1] }, model.signature)).toThrow(/unexpected key\(s\) "y"; the signature expects "x" float32 any shape/);
  });
});

describe('an input of known rank and unknown dims', () => {
  it('takes any dims but checks the rank', async () => {
    const dir = halfPlusThree();
    writeMeta(dir, 'double-it', { signature: 'double_it' });
    const model = await loadFolder(dir);
    expect(model.signature.inputs).toEqual([{ name: 'x2', dtype: 'float32', shape: [null, null] }]);
    expect(await score(model, { x2: [[1, 2, 3]] })).toEqual({ filename: 'r.json', z: [[2, 4, 6]] });
    expect(() => tensorflowFormat.decode({ x2: [1, 2, 3] }, model.signature)).toThrow(/expected shape \[N,N\], received \[3\]/);
  });
});
