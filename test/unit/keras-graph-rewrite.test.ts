/**
 * Keras models packaged with their graph rewrite (keras-graph/) score on the
 * TensorFlow.js graph executor with no h5wasm or TensorFlow.js layers: every
 * shared Keras model the rewrite can express is checked against its reference
 * outputs (the Keras engine's tests' tolerance) through the graph engine
 * alone; a model it cannot express is refused by layer and keeps the Keras
 * engine; a rewrite of another version of the file is never used.
 */
import { copyFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ModelLoadError } from '../../functions/scorer/domain/errors.js';
import { createModelLoader } from '../../functions/scorer/engines/engine-registry.js';
import { kerasGraphSupport, loadModel } from '../../functions/scorer/engines/framework-engines.js';
import { hasCurrentRewriteSync, KERAS_GRAPH } from '../../functions/scorer/engines/graph-rewrite/graph-rewrite-files.js';
import { packageKerasGraph } from '../../functions/scorer/engines/keras/keras-graph-packaging.js';
import { decodeTensor } from '../../functions/scorer/formats/tensor-json.js';
import { scorerPackageFor } from '../../infra/lib/scorer-package.js';
import { addModel } from '../../manage/model-catalog.js';
import { expectedCases, referenceError } from '../support/expected-cases.js';
import { makeModelDir, tempRoot } from '../support/model-dir.js';
import { FIXTURES } from '../support/paths.js';
import { TOLERANCE } from '../support/tensor-proto.js';

const root = tempRoot();
afterAll(() => rmSync(root, { recursive: true, force: true }));
const loadGraphOnly = createModelLoader({ keras: kerasGraphSupport });

const REWRITTEN: [folder: string, artifact: string, input: string, output: string][] = [
  ['keras_h5/wml_mnist_cnn_keras213', 'mnistCNN.h5', 'conv2d_1_input', 'dense_2'],
  ['keras_h5/jsimluken_tiny_mnist_cnn_tf2_0', 'tiny_mnist.h5', 'input_1', 'dense'],
  ['keras_h5/moonflower_mnist_cnn_keras311', 'mnist_model.h5', 'input_layer', 'dense'],
  ['keras_v3/moonflower_mnist_cnn_keras311', 'mnist_model.keras', 'input_layer', 'dense'],
  ['keras_h5/dl4j_causal_conv1d_keras231', 'causal_conv1d_k2_s1_d1_cl_model.h5', 'conv0_input', 'conv0'],
  ['keras_h5/dl4j_softmax_dense_keras231', 'Softmax_0_model.h5', 'dense_input', 'softmax_1'],
  ['keras_h5/dl4j_sparse_xent_mlp_keras231', 'simple_sparse_xent_mlp_keras_2_model.h5', 'dense_1_input', 'activation_1'],
];

describe.each(REWRITTEN)('the graph rewrite of %s', (folder, artifact, inputName, outputName) => {
  const fixture = `${FIXTURES}/models/${folder}`;
  const modelDir = makeModelDir(root, `rewrite-${folder.replace('/', '-')}`, `${fixture}/${artifact}`, 'keras');
  const packaged = packageKerasGraph(modelDir);

  it('is made, and agrees with the Keras engine on the probe batch', async () => {
    const outcome = await packaged;
    expect(outcome).toMatchObject({ rewritten: true });
    expect(existsSync(join(modelDir, KERAS_GRAPH.dir, 'model.json'))).toBe(true);
    expect(hasCurrentRewriteSync(modelDir, KERAS_GRAPH)).toBe(true);
    expect(scorerPackageFor('keras', modelDir).entry).toBe('functions/scorer/lambda/keras-graph-scorer.ts');
  });

  it.each(expectedCases(fixture).map((c) => [c.name, c] as const))('matches the reference on %s with the graph engine alone', async (_name, testCase) => {
    await packaged;
    const loaded = await loadGraphOnly(modelDir);
    expect(loaded.model.notes?.[0]).toContain('graph rewrite');
    expect(await referenceError(loaded, testCase, { input: inputName, output: outputName })).toBeLessThanOrEqual(TOLERANCE);
  });
});

