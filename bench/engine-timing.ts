/** Timing helpers shared by the engine benchmarks: medians over repeated runs. */
import type { Model, TensorMap } from '../functions/scorer/engines/engine.js';

export function median(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Median milliseconds per record of `model.predict` on a batch, after one warm-up call. */
export async function perRecordMs(model: Model, inputs: TensorMap, batch: number, repeats: number): Promise<number> {
  await model.predict(inputs);
  const samples: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const started = performance.now();
    await model.predict(inputs);
    samples.push((performance.now() - started) / batch);
  }
  return median(samples);
}

export function fmt(ms: number): string {
  return ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2);
}
