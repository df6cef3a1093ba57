/**
 * Fidelity: every SavedModel and TensorFlow.js graph model fixture scores its
 * `expected/` cases (an independent numpy run of the stored graph) within the
 * project tolerance, records going through the TensorFlow record format.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Model } from '../../../functions/scorer/engines/engine.js';
import { tensorflowFormat } from '../../../functions/scorer/formats/tensorflow-format.js';
import { tempRoot } from '../../support/model-dir.js';
import { TOLERANCE, maxRelativeError } from '../../support/tensor-proto.js';
import { GRAPH_MODELS, SAVED_MODELS, expectedCases, fixtureFolders, flatNumbers, linkModelFolder, loadFolder, nestedShape } from './model-folders.js';

const root = tempRoot('dropscore-tf-');
afterAll(() => rmSync(root, { recursive: true, force: true }));

const fixtures = [
  ...fixtureFolders(SAVED_MODELS).map((name) => ({ kind: 'SavedModel', name, source: join(SAVED_MODELS, name), artifact: 'saved_model.pb' })),
  ...fixtureFolders(GRAPH_MODELS).map((name) => ({ kind: 'graph model', name, source: join(GRAPH_MODELS, name), artifact: 'model.json' })),
];

it('finds every fixture, each with expected outputs', () => {
  expect(fixtures.map((f) => f.name)).toEqual([
    'half_plus_two_cpu_tf1',
    'half_plus_two_tf2_cpu',
    'matrix_half_plus_two_novars',
    'mnist_cnn_bn_keras_tf2_10',
    'mnist_mlp_keras_tf2_2_two_shards',
    'mnist_softmax_tf1_7_simple_save',
    'jsimluken_tiny_mnist_cnn_tf1_15',
    'tfjs_e2e_matmul_2x2',
  ]);
  for (const f of fixtures) expect(expectedCases(f.source).length, f.name).toBeGreaterThan(0);
});

describe.each(fixtures)('$kind $name matches expected/', ({ name, source, artifact }) => {
  let model: Model;
  beforeAll(async () => {
    model = await loadFolder(linkModelFolder(root, name, source, { artifact }));
  });

  it.each(expectedCases(source))('$name', async ({ input, output }) => {
    const inputs = tensorflowFormat.decode(input, model.signature);
    const outputs = await model.predict(inputs);
    expect(Object.keys(output).sort()).toEqual(model.signature.outputs.map((s) => s.name).sort());
    for (const [key, expected] of Object.entries(output)) {
      const actual = outputs[key]!;
      expect(actual.shape, key).toEqual(nestedShape(expected));
      expect(maxRelativeError(Array.from(actual.data as Float32Array), flatNumbers(expected)), key).toBeLessThanOrEqual(TOLERANCE);
    }
  });
});

describe('signatures by key, with free dimensions', () => {
  it.each([
    ['half_plus_two_cpu_tf1', { inputs: [{ name: 'x', dtype: 'float32', shape: [null, 1] }], outputs: [{ name: 'y', dtype: 'float32', shape: [null, 1] }] }],
    ['half_plus_two_tf2_cpu', { inputs: [{ name: 'x', dtype: 'float32', shape: [1] }], outputs: [{ name: 'y', dtype: 'float32', shape: [1] }] }],
    ['mnist_cnn_bn_keras_tf2_10', { inputs: [{ name: 'conv2d_input', dtype: 'float32', shape: [null, 28, 28, 1] }], outputs: [{ name: 'dense_1', dtype: 'float32', shape: [null, 10] }] }],
    ['mnist_mlp_keras_tf2_2_two_shards', { inputs: [{ name: 'flatten_input', dtype: 'float32', shape: [null, 28, 28] }], outputs: [{ name: 'dense_1', dtype: 'float32', shape: [null, 10] }] }],
  ])('%s', async (name, signature) => {
    const model = await loadFolder(linkModelFolder(root, `sig-${name}`, join(SAVED_MODELS, name)));
    expect(model.signature).toEqual(signature);
  });

  it('a graph model keys records by node name (signature tensor without ":0")', async () => {
    const model = await loadFolder(linkModelFolder(root, 'sig-tfjs', join(GRAPH_MODELS, 'jsimluken_tiny_mnist_cnn_tf1_15'), { artifact: 'model.json' }));
    expect(model.signature).toEqual({
      inputs: [{ name: 'input_1', dtype: 'float32', shape: [null, 28, 28, 1] }],
      outputs: [{ name: 'Identity', dtype: 'float32', shape: [null, 10] }],
    });
  });
});
