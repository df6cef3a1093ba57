/**
 * Convolution, Deconvolution, Pooling and LRN: the layers whose output sizes
 * follow Caffe's own rules, computed here so the ONNX graph reproduces them
 * exactly (ONNX's ceil_mode differs from Caffe's CEIL at the borders, so we
 * never use it: explicit end padding gives the same windows).
 */
import { canonicalAxis, product, withDims } from './blob-shape.js';
import { blobData, fixedDim, onlyInput, type LayerContext, type LayerTranslator, type TensorRef } from './layer-translator.js';
import type { ParamReader } from './param-reader.js';

export const translateConvolution: LayerTranslator = (ctx) => [convolve(ctx, false)];
export const translateDeconvolution: LayerTranslator = (ctx) => [convolve(ctx, true)];

function convolve(ctx: LayerContext, transposed: boolean): TensorRef {
  const x = onlyInput(ctx);
  const p = ctx.param('convolution_param');
  const rank = x.shape.dims.length;
  if (rank < 3) ctx.fail(`needs an input with channels and at least one spatial axis; got ${rank} axes`);
  if (canonicalAxis(p.integer('axis', 1), rank) !== 1) ctx.fail('only axis 1 (channels right after the batch, NCHW) is supported');
  const spatialRank = rank - 2;
  const channels = fixedDim(ctx, x.shape, 1, 'channel');
  const inSize = x.shape.dims.slice(2).map((_, i) => fixedDim(ctx, x.shape, i + 2, 'spatial'));
  const kernel = perAxis(ctx, p, 'kernel_size', spatialRank, undefined);
  const stride = perAxis(ctx, p, 'stride', spatialRank, 1);
  const pad = perAxis(ctx, p, 'pad', spatialRank, 0);
  const dilation = perAxis(ctx, p, 'dilation', spatialRank, 1, false);
  const numOutput = p.integer('num_output');
  const group = p.integer('group', 1);
  const biasTerm = p.bool('bias_term', true);
  if (numOutput <= 0) ctx.fail(`num_output must be positive; got ${numOutput}`);
  if (group <= 0 || channels % group !== 0 || numOutput % group !== 0) {
    ctx.fail(`group ${group} must divide both the ${channels} input channels and num_output ${numOutput}`);
  }
  if ([...kernel, ...stride, ...dilation].some((v) => v <= 0)) ctx.fail('kernel, stride and dilation must be positive');

  const extent = kernel.map((k, i) => dilation[i]! * (k - 1) + 1);
  const outSize = inSize.map((n, i) =>
    transposed ? stride[i]! * (n - 1) + extent[i]! - 2 * pad[i]! : Math.floor((n + 2 * pad[i]! - extent[i]!) / stride[i]!) + 1,
  );
  if (outSize.some((n) => n <= 0)) ctx.fail(`the kernel does not fit the ${inSize.join('x')} input (output would be ${outSize.join('x')})`);

  // Deconvolution stores its weights input-channels first, which is also ConvTranspose's layout.
  const weightDims = transposed ? [channels, numOutput / group, ...kernel] : [numOutput, channels / group, ...kernel];
  const blobs = ctx.blobs(biasTerm ? 2 : 1, biasTerm ? 2 : 1);
  const inputs = [x.value, ctx.graph.floats(ctx.hint('weights'), weightDims, blobData(ctx, blobs[0]!, product(weightDims), 'weight'))];
  if (biasTerm) inputs.push(ctx.graph.floats(ctx.hint('bias'), [numOutput], blobData(ctx, blobs[1]!, numOutput, 'bias')));
  const value = ctx.graph.op(transposed ? 'ConvTranspose' : 'Conv', inputs, ctx.hint(), {
    kernel_shape: { ints: kernel },
    strides: { ints: stride },
    pads: { ints: [...pad, ...pad] },
    dilations: { ints: dilation },
    group: { int: group },
  });
  return { value, shape: withDims(x.shape, [x.shape.dims[0]!, numOutput, ...outSize]) };
}

const POOL_METHODS = { MAX: 0, AVE: 1, STOCHASTIC: 2 } as const;
const ROUND_MODES = { CEIL: 0, FLOOR: 1 } as const;

