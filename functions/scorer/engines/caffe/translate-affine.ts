/**
 * Layers that apply learned weights along some axes: InnerProduct, and the
 * per-channel BatchNorm, Scale, Bias and PReLU. Caffe broadcasts a parameter
 * over the axes after it; ONNX broadcasts right-aligned, so parameters get
 * trailing 1-dims.
 */
import { canonicalAxis, product, reshapeTarget, withDims, type BlobShape } from './blob-shape.js';
import { blobData, fixedDim, onlyInput, type LayerContext, type LayerTranslator, type TensorRef } from './layer-translator.js';

export const translateInnerProduct: LayerTranslator = (ctx) => {
  const x = onlyInput(ctx);
  const p = ctx.param('inner_product_param');
  const rank = x.shape.dims.length;
  const axis = canonicalAxis(p.integer('axis', 1), rank) ?? ctx.fail(`axis ${p.integer('axis', 1)} is outside a ${rank}-axis input`);
  const numOutput = p.integer('num_output');
  const biasTerm = p.bool('bias_term', true);
  const transpose = p.bool('transpose', false);
  if (numOutput <= 0) ctx.fail(`num_output must be positive; got ${numOutput}`);
  const inner = product(x.shape.dims.slice(axis).map((_, i) => fixedDim(ctx, x.shape, axis + i, 'inner-product')));
  const blobs = ctx.blobs(biasTerm ? 2 : 1, biasTerm ? 2 : 1);
  const g = ctx.graph;
  // Caffe stores [num_output, K] and computes x·Wᵀ; with transpose: true it stores [K, num_output].
  const weights = g.floats(ctx.hint('weights'), transpose ? [inner, numOutput] : [numOutput, inner], blobData(ctx, blobs[0]!, numOutput * inner, 'weight'));
  const inputs = [rank === 2 && axis === 1 ? x.value : g.op('Flatten', [x.value], ctx.hint('flat'), { axis: { int: axis } }), weights];
  if (biasTerm) inputs.push(g.floats(ctx.hint('bias'), [numOutput], blobData(ctx, blobs[1]!, numOutput, 'bias')));
  const product2d = g.op('Gemm', inputs, axis === 1 ? ctx.hint() : ctx.hint('gemm'), { transB: { int: transpose ? 0 : 1 } });
  const shape = withDims(x.shape, [...x.shape.dims.slice(0, axis), numOutput]);
  if (axis === 1) return [{ value: product2d, shape }];
  return [{ value: g.op('Reshape', [product2d, g.int64s(ctx.hint('shape'), reshapeTarget(shape))], ctx.hint()), shape }];
};

export const translateBatchNorm: LayerTranslator = (ctx) => {
  const x = onlyInput(ctx);
  const p = ctx.param('batch_norm_param');
  const rank = x.shape.dims.length;
  const channels = rank === 1 ? 1 : fixedDim(ctx, x.shape, 1, 'channel');
  const eps = p.number('eps', 1e-5);
  const g = ctx.graph;
  // Caffe's TEST phase uses the stored statistics unless the prototxt says otherwise.
  if (!p.bool('use_global_stats', true)) {
    const axes = { ints: x.shape.dims.map((_, i) => i).filter((i) => i !== 1) };
    const mean = g.op('ReduceMean', [x.value], ctx.hint('batch_mean'), { axes, keepdims: { int: 1 } });
    const centred = g.op('Sub', [x.value, mean], ctx.hint('centred'));
    const variance = g.op('ReduceMean', [g.op('Mul', [centred, centred], ctx.hint('squared'))], ctx.hint('batch_variance'), { axes, keepdims: { int: 1 } });
    const std = g.op('Sqrt', [g.op('Add', [variance, g.floats(ctx.hint('eps'), [1], [eps])], ctx.hint('variance_eps'))], ctx.hint('std'));
    return [{ value: g.op('Div', [centred, std], ctx.hint()), shape: x.shape }];
  }
  const blobs = ctx.blobs(3, 3);
  const mean = blobData(ctx, blobs[0]!, channels, 'mean');
  const variance = blobData(ctx, blobs[1]!, channels, 'variance');
  const [factor] = blobData(ctx, blobs[2]!, 1, 'moving-average scale factor');
  // The stored sums are scaled by the moving-average factor (third blob); Caffe treats a 0 factor as 0.
  const unscale = factor === 0 ? 0 : 1 / factor!;
  const multiplier = new Float32Array(channels);
  const offset = new Float32Array(channels);
  for (let c = 0; c < channels; c++) {
    const m = 1 / Math.sqrt(variance[c]! * unscale + eps);
    multiplier[c] = m;
    offset[c] = -mean[c]! * unscale * m;
  }
  const dims = channelDims(channels, rank);
  const scaled = g.op('Mul', [x.value, g.floats(ctx.hint('multiplier'), dims, multiplier)], ctx.hint('scaled'));
  return [{ value: g.op('Add', [scaled, g.floats(ctx.hint('offset'), dims, offset)], ctx.hint()), shape: x.shape }];
};

