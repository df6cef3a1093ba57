/**
 * Keras 3 stores weights under class-derived paths (`layers/conv2d_1/vars/0`),
 * not under layer names: a model built late in a Python session (config names
 * `conv2d_12`, ...) must load from the same paths.
 */
import { copyFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { strToU8, zipSync } from 'fflate';
import h5wasm from 'h5wasm/node';
import { afterAll, describe, expect, it } from 'vitest';
import { loadModel } from '../../functions/scorer/engines/framework-engines.js';
import { withHdf5File } from '../../functions/scorer/engines/keras/hdf5-weights.js';
import { keras3GroupNames, readKeras3Weights, toSnakeCase } from '../../functions/scorer/engines/keras/keras3-weights.js';
import { decodeTensor } from '../../functions/scorer/formats/tensor-json.js';
import { expectedCases } from '../support/expected-cases.js';
import { editKerasConfig, seededWeights, writeModelMeta } from '../support/keras-files.js';
import { tempRoot } from '../support/model-dir.js';
import { FIXTURES } from '../support/paths.js';
import { TOLERANCE, maxRelativeError } from '../support/tensor-proto.js';

const root = tempRoot();
afterAll(() => rmSync(root, { recursive: true, force: true }));

type Json = Record<string, unknown>;

describe('Keras 3 weight paths', () => {
  it('derives group names from the class, numbered per class in layer order', () => {
    expect(['Conv2D', 'MaxPooling2D', 'BatchNormalization', 'PReLU', 'LSTM', 'InputLayer', 'Conv1DTranspose'].map(toSnakeCase)).toEqual([
      'conv2d', 'max_pooling2d', 'batch_normalization', 'p_re_lu', 'lstm', 'input_layer', 'conv1d_transpose',
    ]);
    const layers = ['Conv2D', 'MaxPooling2D', 'Conv2D', 'Dense', 'Conv2D', 'Dense'].map((c) => ({ class_name: c }));
    expect(keras3GroupNames(layers)).toEqual(['conv2d', 'max_pooling2d', 'conv2d_1', 'dense', 'conv2d_2', 'dense_1']);
  });

  const fixture = `${FIXTURES}/models/keras_v3/moonflower_mnist_cnn_keras311`;

  it('scores a .keras whose layer names differ from its weight paths exactly like the original', async () => {
    const original = writeModelMeta(join(root, 'original'), 'original', 'mnist_model.keras');
    copyFileSync(`${fixture}/mnist_model.keras`, join(original, 'mnist_model.keras'));
    const renamed = writeModelMeta(join(root, 'renamed'), 'renamed', 'mnist_model.keras');
    // As if built after a dozen other models in one session: conv2d_12, conv2d_13, max_pooling2d_12, ..., dense_12.
    editKerasConfig(`${fixture}/mnist_model.keras`, join(renamed, 'mnist_model.keras'), (config) => {
      const counts = new Map<string, number>();
      for (const layer of ((config['config'] as Json)['layers'] as Json[])) {
        const base = toSnakeCase(String(layer['class_name']));
        counts.set(base, (counts.get(base) ?? 11) + 1);
        if (base !== 'input_layer') (layer['config'] as Json)['name'] = `${base}_${counts.get(base)}`;
      }
    }, 6); // deflated, unlike Keras's own archives: the streamed inflation is exercised too

    const [a, b] = [await loadModel(original), await loadModel(renamed)];
    expect(b.model.signature.outputs[0]!.name).toBe('dense_12');
    for (const testCase of expectedCases(fixture)) {
      const predict = async (loaded: typeof a) => {
        const spec = loaded.model.signature.inputs[0]!;
        const out = await loaded.model.predict({ [spec.name]: decodeTensor(Object.values(testCase.input)[0], spec, spec.name) });
        return out[loaded.model.signature.outputs[0]!.name]!.data as Float32Array;
      };
      const [fromOriginal, fromRenamed] = [await predict(a), await predict(b)];
      expect(Array.from(fromRenamed)).toEqual(Array.from(fromOriginal));
      expect(maxRelativeError(fromRenamed, (Object.values(testCase.output)[0] as unknown[]).flat(Infinity) as number[])).toBeLessThanOrEqual(TOLERANCE);
    }
  });

  const kerasLayer = (className: string, config: Json, extra: Json = {}) => ({ module: 'keras.layers', class_name: className, config, registered_name: null, ...extra });
  const dense = (name: string, units: number, activation: string, extra: Json = {}) => kerasLayer('Dense', { name, units, activation, use_bias: true, dtype: 'float32' }, extra);
  const inputLayer = (name: string, batchShape: (number | null)[], extra: Json = {}) => kerasLayer('InputLayer', { batch_shape: batchShape, dtype: 'float32', name }, extra);
  const node = (name: string, shape: (number | null)[]) => [{ args: [{ class_name: '__keras_tensor__', config: { shape, dtype: 'float32', keras_history: [name, 0, 0] } }], kwargs: {} }];

  /** A `.keras` archive: config.json plus a model.weights.h5 with `vars` at the given paths. */
  async function writeKerasArchive(name: string, config: unknown, groups: readonly string[], vars: Record<string, [Float32Array, number[]][]>): Promise<string> {
    const dir = writeModelMeta(join(root, name), name, 'model.keras');
    const weightsPath = join(root, `${name}.weights.h5`);
    await h5wasm.ready;
    const file = new h5wasm.File(weightsPath, 'w');
    const ensure = (path: string) => {
      let at = '';
      for (const part of path.split('/')) {
        at = at ? `${at}/${part}` : part;
        if (!file.get(at)) file.create_group(at);
      }
    };
    groups.forEach(ensure);
    for (const [path, arrays] of Object.entries(vars)) {
      ensure(`${path}/vars`);
      const group = file.get(`${path}/vars`) as InstanceType<typeof h5wasm.Group>;
      arrays.forEach(([data, shape], i) => group.create_dataset({ name: String(i), data, shape, dtype: '<f' }));
    }
    file.close();
    writeFileSync(join(dir, 'model.keras'), zipSync({
      'metadata.json': strToU8(JSON.stringify({ keras_version: '3.3.3' })),
      'config.json': strToU8(JSON.stringify(config)),
      'model.weights.h5': readFileSync(weightsPath),
    }, { level: 0 }));
    return dir;
  }

  const denseReference = (input: ArrayLike<number>, kernel: Float32Array, bias: Float32Array, activation: (x: number) => number) =>
    Array.from(bias, (b, u) => activation(Array.from(input).reduce((sum, x, i) => sum + x * kernel[i * bias.length + u]!, b)));

  it('maps a nested model: its layers under its own `layers/`, numbered per model (reader level)', async () => {
    // Functional: input [N,4] → Sequential[Dense 3 tanh] → Dense 2; names from a busy session. Both Dense layers are `dense` in their own model.
    const config = {
      module: 'keras', class_name: 'Functional', registered_name: 'Functional',
      config: {
        name: 'functional_9', trainable: true,
        layers: [
          inputLayer('input_layer_9', [null, 4], { name: 'input_layer_9', inbound_nodes: [] }),
          { module: 'keras', class_name: 'Sequential', name: 'sequential_9', inbound_nodes: node('input_layer_9', [null, 4]),
            config: { name: 'sequential_9', layers: [inputLayer('input_layer_10', [null, 4]), dense('dense_30', 3, 'tanh')] } },
          dense('dense_31', 2, 'linear', { name: 'dense_31', inbound_nodes: node('sequential_9', [null, 3]) }),
        ],
        input_layers: [['input_layer_9', 0, 0]],
        output_layers: [['dense_31', 0, 0]],
      },
    };
    const [innerKernel, innerBias, outerKernel, outerBias] = [seededWeights(1, 12), seededWeights(2, 3), seededWeights(3, 6), seededWeights(4, 2)];
    await writeKerasArchive('nested', config, ['layers', 'layers/input_layer', 'layers/sequential', 'layers/sequential/layers'], {
      'layers/input_layer': [],
      'layers/sequential/layers/dense': [[innerKernel, [4, 3]], [innerBias, [3]]],
      'layers/dense': [[outerKernel, [3, 2]], [outerBias, [2]]],
    });
    // TensorFlow.js cannot rebuild a Sequential nested in a functional model from JSON ("Graph disconnected"),
    // so the mapping is checked on the reader's output: every layer gets its own arrays.
    const weights = await withHdf5File(join(root, 'nested.weights.h5'), 'nested', (file, budget) => readKeras3Weights(file, config, budget));
    expect([...weights.keys()].sort()).toEqual(['dense_30', 'dense_31']);
    expect(weights.get('dense_30')!.map((w) => Array.from(w.data))).toEqual([Array.from(innerKernel), Array.from(innerBias)]);
    expect(weights.get('dense_31')!.map((w) => Array.from(w.data))).toEqual([Array.from(outerKernel), Array.from(outerBias)]);
  });

  it('maps a wrapper: the wrapped layer\'s variables under `layer`', async () => {
    // Sequential: [N,2,4] → TimeDistributed(Dense 3 tanh) → Flatten → Dense 2.
    const config = {
      module: 'keras', class_name: 'Sequential', registered_name: null,
      config: { name: 'sequential_4', layers: [
        inputLayer('input_layer_4', [null, 2, 4]),
        kerasLayer('TimeDistributed', { name: 'time_distributed_4', layer: dense('dense_17', 3, 'tanh') }),
        kerasLayer('Flatten', { name: 'flatten_4' }),
        dense('dense_18', 2, 'linear'),
      ] },
    };
    const [innerKernel, innerBias, outerKernel, outerBias] = [seededWeights(6, 12), seededWeights(7, 3), seededWeights(8, 12), seededWeights(9, 2)];
    const dir = await writeKerasArchive('wrapper', config, ['layers', 'layers/time_distributed', 'layers/flatten'], {
      'layers/time_distributed': [],
      'layers/time_distributed/layer': [[innerKernel, [4, 3]], [innerBias, [3]]],
      'layers/flatten': [],
      'layers/dense': [[outerKernel, [6, 2]], [outerBias, [2]]],
    });
    const loaded = await loadModel(dir);
    const input = seededWeights(10, 8);
    const out = await loaded.model.predict({ [loaded.model.signature.inputs[0]!.name]: { dtype: 'float32', shape: [1, 2, 4], data: input } });
    const hidden = [0, 1].flatMap((t) => denseReference(input.subarray(t * 4, t * 4 + 4), innerKernel, innerBias, Math.tanh));
    expect(maxRelativeError(out['dense_18']!.data as Float32Array, denseReference(hidden, outerKernel, outerBias, (x) => x))).toBeLessThanOrEqual(TOLERANCE);
  });
});
