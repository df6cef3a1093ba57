/**
 * Whether a graph rewrite computes what its source model computes: both run
 * the same seeded batch (of two where the batch is free); the answer is the largest |a − b| / max(1, |b|)
 * over every output (infinite if an output is missing or differs in size).
 */
import type { Model, TensorMap } from '../engine.js';

/** Agreement asked of a rewrite: the engines' tests' tolerance, |a − b| ≤ 1e-5 · max(1, |b|). */
export const REWRITE_TOLERANCE = 1e-5;
/** Size of a free (non-batch) dimension in the probe batch. */
const FREE_DIM = 16;

/** Only float32 inputs of known rank can be probed with random values. */
export function probeable(model: Model): boolean {
  return model.signature.inputs.every((spec) => spec.dtype === 'float32' && !spec.unknownRank);
}

export async function probeDisagreement(source: Model, rewrite: Model): Promise<number> {
  let seed = 1;
  const next = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const inputs: TensorMap = Object.fromEntries(source.signature.inputs.map((spec) => {
    const shape = spec.shape.map((d, i) => d ?? (i === 0 ? 2 : FREE_DIM));
    const data = Float32Array.from({ length: shape.reduce((n, d) => n * d, 1) }, next);
    return [spec.name, { dtype: 'float32' as const, shape, data }];
  }));
  const [expected, actual] = [await source.predict(inputs), await rewrite.predict(inputs)];
  let worst = 0;
  for (const spec of source.signature.outputs) {
    const want = expected[spec.name]!.data as ArrayLike<number>;
    const got = actual[spec.name]?.data as ArrayLike<number> | undefined;
    if (!got || got.length !== want.length) return Number.POSITIVE_INFINITY;
    for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(Number(got[i]) - Number(want[i])) / Math.max(1, Math.abs(Number(want[i]))));
  }
  return worst;
}
