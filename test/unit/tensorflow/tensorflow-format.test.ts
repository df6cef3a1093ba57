/**
 * The TensorFlow record convention end to end: records keyed by signature input
 * keys (or TensorFlow Serving's "inputs"), checked against the loaded model's
 * signature, and results written as [{"filename": ..., "<output key>": ...}].
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Model } from '../../../functions/scorer/engines/engine.js';
import { tf } from '../../../functions/scorer/engines/tfjs-runtime.js';
import { tensorflowFormat } from '../../../functions/scorer/formats/tensorflow-format.js';
import { tempRoot } from '../../support/model-dir.js';
import { FIXTURES } from '../../support/paths.js';
import { TOLERANCE, maxRelativeError } from '../../support/tensor-proto.js';
import { SAVED_MODELS, linkModelFolder, loadFolder, writeMeta } from './model-folders.js';
import { DT_FLOAT, DT_INT64, constant, placeholder, writeSavedModel } from './saved-model-builder.js';
import { recordError } from '../../support/record-error.js';

const root = tempRoot('dropscore-tf-fmt-');
afterAll(() => rmSync(root, { recursive: true, force: true }));


describe('mnist_softmax_tf1_7_simple_save with the real payload num_3.json', () => {
  const source = join(SAVED_MODELS, 'mnist_softmax_tf1_7_simple_save');
  let model: Model;
  beforeAll(async () => {
    model = await loadFolder(linkModelFolder(root, 'softmax', source));
  });

  it('writes [{"filename", "y"}] with the logits batch first', async () => {
    const record = JSON.parse(readFileSync(`${FIXTURES}/payloads/tensorflow/num_3.json`, 'utf8'));
    expect(Object.keys(record)).toEqual(['inputs']); // TensorFlow Serving's columnar form
    const outputs = await model.predict(tensorflowFormat.decode(record, model.signature));
    const result = tensorflowFormat.encode('num_3.json', outputs, model.signature) as [{ filename: string; y: number[][] }];
    expect(result).toHaveLength(1);
    expect(Object.keys(result[0])).toEqual(['filename', 'y']);
    expect(result[0].filename).toBe('num_3.json');
    const expected = JSON.parse(readFileSync(join(source, 'expected', 'num_3.output.json'), 'utf8')).y as number[][];
    expect(result[0].y).toHaveLength(1);
    expect(maxRelativeError(result[0].y.flat(), expected.flat())).toBeLessThanOrEqual(TOLERANCE);
    expect(result[0].y[0]!.indexOf(Math.max(...result[0].y[0]!))).toBe(3);
  });

  it('leaves no tensors behind after predicting', async () => {
    const inputs = tensorflowFormat.decode({ x: [new Array(784).fill(0.5)] }, model.signature);
    await model.predict(inputs);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) await model.predict(inputs);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('takes the same tensor under its signature key', async () => {
    const pixels = JSON.parse(readFileSync(`${FIXTURES}/payloads/tensorflow/num_3.json`, 'utf8')).inputs;
    const a = await model.predict(tensorflowFormat.decode({ x: pixels }, model.signature));
    const b = await model.predict(tensorflowFormat.decode({ inputs: { x: pixels } }, model.signature));
    expect(Array.from(a['y']!.data as Float32Array)).toEqual(Array.from(b['y']!.data as Float32Array));
  });

  it('rejects an unknown key, listing the expected keys, dtypes and shapes', () => {
    const e = recordError(() => tensorflowFormat.decode({ images: [[1]] }, model.signature));
    expect(e.code).toBe('UNEXPECTED_INPUT');
    expect(e.message).toBe('unexpected key(s) "images"; the signature expects "x" float32 [N,784]');
  });

  it('rejects a missing key and "inputs" mixed with other keys', () => {
    expect(recordError(() => tensorflowFormat.decode({}, model.signature)).message).toBe('missing input "x"; the signature expects "x" float32 [N,784]');
    const mixed = recordError(() => tensorflowFormat.decode({ inputs: [[0]], x: [[0]] }, model.signature));
    expect(mixed.message).toBe('"inputs" cannot be combined with other keys ("x"); the signature expects "x" float32 [N,784]');
  });

  it('rejects a wrong shape and a non-number, saying where', () => {
    const shape = recordError(() => tensorflowFormat.decode({ x: [[1, 2, 3]] }, model.signature));
    expect(shape.code).toBe('SHAPE_MISMATCH');
    expect(shape.message).toBe('input "x": expected shape [N,784], received [1,3]');
    const row = new Array(784).fill(0);
    row[5] = 'dark';
    const value = recordError(() => tensorflowFormat.decode({ x: [row] }, model.signature));
    expect(value.code).toBe('INVALID_VALUE');
    expect(value.message).toBe('input "x" at [0][5]: expected a finite number, got string "dark"');
  });
});

describe('a crafted int64 model with two inputs: y = a + b + 1', () => {
  let model: Model;
  beforeAll(async () => {
    const dir = join(root, 'int64');
    const one = new Uint8Array(new BigInt64Array([1n]).buffer);
    const int64 = { T: { type: DT_INT64 } };
    writeSavedModel(
      dir,
      [
        placeholder('a', DT_INT64, [-1, 3]),
        placeholder('b', DT_INT64, [-1, 3]),
        constant('one', DT_INT64, [], one),
        { name: 'sum', op: 'AddV2', input: ['a', 'b'], attr: int64 },
        { name: 'y', op: 'AddV2', input: ['sum', 'one'], attr: int64 },
        placeholder('unused', DT_FLOAT, [2]),
      ],
      {
        serving_default: {
          inputs: { first: { name: 'a:0', dtype: DT_INT64, shape: [-1, 3] }, second: { name: 'b:0', dtype: DT_INT64, shape: [-1, 3] }, spare: { name: 'unused:0', dtype: DT_FLOAT, shape: [2] } },
          outputs: { total: { name: 'y:0', dtype: DT_INT64, shape: [-1, 3] } },
        },
      },
    );
    writeMeta(dir, 'int64');
    model = await loadFolder(dir);
  });

  it('computes in int64 by key, including an input no output depends on', async () => {
    const record = { first: [[1, 2, 3]], second: [[10, 20, 30]], spare: [0, 0] };
    const outputs = await model.predict(tensorflowFormat.decode(record, model.signature));
    expect(Array.from(outputs['total']!.data as BigInt64Array)).toEqual([12n, 23n, 34n]);
    expect(tensorflowFormat.encode('sums.json', outputs, model.signature)).toEqual([{ filename: 'sums.json', total: [[12, 23, 34]] }]);
  });

  it('rejects a value that is not an int64, naming the model dtype', () => {
    const e = recordError(() => tensorflowFormat.decode({ first: [[1, 2.5, 3]], second: [[1, 2, 3]], spare: [0, 0] }, model.signature));
    expect(e.code).toBe('DTYPE_MISMATCH');
    expect(e.message).toBe('input "first" at [0][1]: 2.5 is not a valid int64 (model input dtype is int64)');
  });

  it('needs "inputs" to be an object when there are several inputs', () => {
    const e = recordError(() => tensorflowFormat.decode({ inputs: [[1, 2, 3]] }, model.signature));
    expect(e.message).toBe('"inputs" must be an object keyed by input name for a signature with 3 inputs; the signature expects "first" int64 [N,3], "second" int64 [N,3], "spare" float32 [2]');
  });
});
