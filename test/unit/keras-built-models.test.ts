/**
 * Keras models no shared file covers (no multi-output model, no Keras 1
 * convolution exists in shared/models): built here as Keras would save them
 * (config + weights in its HDF5 layout) and checked against a plain
 * re-implementation of the network in this file. They show that our reading
 * matches Keras's documented semantics, not real Keras's own output.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { scoreRecord } from '../../functions/scorer/domain/score-record.js';
import { loadModel } from '../../functions/scorer/engines/framework-engines.js';
import { packageKerasGraph } from '../../functions/scorer/engines/keras/keras-graph-packaging.js';
import { seededWeights, writeKerasH5, writeModelMeta } from '../support/keras-files.js';
import { tempRoot } from '../support/model-dir.js';
import { TOLERANCE, maxRelativeError } from '../support/tensor-proto.js';

const root = tempRoot();
afterAll(() => rmSync(root, { recursive: true, force: true }));

const softmax = (xs: number[]) => {
  const max = Math.max(...xs);
  const exps = xs.map((x) => Math.exp(x - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
};
const dense = (input: readonly number[], kernel: Float32Array, bias: Float32Array) =>
  Array.from(bias, (b, u) => input.reduce((sum, x, i) => sum + x * kernel[i * bias.length + u]!, b));
const argmax = (xs: number[]) => xs.indexOf(Math.max(...xs));

async function scoreJson(dir: string, record: unknown) {
  const outcome = await scoreRecord(new TextEncoder().encode(JSON.stringify(record)), 'r.json', await loadModel(dir));
  if (outcome.kind !== 'result') throw new Error(`expected a result, got ${outcome.error.code}: ${outcome.error.message}`);
  return (outcome.body as Record<string, unknown>)['r.json'] as Record<string, { fields: string[]; values: unknown[] }>;
}

describe('a Keras 2 functional model with two outputs', () => {
  // features [N,4] → shared Dense 3 tanh → class_head Dense 2 softmax, value_head Dense 1 linear.
  const node = (name: string) => [[[name, 0, 0, {}]]];
  const modelConfig = {
    class_name: 'Model',
    config: {
      name: 'two_heads',
      layers: [
        { class_name: 'InputLayer', name: 'features', config: { name: 'features', batch_input_shape: [null, 4], dtype: 'float32' }, inbound_nodes: [] },
        { class_name: 'Dense', name: 'shared', config: { name: 'shared', units: 3, activation: 'tanh', use_bias: true }, inbound_nodes: node('features') },
        { class_name: 'Dense', name: 'class_head', config: { name: 'class_head', units: 2, activation: 'softmax', use_bias: true }, inbound_nodes: node('shared') },
        { class_name: 'Dense', name: 'value_head', config: { name: 'value_head', units: 1, activation: 'linear', use_bias: true }, inbound_nodes: node('shared') },
      ],
      input_layers: [['features', 0, 0]],
      output_layers: [['class_head', 0, 0], ['value_head', 0, 0]],
    },
  };
  const w = {
    shared: [seededWeights(11, 12), seededWeights(12, 3)] as const,
    class_head: [seededWeights(13, 6), seededWeights(14, 2)] as const,
    value_head: [seededWeights(15, 3), seededWeights(16, 1)] as const,
  };
  const stored = (layer: keyof typeof w, kernelShape: number[]) => [
    { name: `${layer}/kernel:0`.replace('/', '_'), shape: kernelShape, data: w[layer][0] },
    { name: `${layer}/bias:0`.replace('/', '_'), shape: [kernelShape[1]!], data: w[layer][1] },
  ];

  it('loads, and writes one fields/values group per output, named by output', async () => {
    const dir = writeModelMeta(join(root, 'two-heads'), 'two-heads', 'model.h5');
    await writeKerasH5(join(dir, 'model.h5'), {
      modelConfig, kerasVersion: '2.3.1', backend: 'tensorflow',
      weights: { shared: stored('shared', [4, 3]), class_head: stored('class_head', [3, 2]), value_head: stored('value_head', [3, 1]) },
    });
    const rows = [[0.5, -1, 2, 0.25], [1, 1, -0.5, 0]];
    await checkTwoHeads(await scoreJson(dir, { values: rows }), rows);
    // Packaged with its graph rewrite (a functional model with two outputs), it scores the same on the graph executor.
    expect(await packageKerasGraph(dir)).toMatchObject({ rewritten: true });
    expect((await loadModel(dir)).model.notes?.[0]).toContain('graph rewrite');
    await checkTwoHeads(await scoreJson(dir, { values: rows }), rows);
  });

  function checkTwoHeads(body: Awaited<ReturnType<typeof scoreJson>>, rows: number[][]) {
    expect(Object.keys(body)).toEqual(['class_head', 'value_head']);
    for (const [i, row] of rows.entries()) {
      const hidden = dense(row, ...w.shared).map(Math.tanh);
      const probabilities = softmax(dense(hidden, ...w.class_head));
      const value = dense(hidden, ...w.value_head);
      const [classRow, valueRow] = [body['class_head']!.values[i] as unknown[], body['value_head']!.values[i] as unknown[]];
      expect(body['class_head']!.fields).toEqual(['prediction', 'prediction_classes', 'probability']);
      expect(maxRelativeError(classRow[0] as number[], probabilities)).toBeLessThanOrEqual(TOLERANCE);
      expect(classRow[1]).toBe(argmax(probabilities));
      expect(maxRelativeError(valueRow[0] as number[], value)).toBeLessThanOrEqual(TOLERANCE);
    }
  }
});

describe('Keras 1 Convolution2D', () => {
  // [N,C,H,W] or [N,H,W,C] 3 channels of 5x6 → Convolution2D 2 filters 3x2 valid (linear) → MaxPooling2D 2x2 → Flatten → Dense 3 softmax.
  const [C, H, W, F, KH, KW] = [3, 5, 6, 2, 3, 2];
  const [OH, OW] = [H - KH + 1, W - KW + 1];
  const [PH, PW] = [Math.floor(OH / 2), Math.floor(OW / 2)];
  const kernel = seededWeights(21, F * C * KH * KW);
  const bias = seededWeights(22, F);
  const denseKernel = seededWeights(23, F * PH * PW * 3);
  const denseBias = seededWeights(24, 3);

  function modelConfig(dimOrdering: 'th' | 'tf') {
    const shape = dimOrdering === 'th' ? [null, C, H, W] : [null, H, W, C];
    return {
      class_name: 'Sequential',
      config: [
        { class_name: 'Convolution2D', config: { name: 'convolution2d_1', nb_filter: F, nb_row: KH, nb_col: KW, subsample: [1, 1], border_mode: 'valid', dim_ordering: dimOrdering, activation: 'linear', bias: true, init: 'glorot_uniform', W_regularizer: null, b_regularizer: null, activity_regularizer: null, W_constraint: null, b_constraint: null, trainable: true, batch_input_shape: shape, input_dtype: 'float32' } },
        { class_name: 'MaxPooling2D', config: { name: 'maxpooling2d_1', pool_size: [2, 2], strides: [2, 2], border_mode: 'valid', dim_ordering: dimOrdering, trainable: true } },
        { class_name: 'Flatten', config: { name: 'flatten_1', trainable: true } },
        { class_name: 'Dense', config: { name: 'dense_1', output_dim: 3, activation: 'softmax', init: 'glorot_uniform', bias: true, input_dim: null, trainable: true } },
      ],
    };
  }

  /** `kernel` indexed as (filter, channel, row, col), whatever layout it is stored in. */
  const k = (o: number, c: number, i: number, j: number) => kernel[((o * C + c) * KH + i) * KW + j]!;

  /**
   * The network by its definition: Theano's conv2d is a true convolution
   * (the kernel flipped in both axes), TensorFlow's a correlation; pooling,
   * then flattening in the layout's own order.
   */
  function reference(image: (c: number, y: number, x: number) => number, convolution: boolean, channelsFirst: boolean): number[] {
    const conv = (o: number, y: number, x: number) => {
      let sum = bias[o]!;
      for (let c = 0; c < C; c++) {
        for (let i = 0; i < KH; i++) {
          for (let j = 0; j < KW; j++) sum += image(c, y + i, x + j) * (convolution ? k(o, c, KH - 1 - i, KW - 1 - j) : k(o, c, i, j));
        }
      }
      return sum;
    };
    const pooled = (o: number, y: number, x: number) => Math.max(conv(o, 2 * y, 2 * x), conv(o, 2 * y, 2 * x + 1), conv(o, 2 * y + 1, 2 * x), conv(o, 2 * y + 1, 2 * x + 1));
    const flat: number[] = [];
    if (channelsFirst) for (let o = 0; o < F; o++) for (let y = 0; y < PH; y++) for (let x = 0; x < PW; x++) flat.push(pooled(o, y, x));
    else for (let y = 0; y < PH; y++) for (let x = 0; x < PW; x++) for (let o = 0; o < F; o++) flat.push(pooled(o, y, x));
    return softmax(dense(flat, denseKernel, denseBias));
  }

  const pixel = (c: number, y: number, x: number) => Math.sin(1 + c * 31 + y * 7 + x * 3);

  /** The Keras 1.2.2 model with its convolution kernel stored in `ordering`'s layout. */
  async function writeConvModel(ordering: 'th' | 'tf', kernelShape: number[], kernelData: Float32Array): Promise<string> {
    const dir = writeModelMeta(join(root, `keras1-${ordering}`), `keras1-${ordering}`, 'model.h5');
    await writeKerasH5(join(dir, 'model.h5'), {
      modelConfig: modelConfig(ordering), kerasVersion: '1.2.2',
      weights: {
        convolution2d_1: [{ name: 'convolution2d_1_W', shape: kernelShape, data: kernelData }, { name: 'convolution2d_1_b', shape: [F], data: bias }],
        dense_1: [{ name: 'dense_1_W', shape: [F * PH * PW, 3], data: denseKernel }, { name: 'dense_1_b', shape: [3], data: denseBias }],
      },
    });
    return dir;
  }

  it('reads a Theano "th" kernel: channels-first and spatially flipped (true convolution)', async () => {
    const dir = await writeConvModel('th', [F, C, KH, KW], kernel);
    const image = [[...Array(C)].map((_, c) => [...Array(H)].map((_, y) => [...Array(W)].map((_, x) => pixel(c, y, x))))];
    const body = await scoreJson(dir, { convolution2d_input_1: image });
    const expected = reference(pixel, true, true);
    expect(maxRelativeError((body as unknown as { values: unknown[] }).values[0] as number[], expected)).toBeLessThanOrEqual(TOLERANCE);
    // The flip matters: the same numbers read as a correlation give another answer.
    expect(maxRelativeError((body as unknown as { values: unknown[] }).values[0] as number[], reference(pixel, false, true))).toBeGreaterThan(1e-3);
  });

  it('reads a "tf" kernel as TensorFlow\'s (rows, cols, channels, filters) correlation', async () => {
    const tfKernel = new Float32Array(kernel.length);
    for (let o = 0; o < F; o++) for (let c = 0; c < C; c++) for (let i = 0; i < KH; i++) for (let j = 0; j < KW; j++) tfKernel[((i * KW + j) * C + c) * F + o] = k(o, c, i, j);
    const dir = await writeConvModel('tf', [KH, KW, C, F], tfKernel);
    const image = [[...Array(H)].map((_, y) => [...Array(W)].map((_, x) => [...Array(C)].map((_, c) => pixel(c, y, x))))];
    const body = await scoreJson(dir, { values: image });
    expect(maxRelativeError((body as unknown as { values: unknown[] }).values[0] as number[], reference(pixel, false, false))).toBeLessThanOrEqual(TOLERANCE);
  });
});
