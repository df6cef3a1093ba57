/**
 * Keras 1 stored recurrent layers' weights per gate (`lstm_1_W_i`, `lstm_1_U_f`,
 * ...); Keras 2 (and TensorFlow.js) keep one kernel, one recurrent kernel and
 * one bias with the gates side by side. Gate orders: LSTM i, f, c, o; GRU z, r, h.
 */
import { ModelLoadError } from '../../domain/errors.js';
import type { WeightArray } from './keras-source.js';

const GATES: Record<string, readonly string[]> = { LSTM: ['i', 'f', 'c', 'o'], GRU: ['z', 'r', 'h'] };

export function adaptKeras1Weights(className: string, layerName: string, weights: readonly WeightArray[], file: string): readonly WeightArray[] {
  const gates = GATES[className];
  if (!gates) return weights;
  const find = (kind: 'W' | 'U' | 'b', gate: string): WeightArray => {
    const found = weights.find((w) => w.name.endsWith(`_${kind}_${gate}`));
    if (!found) throw new ModelLoadError(`${file}: Keras 1 ${className} layer "${layerName}" lacks weight ${kind}_${gate}`);
    return found;
  };
  return (['W', 'U', 'b'] as const).map((kind) => concatLastAxis(gates.map((g) => find(kind, g)), `${layerName}/${kind}`));
}

function concatLastAxis(parts: WeightArray[], name: string): WeightArray {
  const shape = parts[0]!.shape;
  const rows = shape.length === 1 ? 1 : shape[0]!;
  const widths = parts.map((p) => p.shape[p.shape.length - 1]!);
  const total = widths.reduce((a, b) => a + b, 0);
  const data = new Float32Array(rows * total);
  for (let r = 0; r < rows; r++) {
    let offset = r * total;
    parts.forEach((part, i) => {
      data.set(part.data.subarray(r * widths[i]!, (r + 1) * widths[i]!), offset);
      offset += widths[i]!;
    });
  }
  return { name, shape: shape.length === 1 ? [total] : [rows, total], data };
}
