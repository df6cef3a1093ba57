/**
 * Each layer translation run on onnxruntime against values worked out by
 * hand (or by the layer's formula written independently in the test).
 */
import { describe, expect, it } from 'vitest';
import { expectClose, loadNet, run, tensor, type TestLayer } from './caffe-test-kit.js';

/** A net with one input `x` of the given declared shape and these layer blocks. */
function net(shape: number[], layers: string, inputName = 'x'): string {
  return `name: "t"\ninput: "${inputName}"\ninput_shape { ${shape.map((d) => `dim: ${d}`).join(' ')} }\n${layers}`;
}

function layer(name: string, type: string, bottom: string | string[], top: string | string[], params = ''): string {
  const bottoms = [bottom].flat().map((b) => `bottom: "${b}"`).join(' ');
  const tops = [top].flat().map((t) => `top: "${t}"`).join(' ');
  return `layer { name: "${name}" type: "${type}" ${bottoms} ${tops} ${params} }\n`;
}

async function runOne(shape: number[], layers: string, values: number[], weights: TestLayer[] = [], runShape = shape) {
  const model = await loadNet(net(shape, layers), weights);
  const outputs = await run(model, { x: tensor(runShape, values) });
  return { model, outputs, out: Object.values(outputs)[0]! };
}

const GRID_5X5 = Array.from({ length: 25 }, (_, i) => i);

describe('Pooling: Caffe output sizes and windows', () => {
  it('MAX 2x2 stride 2 on 5x5 rounds up (CEIL) to 3x3, the last window clipped to the input', async () => {
    const { out } = await runOne([1, 1, 5, 5], layer('p', 'Pooling', 'x', 'p', 'pooling_param { pool: MAX kernel_size: 2 stride: 2 }'), GRID_5X5);
    expect(out.shape).toEqual([1, 1, 3, 3]);
    expectClose(out.values, [6, 8, 9, 16, 18, 19, 21, 23, 24]);
  });

  it('AVE 2x2 stride 2 on 5x5 divides clipped windows by their clipped size', async () => {
    const { out } = await runOne([1, 1, 5, 5], layer('p', 'Pooling', 'x', 'p', 'pooling_param { pool: AVE kernel_size: 2 stride: 2 }'), GRID_5X5);
    expect(out.shape).toEqual([1, 1, 3, 3]);
    expectClose(out.values, [3, 5, 6.5, 13, 15, 16.5, 20.5, 22.5, 24]);
  });

  it('AVE with padding counts padded zeros but not what lies beyond the padded input', async () => {
    // Width 6, kernel 3, stride 2, pad 1 → ceil(5/2)+1 = 4 windows over columns [-1,1], [1,3], [3,5], [5,7);
    // the last is clipped to W+pad = 7, so it holds the value 6 and one padded zero: 6 / 2.
    const params = 'pooling_param { pool: AVE kernel_h: 1 kernel_w: 3 stride_h: 1 stride_w: 2 pad_h: 0 pad_w: 1 }';
    const { out } = await runOne([1, 1, 1, 6], layer('p', 'Pooling', 'x', 'p', params), [1, 2, 3, 4, 5, 6]);
    expect(out.shape).toEqual([1, 1, 1, 4]);
    expectClose(out.values, [1, 3, 5, 3]);
    const max = await runOne([1, 1, 1, 6], layer('p', 'Pooling', 'x', 'p', params.replace('AVE', 'MAX')), [1, 2, 3, 4, 5, 6]);
    expectClose(max.out.values, [2, 4, 6, 6]);
  });

  it('drops a last window that would start in the padding (width 5, kernel 2, stride 2, pad 1 → 3, not 4)', async () => {
    const params = 'pooling_param { pool: AVE kernel_h: 1 kernel_w: 2 stride_h: 1 stride_w: 2 pad_w: 1 }';
    const { out } = await runOne([1, 1, 1, 5], layer('p', 'Pooling', 'x', 'p', params), [1, 2, 3, 4, 5]);
    expect(out.shape).toEqual([1, 1, 1, 3]);
    expectClose(out.values, [0.5, 2.5, 4.5]);
    const max = await runOne([1, 1, 1, 5], layer('p', 'Pooling', 'x', 'p', params.replace('AVE', 'MAX')), [1, 2, 3, 4, 5]);
    expectClose(max.out.values, [1, 3, 5]);
  });

  it('FLOOR round_mode and global pooling', async () => {
    const floor = await runOne([1, 1, 5, 5], layer('p', 'Pooling', 'x', 'p', 'pooling_param { pool: MAX kernel_size: 2 stride: 2 round_mode: FLOOR }'), GRID_5X5);
    expect(floor.out.shape).toEqual([1, 1, 2, 2]);
    expectClose(floor.out.values, [6, 8, 16, 18]);
    const global = await runOne([1, 2, 1, 2], layer('p', 'Pooling', 'x', 'p', 'pooling_param { pool: AVE global_pooling: true }'), [1, 3, 10, 20]);
    expect(global.out.shape).toEqual([1, 2, 1, 1]);
    expectClose(global.out.values, [2, 15]);
  });

  it('refuses windows Caffe leaves undefined and STOCHASTIC pooling', async () => {
    await expect(loadNet(net([1, 1, 5, 5], layer('p', 'Pooling', 'x', 'p', 'pooling_param { kernel_size: 1 stride: 3 }')))).rejects.toThrow(
      /layer "p" \(Pooling\): its last window would start outside the 5x5 input/,
    );
    await expect(loadNet(net([1, 1, 4, 4], layer('p', 'Pooling', 'x', 'p', 'pooling_param { pool: STOCHASTIC kernel_size: 2 }')))).rejects.toThrow(
      'STOCHASTIC pooling is not supported',
    );
  });
});