export const translateScale: LayerTranslator = (ctx) => {
  const p = ctx.param('scale_param');
  const biasTerm = p.bool('bias_term', false);
  const { x, operand, span, axis } = affineOperand(ctx, p.integer('axis', 1), p.integer('num_axes', 1), 'scale', biasTerm ? 1 : 0);
  const g = ctx.graph;
  let value = g.op('Mul', [x.value, operand], biasTerm ? ctx.hint('scaled') : ctx.hint());
  if (biasTerm) {
    if (!span) return ctx.fail('a learned bias cannot cover the batch axis (bias_term with a second bottom that includes the batch)');
    // With a learned scale the bias is blob 1; with the scale as a second bottom it is blob 0.
    const blobs = ctx.blobs(ctx.inputs.length === 1 ? 2 : 1, ctx.inputs.length === 1 ? 2 : 1);
    const bias = blobs[blobs.length - 1]!;
    value = g.op('Add', [value, g.floats(ctx.hint('bias'), broadcastDims(span, x.shape.dims.length - axis), blobData(ctx, bias, product(span), 'bias'))], ctx.hint());
  }
  return [{ value, shape: x.shape }];
};

export const translateBias: LayerTranslator = (ctx) => {
  const p = ctx.param('bias_param');
  const { x, operand } = affineOperand(ctx, p.integer('axis', 1), p.integer('num_axes', 1), 'bias', 0);
  return [{ value: ctx.graph.op('Add', [x.value, operand], ctx.hint()), shape: x.shape }];
};

export const translatePrelu: LayerTranslator = (ctx) => {
  const x = onlyInput(ctx);
  const rank = x.shape.dims.length;
  if (rank < 2) ctx.fail('needs an input with a channel axis');
  const shared = ctx.param('prelu_param').bool('channel_shared', false);
  const channels = shared ? 1 : fixedDim(ctx, x.shape, 1, 'channel');
  const slope = blobData(ctx, ctx.blobs(1, 1)[0]!, channels, 'slope');
  const value = ctx.graph.op('PRelu', [x.value, ctx.graph.floats(ctx.hint('slope'), shared ? [1] : channelDims(channels, rank), slope)], ctx.hint());
  return [{ value, shape: x.shape }];
};

interface AffineOperand {
  readonly x: TensorRef;
  /** The ONNX value to combine with x, already shaped to broadcast. */
  readonly operand: string;
  /** The dims of x the operand covers, from `axis`; undefined when they include the batch axis. */
  readonly span: readonly number[] | undefined;
  readonly axis: number;
}

/**
 * Scale's and Bias's second operand: either a learned blob covering `numAxes` axes of x from `axis`,
 * or a second bottom whose shape must match x from `axis` on.
 */
function affineOperand(ctx: LayerContext, rawAxis: number, numAxes: number, what: string, extraBlobs: number): AffineOperand {
  ctx.expectBottoms(1, 2);
  const x = ctx.inputs[0]!;
  const rank = x.shape.dims.length;
  const g = ctx.graph;
  if (ctx.inputs.length === 2) {
    const other = ctx.inputs[1]!;
    const otherRank = other.shape.dims.length;
    // A scalar (empty-shaped) second bottom applies everywhere, whatever the axis.
    const axis = otherRank === 0 ? 0 : (canonicalAxis(rawAxis, rank) ?? ctx.fail(`axis ${rawAxis} is outside a ${rank}-axis input`));
    if (axis + otherRank > rank) ctx.fail(`its second bottom has ${otherRank} axes, more than the ${rank - axis} of the first from axis ${axis}`);
    const matches = other.shape.dims.every((d, i) => d === x.shape.dims[axis + i] && (other.shape.batchAxis === i) === (x.shape.batchAxis === axis + i));
    if (!matches) ctx.fail(`its second bottom's shape must match the first's from axis ${axis}`);
    const trailing = rank - axis - otherRank;
    const target: BlobShape = withDims(other.shape, [...other.shape.dims, ...Array<number>(trailing).fill(1)]);
    const operand = trailing === 0 ? other.value : g.op('Reshape', [other.value, g.int64s(ctx.hint(`${what}_shape`), reshapeTarget(target))], ctx.hint(`${what}_broadcast`));
    return { x, operand, span: other.shape.batchAxis === null ? other.shape.dims : undefined, axis };
  }
  const axis = canonicalAxis(rawAxis, rank) ?? (rank === 0 && rawAxis === 0 ? 0 : ctx.fail(`axis ${rawAxis} is outside a ${rank}-axis input`));
  const count = numAxes === -1 ? rank - axis : numAxes;
  if (count < 0 || axis + count > rank) ctx.fail(`num_axes ${numAxes} from axis ${axis} does not fit a ${rank}-axis input`);
  const span = Array.from({ length: count }, (_, i) => fixedDim(ctx, x.shape, axis + i, what));
  const blobs = ctx.blobs(1 + extraBlobs, 1 + extraBlobs);
  const operand = g.floats(ctx.hint(what), broadcastDims(span, rank - axis), blobData(ctx, blobs[0]!, product(span), what));
  return { x, operand, span, axis };
}

/** `span` padded with 1s to cover `axesFromAxis` axes, so it broadcasts from the right. */
function broadcastDims(span: readonly number[], axesFromAxis: number): number[] {
  const dims = [...span, ...Array<number>(Math.max(0, axesFromAxis - span.length)).fill(1)];
  return dims.length === 0 ? [1] : dims;
}

function channelDims(channels: number, rank: number): number[] {
  return rank <= 1 ? [channels] : [channels, ...Array<number>(rank - 2).fill(1)];
}
