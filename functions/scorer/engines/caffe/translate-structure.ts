/**
 * Layers that move values around rather than compute: Softmax (per axis),
 * Concat, Flatten, Reshape, Split, Slice, Silence. The care here is the batch
 * axis: Caffe nets are declared for a fixed N, but we keep N free, so every
 * reshape must say where the batch went (reshapeTarget puts -1 there).
 */
import { canonicalAxis, formatBlobShape, product, reshapeTarget, withDims, type BlobShape } from './blob-shape.js';
import { fixedDim, onlyInput, type LayerContext, type LayerTranslator } from './layer-translator.js';

export const translateSoftmax: LayerTranslator = (ctx) => {
  const x = onlyInput(ctx);
  const rank = x.shape.dims.length;
  const rawAxis = ctx.param('softmax_param').integer('axis', 1);
  const axis = canonicalAxis(rawAxis, rank) ?? ctx.fail(`axis ${rawAxis} is outside a ${rank}-axis input`);
  // Opset-13 Softmax normalises along exactly one axis, as Caffe does (older opsets flattened the tail).
  return [{ value: ctx.graph.op('Softmax', [x.value], ctx.hint(), { axis: { int: axis } }), shape: x.shape }];
};

export const translateSplit: LayerTranslator = (ctx) => {
  const x = onlyInput(ctx);
  return ctx.layer.tops.map(() => x);
};

export const translateSilence: LayerTranslator = () => [];

export const translateConcat: LayerTranslator = (ctx) => {
  ctx.expectBottoms(1);
  const p = ctx.param('concat_param');
  const first = ctx.inputs[0]!.shape;
  const rank = first.dims.length;
  const axis = p.has('concat_dim') ? p.integer('concat_dim') : (canonicalAxis(p.integer('axis', 1), rank) ?? ctx.fail(`axis ${p.integer('axis', 1)} is outside a ${rank}-axis input`));
  if (axis < 0 || axis >= rank) ctx.fail(`concat axis ${axis} is outside a ${rank}-axis input`);
  if (ctx.inputs.length === 1) return [ctx.inputs[0]!];
  const shapes = ctx.inputs.map((i) => i.shape);
  const compatible = shapes.every(
    (s) => s.dims.length === rank && s.batchAxis === first.batchAxis && s.dims.every((d, i) => i === axis || d === first.dims[i]),
  );
  if (!compatible) ctx.fail(`its bottoms must match on every axis but ${axis}; got ${shapes.map(formatBlobShape).join(', ')}`);
  // Along the batch axis the per-sample multipliers add up: [N,..] ++ [N,..] is [2N,..].
  const dims = first.dims.map((d, i) => (i === axis ? shapes.reduce((sum, s) => sum + s.dims[i]!, 0) : d));
  return [{ value: ctx.graph.op('Concat', ctx.inputs.map((i) => i.value), ctx.hint(), { axis: { int: axis } }), shape: withDims(first, dims) }];
};

export const translateFlatten: LayerTranslator = (ctx) => {
  const x = onlyInput(ctx);
  const p = ctx.param('flatten_param');
  const rank = x.shape.dims.length;
  const start = canonicalAxis(p.integer('axis', 1), rank) ?? ctx.fail(`axis ${p.integer('axis', 1)} is outside a ${rank}-axis input`);
  const end = canonicalAxis(p.integer('end_axis', -1), rank) ?? ctx.fail(`end_axis ${p.integer('end_axis', -1)} is outside a ${rank}-axis input`);
  if (end < start) ctx.fail(`end_axis ${end} comes before axis ${start}`);
  const b = x.shape.batchAxis;
  const dims = [...x.shape.dims.slice(0, start), product(x.shape.dims.slice(start, end + 1)), ...x.shape.dims.slice(end + 1)];
  const batchAxis = b === null ? null : b < start ? b : b <= end ? start : b - (end - start);
  return [reshape(ctx, x.value, { dims, batchAxis })];
};