describe('Convolution and Deconvolution', () => {
  it('adds the bias to a 2x2 kernel over a 3x3 input', async () => {
    const weights = [{ name: 'c', type: 'Convolution', blobs: [{ shape: [1, 1, 2, 2], data: [1, 0, 0, 1] }, { shape: [1], data: [10] }] }];
    const { out } = await runOne([1, 1, 3, 3], layer('c', 'Convolution', 'x', 'c', 'convolution_param { num_output: 1 kernel_size: 2 }'), [1, 2, 3, 4, 5, 6, 7, 8, 9], weights);
    expect(out.shape).toEqual([1, 1, 2, 2]);
    expectClose(out.values, [16, 18, 22, 24]);
  });

  it('applies pad, stride and dilation', async () => {
    // Kernel 2 dilated by 2 spans 3; pad 1, stride 2 over 5x5 → 3x3, taps at rows/cols 2r-1 and 2r+1.
    const weights = [{ name: 'c', type: 'Convolution', blobs: [{ shape: [1, 1, 2, 2], data: [1, 1, 1, 1] }] }];
    const params = 'convolution_param { num_output: 1 kernel_size: 2 dilation: 2 pad: 1 stride: 2 bias_term: false }';
    const { out } = await runOne([1, 1, 5, 5], layer('c', 'Convolution', 'x', 'c', params), GRID_5X5, weights);
    expect(out.shape).toEqual([1, 1, 3, 3]);
    expectClose(out.values, [6, 14, 8, 22, 48, 26, 16, 34, 18]);
  });

  it('convolves groups separately', async () => {
    const weights = [{ name: 'c', type: 'Convolution', blobs: [{ shape: [2, 1, 1, 1], data: [2, 3] }] }];
    const params = 'convolution_param { num_output: 2 kernel_size: 1 group: 2 bias_term: false }';
    const { out } = await runOne([1, 2, 2, 2], layer('c', 'Convolution', 'x', 'c', params), [1, 2, 3, 4, 10, 20, 30, 40], weights);
    expectClose(out.values, [2, 4, 6, 8, 30, 60, 90, 120]);
  });

  it('Deconvolution with stride 2 places one scaled kernel per input value', async () => {
    const weights = [{ name: 'd', type: 'Deconvolution', blobs: [{ shape: [1, 1, 2, 2], data: [1, 2, 3, 4] }] }];
    const params = 'convolution_param { num_output: 1 kernel_size: 2 stride: 2 bias_term: false }';
    const { out } = await runOne([1, 1, 2, 2], layer('d', 'Deconvolution', 'x', 'd', params), [1, 2, 3, 4], weights);
    expect(out.shape).toEqual([1, 1, 4, 4]);
    expectClose(out.values, [1, 2, 2, 4, 3, 4, 6, 8, 3, 6, 4, 8, 9, 12, 12, 16]);
  });

  it('checks the weight blobs against the layer definition', async () => {
    const params = 'convolution_param { num_output: 2 kernel_size: 2 }';
    const tooFew = [{ name: 'c', type: 'Convolution', blobs: [{ shape: [2, 1, 2, 2], data: [1, 2, 3, 4, 5, 6, 7, 8] }] }];
    await expect(loadNet(net([1, 1, 3, 3], layer('c', 'Convolution', 'x', 'c', params)), tooFew)).rejects.toThrow(
      'test.prototxt: layer "c" (Convolution): has 1 blob(s) in test.caffemodel; expected 2 (check bias_term and the layer type)',
    );
    const wrongSize = [{ name: 'c', type: 'Convolution', blobs: [{ shape: [1, 1, 2, 2], data: [1, 2, 3, 4] }, { shape: [2], data: [0, 0] }] }];
    await expect(loadNet(net([1, 1, 3, 3], layer('c', 'Convolution', 'x', 'c', params)), wrongSize)).rejects.toThrow(
      'its weight blob holds 4 values (shape 1x1x2x2), but the net needs 8',
    );
    await expect(loadNet(net([1, 1, 3, 3], layer('c', 'Convolution', 'x', 'c', params)))).rejects.toThrow(
      'layer "c" (Convolution): needs learned weights, but test.caffemodel has no layer named "c"',
    );
  });
});

