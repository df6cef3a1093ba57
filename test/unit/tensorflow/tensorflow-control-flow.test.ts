/**
 * TF2 functional control flow on a crafted SavedModel (no shared model has
 * While/If): a While whose body reads a resource variable passed in as an
 * argument (as tf.function loops capture variables), and a StatelessIf, both
 * with function-library bodies, checked against the same computation done
 * here in float64.
 */
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelLoadError } from '../../../functions/scorer/domain/errors.js';
import type { Model } from '../../../functions/scorer/engines/engine.js';
import { tensorflowFormat } from '../../../functions/scorer/formats/tensorflow-format.js';
import { tempRoot } from '../../support/model-dir.js';
import { TOLERANCE, maxRelativeError } from '../../support/tensor-proto.js';
import { FUNCTIONS, LOOP_ARGS, controlFlowModel, reference } from './control-flow-model.js';
import { loadFolder } from './model-folders.js';
import { DT_FLOAT, type TestFunction } from './saved-model-builder.js';

const root = tempRoot('dropscore-tf-control-');
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('While with a variable-reading body, and StatelessIf', () => {
  let model: Model;
  beforeAll(async () => {
    model = await loadFolder(controlFlowModel(root, 'while-if'));
  });

  it.each([
    ['positive sum (then branch)', [[1, 2], [0.25, -0.5]]],
    ['negative sum (else branch)', [[-3, 1], [0.5, -4]]],
  ])('%s matches the float64 reference', async (_, x) => {
    const outputs = await model.predict(tensorflowFormat.decode({ x }, model.signature));
    const expected = reference(x);
    expect(outputs['y']!.shape).toEqual([2, 2]);
    expect(maxRelativeError(outputs['y']!.data as Float32Array, expected.y)).toBeLessThanOrEqual(TOLERANCE);
    expect(maxRelativeError(outputs['z']!.data as Float32Array, expected.z)).toBeLessThanOrEqual(TOLERANCE);
  });
});

describe('what control flow still refuses', () => {
  it('a body that writes the variable it is passed', async () => {
    const writer: TestFunction = {
      name: 'loop_body',
      inputs: LOOP_ARGS,
      outputs: FUNCTIONS[1]!.outputs,
      nodes: [...FUNCTIONS[1]!.nodes, { name: 'write', op: 'AssignVariableOp', input: ['w', 'shifted:z:0'], attr: { dtype: { type: DT_FLOAT } } }],
      ret: FUNCTIONS[1]!.ret,
    };
    const functions = FUNCTIONS.map((fn) => (fn.name === 'loop_body' ? writer : fn));
    const error = await loadFolder(controlFlowModel(root, 'while-assign', functions)).then(
      () => new Error('loaded'),
      (e: unknown) => e as Error,
    );
    expect(error).toBeInstanceOf(ModelLoadError);
    expect(error.message).toBe('model "while-assign": function "loop_body": AssignVariableOp "write" uses a variable in a way that cannot be frozen into a constant (only reads can)');
  });
});
