/**
 * Keras and TF.js layers models, as users saved them, against their reference
 * outputs: real Keras predictions (dl4j_*) or the independent numpy
 * re-implementation (the others), within |a − b| ≤ 1e-5 · max(1, |b|).
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import h5wasm from 'h5wasm/node';
import { afterAll, describe, expect, it } from 'vitest';
import { ModelLoadError } from '../../functions/scorer/domain/errors.js';
import { loadModel } from '../../functions/scorer/engines/framework-engines.js';
import { expectedCases, referenceError } from '../support/expected-cases.js';
import { makeModelDir, tempRoot } from '../support/model-dir.js';
import { FIXTURES } from '../support/paths.js';
import { TOLERANCE } from '../support/tensor-proto.js';

const root = tempRoot();
afterAll(() => rmSync(root, { recursive: true, force: true }));

const MODELS: [folder: string, artifact: string, framework: string, input: string, output: string][] = [
  ['keras_h5/wml_mnist_cnn_keras213', 'mnistCNN.h5', 'keras', 'conv2d_1_input', 'dense_2'],
  ['keras_h5/jsimluken_tiny_mnist_cnn_tf2_0', 'tiny_mnist.h5', 'keras', 'input_1', 'dense'],
  ['keras_h5/moonflower_mnist_cnn_keras311', 'mnist_model.h5', 'keras', 'input_layer', 'dense'],
  ['keras_v3/moonflower_mnist_cnn_keras311', 'mnist_model.keras', 'keras', 'input_layer', 'dense'],
  ['keras_h5/dl4j_causal_conv1d_keras231', 'causal_conv1d_k2_s1_d1_cl_model.h5', 'keras', 'conv0_input', 'conv0'],
  ['keras_h5/dl4j_simple_lstm_theano_keras122', 'simple_lstm_th_keras_1_model.h5', 'keras', 'lstm_input_1', 'dense_1'],
  ['keras_h5/dl4j_softmax_dense_keras231', 'Softmax_0_model.h5', 'keras', 'dense_input', 'softmax_1'],
  ['keras_h5/dl4j_sparse_xent_mlp_keras231', 'simple_sparse_xent_mlp_keras_2_model.h5', 'keras', 'dense_1_input', 'activation_1'],
  ['tfjs_layers/tfjs_e2e_embedding_gru', 'model.json', 'tfjs', 'embedding_Embedding2_input', 'gru_GRU1'],
];

describe.each(MODELS)('%s', (folder, artifact, framework, inputName, outputName) => {
  const fixture = `${FIXTURES}/models/${folder}`;
  const shards = framework === 'tfjs' ? [`${fixture}/weights.bin`] : [];
  const modelDir = makeModelDir(root, folder.replace('/', '-'), `${fixture}/${artifact}`, framework, shards);

  it.each(expectedCases(fixture).map((c) => [c.name, c] as const))('matches the reference on %s', async (_name, testCase) => {
    const loaded = await loadModel(modelDir);
    expect(await referenceError(loaded, testCase, { input: inputName, output: outputName })).toBeLessThanOrEqual(TOLERANCE);
  });
});

describe('Keras engine failures', () => {
  async function writeH5(name: string, modelConfig: unknown, kerasVersion = '2.3.1'): Promise<string> {
    await h5wasm.ready;
    const dir = join(root, name);
    mkdirSync(dir, { recursive: true });
    const path = join(dir, 'model.h5');
    const file = new h5wasm.File(path, 'w');
    file.create_attribute('model_config', JSON.stringify(modelConfig));
    file.create_attribute('keras_version', kerasVersion);
    file.create_group('model_weights');
    file.close();
    writeFileSync(join(dir, 'model-meta.json'), JSON.stringify({ name, framework: 'keras', artifact: 'model.h5' }));
    return dir;
  }

  it('names an unsupported layer class and the file by its base name, never its path', async () => {
    const dir = await writeH5('custom', {
      class_name: 'Sequential',
      config: { name: 's', layers: [{ class_name: 'MyAttention', config: { name: 'attn', batch_input_shape: [null, 4] } }] },
    });
    const error = await loadModel(dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelLoadError);
    expect((error as Error).message).toBe('model.h5: unsupported Keras layer class MyAttention (layer "attn")');
  });

  it('refuses Keras 1 layers it cannot translate, by name', async () => {
    const dir = await writeH5('keras1-conv', {
      class_name: 'Sequential',
      config: [{ class_name: 'Highway', config: { name: 'highway_1', batch_input_shape: [null, 8] } }],
    }, '1.2.2');
    await expect(loadModel(dir)).rejects.toThrow(/Keras 1 layer class Highway \(layer "highway_1"\) is not supported/);
  });

  it('says which layer has no weights in the file', async () => {
    const dir = await writeH5('no-weights', {
      class_name: 'Sequential',
      config: { name: 's', layers: [{ class_name: 'Dense', config: { name: 'dense_9', units: 2, batch_input_shape: [null, 3] } }] },
    });
    await expect(loadModel(dir)).rejects.toThrow('no weights stored for layer "dense_9" (Dense)');
  });

  it('explains a weights-only file', async () => {
    await h5wasm.ready;
    const dir = join(root, 'weights-only');
    mkdirSync(dir, { recursive: true });
    new h5wasm.File(join(dir, 'w.h5'), 'w').close();
    writeFileSync(join(dir, 'model-meta.json'), JSON.stringify({ name: 'w', framework: 'keras', artifact: 'w.h5' }));
    await expect(loadModel(dir)).rejects.toThrow('has no model_config attribute: it holds weights only');
  });
});