export const translatePooling: LayerTranslator = (ctx) => {
  const x = onlyInput(ctx);
  const p = ctx.param('pooling_param');
  if (x.shape.dims.length !== 4) ctx.fail(`needs a 4-axis (N,C,H,W) input, as Caffe does; got ${x.shape.dims.length} axes`);
  const [height, width] = [fixedDim(ctx, x.shape, 2, 'height'), fixedDim(ctx, x.shape, 3, 'width')];
  fixedDim(ctx, x.shape, 1, 'channel');
  const method = p.enumValue('pool', POOL_METHODS, 'MAX');
  if (method === 'STOCHASTIC') ctx.fail('STOCHASTIC pooling is not supported');
  if (p.has('dilation')) ctx.fail('dilated pooling is not part of BVLC Caffe and is not supported');
  const pad = perAxis(ctx, p, 'pad', 2, 0);
  const stride = perAxis(ctx, p, 'stride', 2, 1);

  if (p.bool('global_pooling', false)) {
    if (p.has('kernel_size') || p.has('kernel_h') || p.has('kernel_w')) ctx.fail('global_pooling takes no kernel size');
    if (pad.some((v) => v !== 0) || stride.some((v) => v !== 1)) ctx.fail('global_pooling needs pad 0 and stride 1, as in Caffe');
    const value = ctx.graph.op(method === 'MAX' ? 'GlobalMaxPool' : 'GlobalAveragePool', [x.value], ctx.hint());
    return [{ value, shape: withDims(x.shape, [x.shape.dims[0]!, x.shape.dims[1]!, 1, 1]) }];
  }

  const kernel = perAxis(ctx, p, 'kernel_size', 2, undefined);
  const inSize = [height, width];
  if (kernel.some((k) => k <= 0) || stride.some((s) => s <= 0)) ctx.fail('kernel size and stride must be positive');
  if (pad.some((v, i) => v >= kernel[i]!)) ctx.fail(`pad ${pad.join('x')} must be smaller than the kernel ${kernel.join('x')}`);
  const outSize = pooledSize(ctx, inSize, kernel, stride, pad, p.enumValue('round_mode', ROUND_MODES, 'CEIL'));

  if (method === 'MAX') {
    // MaxPool ignores padded cells, as Caffe's clipped windows do; the end pad only realises the CEIL size.
    const endPad = outSize.map((o, i) => Math.max(0, (o - 1) * stride[i]! + kernel[i]! - inSize[i]! - pad[i]!));
    assertOnnxSize(ctx, inSize, kernel, stride, pad, endPad, outSize);
    const value = ctx.graph.op('MaxPool', [x.value], ctx.hint(), {
      kernel_shape: { ints: kernel },
      strides: { ints: stride },
      pads: { ints: [...pad, ...endPad] },
    });
    return [{ value, shape: withDims(x.shape, [x.shape.dims[0]!, x.shape.dims[1]!, ...outSize]) }];
  }

  // Caffe averages over the window clipped to the padded input (H + 2·pad), counting padded zeros:
  // pad with real zeros, then let AveragePool exclude only the end padding that CEIL rounding adds.
  let source = x.value;
  let paddedSize = inSize;
  if (pad.some((v) => v > 0)) {
    source = ctx.graph.op('Pad', [x.value, ctx.graph.int64s(ctx.hint('pads'), [0, 0, pad[0]!, pad[1]!, 0, 0, pad[0]!, pad[1]!])], ctx.hint('padded'));
    paddedSize = inSize.map((n, i) => n + 2 * pad[i]!);
  }
  const endPad = outSize.map((o, i) => Math.max(0, (o - 1) * stride[i]! + kernel[i]! - paddedSize[i]!));
  assertOnnxSize(ctx, paddedSize, kernel, stride, [0, 0], endPad, outSize);
  const value = ctx.graph.op('AveragePool', [source], ctx.hint(), {
    kernel_shape: { ints: kernel },
    strides: { ints: stride },
    pads: { ints: [0, 0, ...endPad] },
    count_include_pad: { int: 0 },
  });
  return [{ value, shape: withDims(x.shape, [x.shape.dims[0]!, x.shape.dims[1]!, ...outSize]) }];
};

/** Caffe's PoolingLayer::Reshape: CEIL (default) or FLOOR, then the last window must start inside the padded input. */
function pooledSize(ctx: LayerContext, inSize: number[], kernel: number[], stride: number[], pad: number[], roundMode: keyof typeof ROUND_MODES): number[] {
  const anyPad = pad.some((v) => v > 0);
  return inSize.map((n, i) => {
    const round = roundMode === 'CEIL' ? Math.ceil : Math.floor;
    let out = round((n + 2 * pad[i]! - kernel[i]!) / stride[i]!) + 1;
    if (anyPad && (out - 1) * stride[i]! >= n + pad[i]!) out--;
    if (out <= 0) ctx.fail(`the ${kernel.join('x')} window does not fit the ${inSize.join('x')} input`);
    // Without padding Caffe skips the clipping rule, and a kernel smaller than the stride can leave the last window empty.
    if ((out - 1) * stride[i]! - pad[i]! >= n) {
      ctx.fail(`its last window would start outside the ${inSize.join('x')} input (kernel ${kernel.join('x')} < stride ${stride.join('x')}); Caffe leaves such outputs undefined`);
    }
    return out;
  });
}