describe('InnerProduct', () => {
  const W = [1, 2, 3, 4, 5, 6];
  const ip = (params: string, data = W, dims = [2, 3]) => [{ name: 'ip', type: 'InnerProduct', blobs: [{ shape: dims, data }, { shape: [2], data: [10, 20] }] }];

  it('computes W·x + b, and reads transposed weights', async () => {
    const plain = await runOne([1, 3], layer('ip', 'InnerProduct', 'x', 'ip', 'inner_product_param { num_output: 2 }'), [1, 1, 1], ip(''));
    expectClose(plain.out.values, [16, 35]);
    const transposed = await runOne(
      [1, 3],
      layer('ip', 'InnerProduct', 'x', 'ip', 'inner_product_param { num_output: 2 transpose: true }'),
      [1, 1, 1],
      ip('', [1, 4, 2, 5, 3, 6], [3, 2]),
    );
    expectClose(transposed.out.values, [16, 35]);
  });

  it('keeps the axes before `axis` (axis: 2)', async () => {
    const { out } = await runOne([1, 2, 3], layer('ip', 'InnerProduct', 'x', 'ip', 'inner_product_param { num_output: 2 axis: 2 }'), [1, 0, 0, 0, 1, 0], ip(''));
    expect(out.shape).toEqual([1, 2, 2]);
    expectClose(out.values, [11, 24, 12, 25]);
  });
});

describe('normalisation layers', () => {
  it('LRN ACROSS_CHANNELS: x / (k + alpha/n · Σ x²)^beta over neighbouring channels', async () => {
    const { out } = await runOne([1, 3, 1, 1], layer('n', 'LRN', 'x', 'n', 'lrn_param { local_size: 3 alpha: 3 beta: 1 k: 1 }'), [1, 2, 3]);
    expectClose(out.values, [1 / 6, 2 / 15, 3 / 14]);
  });

  it('LRN WITHIN_CHANNEL: x · (1 + alpha · avg₃ₓ₃(x²))^-beta, zero padded, dividing by 9; k ignored', async () => {
    const params = 'lrn_param { norm_region: WITHIN_CHANNEL local_size: 3 alpha: 9 beta: 0.75 k: 5 }';
    const { out } = await runOne([1, 1, 1, 3], layer('n', 'LRN', 'x', 'n', params), [1, 2, 3]);
    // Windows cover columns {0,1}, {0,1,2}, {1,2}: Σx² = 5, 14, 13; alpha/9 · Σ = Σ.
    expectClose(out.values, [1 * (1 + 5) ** -0.75, 2 * (1 + 14) ** -0.75, 3 * (1 + 13) ** -0.75]);
  });

  it('BatchNorm (stored statistics scaled by the third blob) followed by Scale with bias', async () => {
    const factor = 2;
    const weights = [
      { name: 'bn', type: 'BatchNorm', blobs: [{ shape: [2], data: [2 * factor, 3 * factor] }, { shape: [2], data: [1 * factor, 4 * factor] }, { shape: [1], data: [factor] }] },
      { name: 'sc', type: 'Scale', blobs: [{ shape: [2], data: [2, 10] }, { shape: [2], data: [1, -1] }] },
    ];
    const layers = layer('bn', 'BatchNorm', 'x', 'y', 'batch_norm_param { use_global_stats: true }') + layer('sc', 'Scale', 'y', 'y', 'scale_param { bias_term: true }');
    const { out } = await runOne([1, 2, 1, 2], layers, [1, 3, 2, 4], weights);
    const norm = (v: number, mean: number, variance: number) => (v - mean) / Math.sqrt(variance + 1e-5);
    expectClose(out.values, [2 * norm(1, 2, 1) + 1, 2 * norm(3, 2, 1) + 1, 10 * norm(2, 3, 4) - 1, 10 * norm(4, 3, 4) - 1]);
  });

  it('BatchNorm with use_global_stats: false normalises with the batch statistics', async () => {
    const weights = [{ name: 'bn', type: 'BatchNorm', blobs: [{ shape: [1], data: [100] }, { shape: [1], data: [100] }, { shape: [1], data: [1] }] }];
    const { out } = await runOne([1, 1, 1, 4], layer('bn', 'BatchNorm', 'x', 'y', 'batch_norm_param { use_global_stats: false eps: 0 }'), [1, 2, 3, 4], weights);
    const std = Math.sqrt(1.25);
    expectClose(out.values, [-1.5 / std, -0.5 / std, 0.5 / std, 1.5 / std]);
  });
});

