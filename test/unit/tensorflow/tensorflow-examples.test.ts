/**
 * tf.Example signatures (TF Serving's classify/regress): the shared
 * half_plus_two models' regress_x_to_y, regress_x_to_y2 and classify_x_to_y
 * (TF 1.14 ParseExample, TF 2.14 ParseExampleV2 inside a function), scored
 * from TF Serving's `{"examples": [...]}` and from rows under the signature's
 * input key, against the shared expected/ cases (y = 0.5x + 2) and
 * y2 = 0.5x + 3 (PROVENANCE.md); defaults from a crafted parser graph.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidRecordError, ModelLoadError } from '../../../functions/scorer/domain/errors.js';
import type { Model } from '../../../functions/scorer/engines/engine.js';
import { tensorflowFormat } from '../../../functions/scorer/formats/tensorflow-format.js';
import { tempRoot } from '../../support/model-dir.js';
import { TOLERANCE, maxRelativeError } from '../../support/tensor-proto.js';
import { SAVED_MODELS, expectedCases, flatNumbers, linkModelFolder, loadFolder, writeMeta } from './model-folders.js';
import { DT_FLOAT, DT_STRING, constant, placeholder, stringConstant, writeSavedModel } from './saved-model-builder.js';

const root = tempRoot('dropscore-tf-examples-');
afterAll(() => rmSync(root, { recursive: true, force: true }));

const CASES = expectedCases(join(SAVED_MODELS, 'half_plus_two_cpu_tf1'));

async function score(model: Model, record: Record<string, unknown>): Promise<Record<string, unknown>> {
  const outputs = await model.predict(tensorflowFormat.decode(record, model.signature));
  return (tensorflowFormat.encode('r.json', outputs, model.signature) as Record<string, unknown>[])[0]!;
}

function decodeError(model: Model, record: Record<string, unknown>): InvalidRecordError {
  try {
    tensorflowFormat.decode(record, model.signature);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidRecordError);
    return error as InvalidRecordError;
  }
  throw new Error('the record was accepted');
}

const SIGNATURES = [
  { signature: 'regress_x_to_y', output: 'outputs', f: (x: number) => 0.5 * x + 2 },
  { signature: 'regress_x_to_y2', output: 'outputs', f: (x: number) => 0.5 * x + 3 },
  { signature: 'classify_x_to_y', output: 'scores', f: (x: number) => 0.5 * x + 2 },
];

describe.each(['half_plus_two_cpu_tf1', 'half_plus_two_tf2_cpu'])('%s: tf.Example signatures', (fixture) => {
  describe.each(SIGNATURES)('$signature', ({ signature, output, f }) => {
    let model: Model;
    beforeAll(async () => {
      model = await loadFolder(linkModelFolder(root, `${fixture}-${signature}`, join(SAVED_MODELS, fixture), { signature }));
    });

    it('has the parsed feature as its input, and says how records give it', () => {
      expect(model.signature.inputs).toEqual([{ name: 'x', dtype: 'float32', shape: [null, 1] }]);
      expect(model.signature.examples).toEqual({ input: 'inputs', defaults: {}, ignored: ['x2'] });
      expect(model.notes).toEqual([expect.stringMatching(new RegExp(`^signature "${signature}" takes serialized tf\\.Example \\("inputs", parsed by ParseExample(V2)?\\): records give the features "x" DT_FLOAT \\[1\\] as \\{"examples"`))]);
    });

    it.each(CASES.map((c) => [c.name, c] as const))('scores the shared case %s given as {"examples": [...]}', async (_, c) => {
      const xs = flatNumbers(c.input['x']);
      const result = await score(model, { examples: xs.map((x, i) => ({ x: i % 2 === 0 ? x : [x] })) });
      expect(Object.keys(result)).toEqual(['filename', output]);
      const expected = signature === 'regress_x_to_y2' ? xs.map(f) : flatNumbers(c.output['y']);
      expect(maxRelativeError(flatNumbers(result[output]), expected)).toBeLessThanOrEqual(TOLERANCE);
      expect(maxRelativeError(expected, xs.map(f))).toBeLessThanOrEqual(TOLERANCE);
    });

    it('scores rows under the signature input key, as in the WML guide', async () => {
      expect(await score(model, { inputs: [[1], [2], [5]] })).toEqual({ filename: 'r.json', [output]: [[f(1)], [f(2)], [f(5)]] });
    });
  });

  describe('records it refuses, saying why', () => {
    let model: Model;
    beforeAll(async () => {
      model = await loadFolder(linkModelFolder(root, `${fixture}-refusals`, join(SAVED_MODELS, fixture), { signature: 'regress_x_to_y' }));
    });

    it('accepts features the parser knows but the outputs do not use', () => {
      expect(() => tensorflowFormat.decode({ examples: [{ x: 1, x2: 4 }] }, model.signature)).not.toThrow();
    });

    it.each([
      ['a missing required feature', { examples: [{ x: 1 }, { x2: 3 }] }, 'MISSING_INPUT', 'examples[1]: missing feature "x", which has no default'],
      ['an unknown feature', { examples: [{ x: 1, y: 2 }] }, 'UNEXPECTED_INPUT', 'examples[0]: unknown feature(s) "y"; the model reads "x"'],
      ['too many values', { examples: [{ x: [1, 2] }] }, 'SHAPE_MISMATCH', 'examples[0] feature "x": expected 1 value(s) (dense shape [1]), got 2'],
      ['another key beside examples', { examples: [{ x: 1 }], x: [[1]] }, 'UNEXPECTED_INPUT', '"examples" cannot be combined with other keys ("x")'],
      ['a string value', { examples: [{ x: 'one' }] }, 'INVALID_VALUE', 'input "x" at [0][0]: expected a finite number, got string "one"'],
    ])('%s', (_, record, code, message) => {
      const error = decodeError(model, record);
      expect([error.code, error.message]).toEqual([code, message]);
    });
  });
});

describe('a parser with defaults and a wider dense shape (crafted ParseExample graph)', () => {
  const float = (values: number[]): Uint8Array => new Uint8Array(Float32Array.from(values).buffer);
  let model: Model;
  beforeAll(async () => {
    const dir = join(root, 'crafted-parser');
    writeSavedModel(
      dir,
      [
        placeholder('serialized', DT_STRING, [-1]),
        stringConstant('names', [], [0]),
        stringConstant('key_a', ['a'], []),
        stringConstant('key_b', ['b'], []),
        constant('default_a', DT_FLOAT, [0], new Uint8Array(0)),
        constant('default_b', DT_FLOAT, [2], float([7, 8])),
        {
          name: 'parse',
          op: 'ParseExample',
          input: ['serialized', 'names', 'key_a', 'key_b', 'default_a', 'default_b'],
          attr: { Nsparse: { i: 0 }, Ndense: { i: 2 }, sparse_types: { types: [] }, Tdense: { types: [DT_FLOAT, DT_FLOAT] }, dense_shapes: { shapes: [[1], [2]] } },
        },
        { name: 'y', op: 'Mul', input: ['parse', 'parse:1'], attr: { T: { type: DT_FLOAT } } },
      ],
      { classify: { inputs: { inputs: { name: 'serialized:0', dtype: DT_STRING, shape: [-1] } }, outputs: { scores: { name: 'y:0', dtype: DT_FLOAT, shape: [-1, 2] } } } },
    );
    writeMeta(dir, 'crafted-parser', { signature: 'classify' });
    model = await loadFolder(dir);
  });

  it('takes both features, b optional with its graph default', async () => {
    expect(model.signature.inputs).toEqual([
      { name: 'a', dtype: 'float32', shape: [null, 1] },
      { name: 'b', dtype: 'float32', shape: [null, 2] },
    ]);
    expect(model.signature.examples?.defaults).toEqual({ b: [7, 8] });
    const result = await score(model, { examples: [{ a: 2, b: [1, -1] }, { a: [0.5] }] });
    expect(result).toEqual({ filename: 'r.json', scores: [[2, -2], [3.5, 4]] });
  });

  it('refuses rows under "inputs", since there are two features', () => {
    const error = decodeError(model, { inputs: [[1]] });
    expect([error.code, error.message]).toEqual(['MISSING_INPUT', 'rows under "inputs" need a signature with one feature; this one parses "a", "b": give {"examples": [{...}, ...]}']);
  });
});

describe('string inputs that are not tf.Example', () => {
  it('are refused at load, saying why', async () => {
    const dir = join(root, 'string-length');
    writeSavedModel(dir, [placeholder('text', DT_STRING, [-1]), { name: 'n', op: 'StringLength', input: ['text'] }], {
      serving_default: { inputs: { text: { name: 'text:0', dtype: DT_STRING, shape: [-1] } }, outputs: { n: { name: 'n:0', dtype: DT_FLOAT, shape: [-1] } } },
    });
    writeMeta(dir, 'string-length');
    const error = await loadFolder(dir).then(
      () => new Error('loaded'),
      (e: unknown) => e as Error,
    );
    expect(error).toBeInstanceOf(ModelLoadError);
    expect(error.message).toBe(
      'model "string-length": signature "serving_default": input "text" is a DT_STRING tensor and no ParseExample or ParseExampleV2 reads it; string inputs are supported only as serialized tf.Example for one parser',
    );
  });
});