function assertOnnxSize(ctx: LayerContext, inSize: number[], kernel: number[], stride: number[], begin: number[], end: number[], expected: number[]): void {
  inSize.forEach((n, i) => {
    const onnx = Math.floor((n + begin[i]! + end[i]! - kernel[i]!) / stride[i]!) + 1;
    if (onnx !== expected[i]) ctx.fail(`internal error: the ONNX pooling size ${onnx} differs from Caffe's ${expected[i]}`);
  });
}

const NORM_REGIONS = { ACROSS_CHANNELS: 0, WITHIN_CHANNEL: 1 } as const;

export const translateLrn: LayerTranslator = (ctx) => {
  const x = onlyInput(ctx);
  const p = ctx.param('lrn_param');
  if (x.shape.dims.length !== 4) ctx.fail(`needs a 4-axis (N,C,H,W) input, as Caffe does; got ${x.shape.dims.length} axes`);
  const size = p.integer('local_size', 5);
  const alpha = p.number('alpha', 1);
  const beta = p.number('beta', 0.75);
  if (size <= 0 || size % 2 === 0) ctx.fail(`local_size must be odd, as Caffe requires; got ${size}`);
  const g = ctx.graph;
  if (p.enumValue('norm_region', NORM_REGIONS, 'ACROSS_CHANNELS') === 'ACROSS_CHANNELS') {
    // ONNX LRN is Caffe's formula: x / (k + alpha/n · Σ x²)^beta over a centred window of n channels.
    const value = g.op('LRN', [x.value], ctx.hint(), { size: { int: size }, alpha: { float: alpha }, beta: { float: beta }, bias: { float: p.number('k', 1) } });
    return [{ value, shape: x.shape }];
  }
  // WITHIN_CHANNEL is built from Caffe's own sub-layers: x · (1 + alpha · avg_{n×n}(x²))^-beta, zero padded,
  // always dividing by n² (every window fits the padded input); Caffe ignores k here.
  const half = (size - 1) / 2;
  const squared = g.op('Mul', [x.value, x.value], ctx.hint('squared'));
  const mean = g.op('AveragePool', [squared], ctx.hint('mean'), {
    kernel_shape: { ints: [size, size] },
    strides: { ints: [1, 1] },
    pads: { ints: [half, half, half, half] },
    count_include_pad: { int: 1 },
  });
  const scaled = g.op('Mul', [mean, g.floats(ctx.hint('alpha'), [1], [alpha])], ctx.hint('scaled'));
  const base = g.op('Add', [scaled, g.floats(ctx.hint('one'), [1], [1])], ctx.hint('base'));
  const factor = g.op('Pow', [base, g.floats(ctx.hint('neg_beta'), [1], [-beta])], ctx.hint('factor'));
  return [{ value: g.op('Mul', [x.value, factor], ctx.hint()), shape: x.shape }];
};

/**
 * Kernel, stride, pad or dilation per spatial axis: `name` once (all axes) or once per axis, or the
 * 2D-only `<name>_h`/`<name>_w` pair; `fallback` when absent (undefined: required).
 */
function perAxis(ctx: LayerContext, p: ParamReader, name: string, rank: number, fallback: number | undefined, hasHw = true): number[] {
  const values = readPerAxis(ctx, p, name, rank, fallback, hasHw);
  if (values.some((v) => v < 0)) ctx.fail(`${name} must not be negative; got ${values.join(', ')}`);
  return values;
}

function readPerAxis(ctx: LayerContext, p: ParamReader, name: string, rank: number, fallback: number | undefined, hasHw: boolean): number[] {
  const base = name === 'kernel_size' ? 'kernel' : name;
  const [hName, wName] = [`${base}_h`, `${base}_w`];
  if (hasHw && (p.has(hName) || p.has(wName))) {
    if (rank !== 2) ctx.fail(`${hName}/${wName} are for 2D inputs only`);
    if (p.has(name)) ctx.fail(`set either ${name} or ${hName}/${wName}, not both`);
    // pad_h/pad_w default to 0 alone; kernel and stride need both.
    const pairFallback = name === 'pad' ? 0 : undefined;
    return [p.integer(hName, pairFallback), p.integer(wName, pairFallback)];
  }
  const values = p.integers(name);
  if (values.length === 0) {
    if (fallback === undefined) ctx.fail(`${name} (or ${hName}/${wName}) is required`);
    return Array<number>(rank).fill(fallback!);
  }
  if (values.length === 1) return Array<number>(rank).fill(values[0]!);
  if (values.length === rank) return values;
  return ctx.fail(`${name} has ${values.length} values; give 1 or one per spatial axis (${rank})`);
}
