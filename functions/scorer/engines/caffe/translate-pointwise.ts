/**
 * Element-wise layers: activations, Dropout (a test-time identity), Power,
 * Exp, Log, Threshold and Eltwise. Shapes pass through unchanged.
 */
import { sameShape, formatBlobShape } from './blob-shape.js';
import { onlyInput, type LayerContext, type LayerTranslator, type TensorRef } from './layer-translator.js';

function unary(opType: string, attributes?: (ctx: LayerContext) => Record<string, { float: number }>): LayerTranslator {
  return (ctx) => {
    const x = onlyInput(ctx);
    return [{ value: ctx.graph.op(opType, [x.value], ctx.hint(), attributes?.(ctx)), shape: x.shape }];
  };
}

export const translateSigmoid = unary('Sigmoid');
export const translateTanh = unary('Tanh');
export const translateAbsVal = unary('Abs');
// BNLL is log(1 + eˣ), which is Softplus.
export const translateBnll = unary('Softplus');
export const translateElu = unary('Elu', (ctx) => ({ alpha: { float: ctx.param('elu_param').number('alpha', 1) } }));

export const translateRelu: LayerTranslator = (ctx) => {
  const x = onlyInput(ctx);
  const slope = ctx.param('relu_param').number('negative_slope', 0);
  const value = slope === 0 ? ctx.graph.op('Relu', [x.value], ctx.hint()) : ctx.graph.op('LeakyRelu', [x.value], ctx.hint(), { alpha: { float: slope } });
  return [{ value, shape: x.shape }];
};

export const translateDropout: LayerTranslator = (ctx) => {
  const x = onlyInput(ctx);
  const p = ctx.param('dropout_param');
  // At test time Caffe copies its input, unless training did not rescale (scale_train: false): then it scales by 1 - ratio.
  if (p.bool('scale_train', true)) return [x];
  return [scaleBy(ctx, x, 1 - p.number('dropout_ratio', 0.5), '')];
};

/** y = (shift + scale·x)^power */
export const translatePower: LayerTranslator = (ctx) => {
  const x = onlyInput(ctx);
  const p = ctx.param('power_param');
  const [power, scale, shift] = [p.number('power', 1), p.number('scale', 1), p.number('shift', 0)];
  let y = scaleBy(ctx, x, scale, power === 1 && shift === 0 ? '' : 'scaled');
  y = shiftBy(ctx, y, shift, power === 1 ? '' : 'shifted');
  if (power !== 1) y = { value: ctx.graph.op('Pow', [y.value, ctx.graph.floats(ctx.hint('power'), [1], [power])], ctx.hint()), shape: x.shape };
  return [y];
};

/** y = base^(shift + scale·x), base e when -1 — computed as Caffe does, outer·exp(inner·x). */
export const translateExp: LayerTranslator = (ctx) => {
  const x = onlyInput(ctx);
  const p = ctx.param('exp_param');
  const [base, scale, shift] = [p.number('base', -1), p.number('scale', 1), p.number('shift', 0)];
  if (base !== -1 && !(base > 0)) ctx.fail(`base must be positive or -1 (for e); got ${base}`);
  const logBase = base === -1 ? 1 : Math.log(base);
  const outer = shift === 0 ? 1 : base === -1 ? Math.exp(shift) : base ** shift;
  const inner = scaleBy(ctx, x, logBase * scale, 'inner');
  const exp = { value: ctx.graph.op('Exp', [inner.value], outer === 1 ? ctx.hint() : ctx.hint('exp')), shape: x.shape };
  return [scaleBy(ctx, exp, outer, '')];
};

/** y = log_base(shift + scale·x), natural log when base is -1. */
export const translateLog: LayerTranslator = (ctx) => {
  const x = onlyInput(ctx);
  const p = ctx.param('log_param');
  const [base, scale, shift] = [p.number('base', -1), p.number('scale', 1), p.number('shift', 0)];
  if (base !== -1 && !(base > 0)) ctx.fail(`base must be positive or -1 (for e); got ${base}`);
  const baseScale = base === -1 ? 1 : 1 / Math.log(base);
  const argument = shiftBy(ctx, scaleBy(ctx, x, scale, 'scaled'), shift, 'shifted');
  const log = { value: ctx.graph.op('Log', [argument.value], baseScale === 1 ? ctx.hint() : ctx.hint('ln')), shape: x.shape };
  return [scaleBy(ctx, log, baseScale, '')];
};

/** y = 1 where x > threshold, else 0. */
export const translateThreshold: LayerTranslator = (ctx) => {
  const x = onlyInput(ctx);
  const threshold = ctx.param('threshold_param').number('threshold', 0);
  const above = ctx.graph.op('Greater', [x.value, ctx.graph.floats(ctx.hint('threshold'), [1], [threshold])], ctx.hint('above'));
  return [{ value: ctx.graph.op('Cast', [above], ctx.hint(), { to: { int: 1 } }), shape: x.shape }];
};

const ELTWISE_OPERATIONS = { PROD: 0, SUM: 1, MAX: 2 } as const;

export const translateEltwise: LayerTranslator = (ctx) => {
  ctx.expectBottoms(2);
  const p = ctx.param('eltwise_param');
  const first = ctx.inputs[0]!;
  for (const other of ctx.inputs.slice(1)) {
    if (!sameShape(first.shape, other.shape)) {
      ctx.fail(`its bottoms must have one shape; got ${ctx.inputs.map((i) => formatBlobShape(i.shape)).join(' and ')}`);
    }
  }
  const operation = p.enumValue('operation', ELTWISE_OPERATIONS, 'SUM');
  const coeff = p.numbers('coeff');
  if (coeff.length > 0 && operation !== 'SUM') ctx.fail('coeff applies to the SUM operation only');
  if (coeff.length > 0 && coeff.length !== ctx.inputs.length) ctx.fail(`has ${coeff.length} coeff values for ${ctx.inputs.length} bottoms; give one per bottom`);
  let terms = ctx.inputs.map((i) => i.value);
  if (operation === 'SUM' && coeff.some((c) => c !== 1)) {
    terms = ctx.inputs.map((input, i) => scaleBy(ctx, input, coeff[i]!, `term${i}`).value);
  }
  const opType = operation === 'PROD' ? 'Mul' : operation === 'SUM' ? 'Sum' : 'Max';
  if (opType === 'Mul') {
    // Mul takes two inputs; Sum and Max take any number.
    let value = terms[0]!;
    terms.slice(1).forEach((t, i) => (value = ctx.graph.op('Mul', [value, t], i === terms.length - 2 ? ctx.hint() : ctx.hint(`product${i}`))));
    return [{ value, shape: first.shape }];
  }
  return [{ value: ctx.graph.op(opType, terms, ctx.hint()), shape: first.shape }];
};

function scaleBy(ctx: LayerContext, x: TensorRef, factor: number, suffix: string): TensorRef {
  if (factor === 1) return x;
  const value = ctx.graph.op('Mul', [x.value, ctx.graph.floats(ctx.hint(`${suffix || 'out'}_factor`), [1], [factor])], ctx.hint(suffix || undefined));
  return { value, shape: x.shape };
}

function shiftBy(ctx: LayerContext, x: TensorRef, shift: number, suffix: string): TensorRef {
  if (shift === 0) return x;
  const value = ctx.graph.op('Add', [x.value, ctx.graph.floats(ctx.hint(`${suffix || 'out'}_shift`), [1], [shift])], ctx.hint(suffix || undefined));
  return { value, shape: x.shape };
}