describe('element-wise layers', () => {
  const X = [-2, -0.5, 0.5, 2];
  const cases: [string, string, (x: number) => number, TestLayer['blobs']?][] = [
    ['ReLU', 'relu_param { negative_slope: 0.1 }', (x) => (x > 0 ? x : 0.1 * x)],
    ['ReLU', '', (x) => Math.max(0, x)],
    ['Sigmoid', '', (x) => 1 / (1 + Math.exp(-x))],
    ['TanH', '', Math.tanh],
    ['AbsVal', '', Math.abs],
    ['BNLL', '', (x) => Math.log1p(Math.exp(x))],
    ['ELU', 'elu_param { alpha: 0.5 }', (x) => (x > 0 ? x : 0.5 * (Math.exp(x) - 1))],
    ['Power', 'power_param { power: 2 scale: 0.5 shift: 1 }', (x) => (1 + 0.5 * x) ** 2],
    ['Exp', 'exp_param { base: 2 scale: 1 shift: 1 }', (x) => 2 ** (1 + x)],
    ['Exp', '', Math.exp],
    ['Log', 'log_param { base: 10 shift: 3 }', (x) => Math.log10(3 + x)],
    ['Threshold', 'threshold_param { threshold: 0.4 }', (x) => (x > 0.4 ? 1 : 0)],
    ['Dropout', 'dropout_param { dropout_ratio: 0.3 }', (x) => x],
    ['Dropout', 'dropout_param { dropout_ratio: 0.25 scale_train: false }', (x) => 0.75 * x],
    ['PReLU', '', (x) => x, [{ shape: [4], data: [0.1, 0.2, 0.3, 0.4] }]],
  ];

  it.each(cases.map((c, i) => [`${c[0]} ${c[1]}`, i] as const))('%s', async (_, i) => {
    const [type, params, formula, blobs] = cases[i]!;
    const weights = blobs ? [{ name: 'f', type, blobs }] : [];
    const { out } = await runOne([1, 4], layer('f', type, 'x', 'y', params), X, weights);
    const expected = type === 'PReLU' ? X.map((x, c) => (x > 0 ? x : [0.1, 0.2, 0.3, 0.4][c]! * x)) : X.map(formula);
    expectClose(out.values, expected);
  });

  it('Eltwise SUM with coefficients, PROD of three, MAX — and several outputs inferred', async () => {
    const text = `input: "a" input_shape { dim: 1 dim: 3 } input: "b" input_shape { dim: 1 dim: 3 } input: "c" input_shape { dim: 1 dim: 3 }
      ${layer('sum', 'Eltwise', ['a', 'b'], 'sum', 'eltwise_param { operation: SUM coeff: 1 coeff: -1 }')}
      ${layer('prod', 'Eltwise', ['a', 'b', 'c'], 'prod', 'eltwise_param { operation: PROD }')}
      ${layer('max', 'Eltwise', ['a', 'b'], 'max', 'eltwise_param { operation: MAX }')}`;
    const model = await loadNet(text);
    expect(model.signature.outputs.map((o) => o.name)).toEqual(['sum', 'prod', 'max']);
    const out = await run(model, { a: tensor([1, 3], [1, 2, 3]), b: tensor([1, 3], [4, 5, 6]), c: tensor([1, 3], [2, 2, 2]) });
    expectClose(out['sum']!.values, [-3, -3, -3]);
    expectClose(out['prod']!.values, [8, 20, 36]);
    expectClose(out['max']!.values, [4, 5, 6]);
  });

  it('Scale and Bias with the operand as a second bottom', async () => {
    const text = `input: "a" input_shape { dim: 1 dim: 2 dim: 2 } input: "s" input_shape { dim: 1 dim: 2 }
      ${layer('scale', 'Scale', ['a', 's'], 'scaled', 'scale_param { axis: 0 }')}
      ${layer('bias', 'Bias', ['a', 's'], 'biased', 'bias_param { axis: 0 }')}`;
    const model = await loadNet(text);
    const out = await run(model, { a: tensor([1, 2, 2], [1, 2, 3, 4]), s: tensor([1, 2], [10, 100]) });
    expectClose(out['scaled']!.values, [10, 20, 300, 400]);
    expectClose(out['biased']!.values, [11, 12, 103, 104]);
  });
});