export const translateReshape: LayerTranslator = (ctx) => {
  const x = onlyInput(ctx);
  const p = ctx.param('reshape_param');
  const spec = p.message('shape').integers('dim');
  const rank = x.shape.dims.length;
  const rawAxis = p.integer('axis', 0);
  const numAxes = p.integer('num_axes', -1);
  // Caffe's Reshape counts a negative axis from one past the end (-1 inserts after the last axis).
  const start = rawAxis >= 0 ? rawAxis : rank + rawAxis + 1;
  if (start < 0 || start > rank) ctx.fail(`axis ${rawAxis} is outside a ${rank}-axis input`);
  if (numAxes < -1 || (numAxes >= 0 && start + numAxes > rank)) ctx.fail(`num_axes ${numAxes} from axis ${start} does not fit a ${rank}-axis input`);
  const end = numAxes === -1 ? rank : start + numAxes;
  if (spec.filter((d) => d === -1).length > 1) ctx.fail('at most one dim may be -1');
  if (spec.some((d) => d < -1)) ctx.fail(`dims must be positive, 0 (copy) or -1 (infer); got ${spec.join(', ')}`);

  const b = x.shape.batchAxis;
  const batchInRegion = b !== null && b >= start && b < end;
  let batchAxis: number | null = b === null ? null : b < start ? b : b >= end ? b - (end - start) + spec.length : null;
  const dims: number[] = [];
  let known = 1;
  spec.forEach((d, i) => {
    if (d === 0) {
      if (start + i >= end) ctx.fail(`dim ${i} is 0 (copy), but the reshaped region has only ${end - start} axes`);
      if (start + i === b) batchAxis = start + i;
      dims.push(x.shape.dims[start + i]!);
      known *= x.shape.dims[start + i]!;
    } else {
      dims.push(d);
      if (d > 0) known *= d;
    }
  });
  const regionCount = product(x.shape.dims.slice(start, end));
  const inferAt = spec.indexOf(-1);
  if (inferAt >= 0) {
    if (regionCount % known !== 0) ctx.fail(`cannot infer the -1 dim: ${formatBlobShape(x.shape)} does not divide into ${spec.join('x')}`);
    dims[inferAt] = regionCount / known;
    // Values per sample are preserved, so when the batch is not copied by a 0 it lands in the -1 dim.
    if (batchInRegion && batchAxis === null) batchAxis = start + inferAt;
  } else if (known !== regionCount) {
    ctx.fail(`reshapes ${formatBlobShape(x.shape)} into ${spec.join('x')}, which holds a different number of values`);
  }
  if (batchInRegion && batchAxis === null) {
    ctx.fail(`its shape ${spec.join('x')} fixes the batch size; use 0 (copy) or -1 (infer) for the batch dim so any number of records can be scored`);
  }
  return [reshape(ctx, x.value, { dims: [...x.shape.dims.slice(0, start), ...dims, ...x.shape.dims.slice(end)], batchAxis })];
};

export const translateSlice: LayerTranslator = (ctx) => {
  const x = onlyInput(ctx);
  const p = ctx.param('slice_param');
  const rank = x.shape.dims.length;
  const axis = p.has('slice_dim') ? p.integer('slice_dim') : (canonicalAxis(p.integer('axis', 1), rank) ?? ctx.fail(`axis ${p.integer('axis', 1)} is outside a ${rank}-axis input`));
  const size = fixedDim(ctx, x.shape, axis, 'slice');
  const count = ctx.layer.tops.length;
  if (count === 0) ctx.fail('has no tops');
  const points = p.integers('slice_point');
  let sizes: number[];
  if (points.length > 0) {
    if (points.length !== count - 1) ctx.fail(`has ${points.length} slice points for ${count} tops; give one fewer than the tops`);
    const bounds = [0, ...points, size];
    sizes = bounds.slice(1).map((v, i) => v - bounds[i]!);
    if (sizes.some((s) => s <= 0)) ctx.fail(`slice points ${points.join(', ')} must increase within the axis size ${size}`);
  } else {
    if (size % count !== 0) ctx.fail(`cannot slice an axis of size ${size} into ${count} equal parts`);
    sizes = Array<number>(count).fill(size / count);
  }
  if (count === 1) return [x];
  const values = ctx.graph.node('Split', [x.value, ctx.graph.int64s(ctx.hint('sizes'), sizes)], ctx.hint(), { axis: { int: axis } }, count);
  return values.map((value, i) => ({ value, shape: withDims(x.shape, x.shape.dims.map((d, j) => (j === axis ? sizes[i]! : d))) }));
};

function reshape(ctx: LayerContext, value: string, shape: BlobShape): { value: string; shape: BlobShape } {
  const target = ctx.graph.int64s(ctx.hint('shape'), reshapeTarget(shape));
  return { value: ctx.graph.op('Reshape', [value, target], ctx.hint()), shape };
}