describe('a model the rewrite cannot express', () => {
  it('is refused by layer at packaging and stays on the Keras engine', async () => {
    const fixture = `${FIXTURES}/models/keras_h5/dl4j_simple_lstm_theano_keras122`;
    const dir = makeModelDir(root, 'rewrite-lstm', `${fixture}/simple_lstm_th_keras_1_model.h5`, 'keras');
    expect(await packageKerasGraph(dir)).toEqual({
      rewritten: false,
      reason: 'simple_lstm_th_keras_1_model.h5: cannot be rewritten as a TensorFlow graph: LSTM (layer "lstm_1"): no graph rewrite for this layer class',
    });
    expect(existsSync(join(dir, KERAS_GRAPH.dir))).toBe(false);
    expect(scorerPackageFor('keras', dir).entry).toBe('functions/scorer/lambda/keras-scorer.ts');
    await expect(loadGraphOnly(dir)).rejects.toThrow(/no graph rewrite of simple_lstm_th_keras_1_model\.h5 in keras-graph\//);
    const [testCase] = expectedCases(fixture);
    const loaded = await loadModel(dir);
    expect(loaded.model.notes ?? []).toEqual([]);
    const [inputSpec] = loaded.model.signature.inputs;
    const outputs = await loaded.model.predict({ [inputSpec!.name]: decodeTensor(Object.values(testCase!.input)[0], inputSpec!, inputSpec!.name) });
    expect(outputs[loaded.model.signature.outputs[0]!.name]!.data.length).toBeGreaterThan(0);
  });
});

describe('a rewrite of another version of the file', () => {
  it('is never used: the graph scorer refuses it, synth and the local scorer take the Keras engine', async () => {
    const dir = makeModelDir(root, 'rewrite-stale', `${FIXTURES}/models/keras_h5/moonflower_mnist_cnn_keras311/mnist_model.h5`, 'keras');
    expect(await packageKerasGraph(dir)).toMatchObject({ rewritten: true });
    // The user replaces the model file by hand, under the same name.
    copyFileSync(`${FIXTURES}/models/keras_h5/wml_mnist_cnn_keras213/mnistCNN.h5`, join(dir, 'mnist_model.h5'));
    expect(hasCurrentRewriteSync(dir, KERAS_GRAPH)).toBe(false);
    expect(scorerPackageFor('keras', dir)).toMatchObject({ entry: 'functions/scorer/lambda/keras-scorer.ts', withoutRewrite: 'keras-graph' });
    const refused = await loadGraphOnly(dir).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ModelLoadError);
    expect((refused as Error).message).toBe('model "rewrite-stale": keras-graph/ was made from other files than the folder holds; make it again (`dropscore models add` makes it; tools/graph-rewrite.ts for a folder changed by hand)');
    const loaded = await loadModel(dir);
    expect(loaded.model.signature.outputs[0]!.name).toBe('dense_2'); // the replaced file's model, by the Keras engine
  });
});

describe('dropscore models add', () => {
  it('packages a Keras model with its graph rewrite, or says why it keeps the Keras engine', async () => {
    const modelsRoot = join(root, 'catalog');
    mkdirSync(modelsRoot);
    const added = await addModel(modelsRoot, `${FIXTURES}/models/keras_v3/moonflower_mnist_cnn_keras311/mnist_model.keras`, { framework: 'keras', name: 'digits' });
    expect(added.notes).toEqual(['rewritten as a TensorFlow graph (keras-graph/): deployments of it run without h5wasm and TensorFlow.js layers']);
    expect(hasCurrentRewriteSync(join(modelsRoot, 'digits'), KERAS_GRAPH)).toBe(true);
    const lstm = await addModel(modelsRoot, `${FIXTURES}/models/keras_h5/dl4j_simple_lstm_theano_keras122/simple_lstm_th_keras_1_model.h5`, { framework: 'keras', name: 'lstm' });
    expect(lstm.notes).toEqual(['scored by the Keras engine (no graph rewrite): simple_lstm_th_keras_1_model.h5: cannot be rewritten as a TensorFlow graph: LSTM (layer "lstm_1"): no graph rewrite for this layer class']);
    expect(existsSync(join(modelsRoot, 'lstm', KERAS_GRAPH.dir))).toBe(false);
  });
});