describe('structural layers', () => {
  it('Softmax normalises along its axis only', async () => {
    const x = [0, Math.log(3), 0, 0];
    const axis1 = await runOne([1, 2, 2], layer('s', 'Softmax', 'x', 's'), x);
    expectClose(axis1.out.values, [0.5, 0.75, 0.5, 0.25]);
    const last = await runOne([1, 2, 2], layer('s', 'Softmax', 'x', 's', 'softmax_param { axis: -1 }'), x);
    expectClose(last.out.values, [0.25, 0.75, 0.5, 0.5]);
  });

  it('Concat along channels and along the batch axis', async () => {
    const text = `input: "a" input_shape { dim: 1 dim: 2 } input: "b" input_shape { dim: 1 dim: 3 }
      ${layer('cat', 'Concat', ['a', 'b'], 'cat')}
      ${layer('rows', 'Concat', ['a', 'a'], 'rows', 'concat_param { axis: 0 }')}`;
    const model = await loadNet(text);
    expect(model.caffe.outputs).toEqual(['cat[N,5]', 'rows[2N,2]']);
    const out = await run(model, { a: tensor([2, 2], [1, 2, 3, 4]), b: tensor([2, 3], [5, 6, 7, 8, 9, 10]) });
    expect(out['cat']!.shape).toEqual([2, 5]);
    expectClose(out['cat']!.values, [1, 2, 5, 6, 7, 3, 4, 8, 9, 10]);
    expect(out['rows']!.shape).toEqual([4, 2]);
    expectClose(out['rows']!.values, [1, 2, 3, 4, 1, 2, 3, 4]);
  });

  it('Flatten and Reshape (0 copies, -1 infers) keep the batch free', async () => {
    const layers =
      layer('flat', 'Flatten', 'x', 'flat') +
      layer('re', 'Reshape', 'flat', 're', 'reshape_param { shape { dim: 0 dim: 3 dim: -1 } }') +
      // A negative Reshape axis counts from one past the end: -2 reshapes just the last axis.
      layer('tail', 'Reshape', 're', 'tail', 'reshape_param { shape { dim: 2 dim: 1 } axis: -2 }');
    const model = await loadNet(net([64, 2, 3], layers));
    expect(model.caffe.outputs).toEqual(['tail[N,3,2,1]']);
    const values = Array.from({ length: 12 }, (_, i) => i);
    const { tail } = await run(model, { x: tensor([2, 2, 3], values) });
    expect(tail!.shape).toEqual([2, 3, 2, 1]);
    expectClose(tail!.values, values);
  });

  it('a Reshape that fixes the batch size is refused with the fix', async () => {
    await expect(loadNet(net([1, 6], layer('re', 'Reshape', 'x', 're', 'reshape_param { shape { dim: 1 dim: 2 dim: 3 } }')))).rejects.toThrow(
      'layer "re" (Reshape): its shape 1x2x3 fixes the batch size; use 0 (copy) or -1 (infer) for the batch dim',
    );
  });

  it('Slice at slice points, and Split into copies', async () => {
    const layers = layer('sl', 'Slice', 'x', ['p', 'q'], 'slice_param { slice_point: 2 }') + layer('sp', 'Split', 'q', ['q1', 'q2']);
    const model = await loadNet(net([1, 5], layers));
    expect(model.signature.outputs.map((o) => [o.name, o.shape])).toEqual([
      ['p', [null, 2]],
      ['q1', [null, 3]],
      ['q2', [null, 3]],
    ]);
    const out = await run(model, { x: tensor([1, 5], [1, 2, 3, 4, 5]) });
    expectClose(out['p']!.values, [1, 2]);
    expectClose(out['q1']!.values, [3, 4, 5]);
    expectClose(out['q2']!.values, [3, 4, 5]);
  });
});
