/**
 * Keras 1 weights in the layouts Keras 2 (and TensorFlow.js) expect.
 *
 * Recurrent layers stored their weights per gate (`lstm_1_W_i`, `lstm_1_U_f`,
 * ...); Keras 2 keeps one kernel, one recurrent kernel and one bias with the
 * gates side by side. Gate orders: LSTM i, f, c, o; GRU z, r, h.
 *
 * Convolution2D kernels with `dim_ordering: "th"` are stored channels-first,
 * `(filters, channels, rows, cols)`, where TensorFlow wants `(rows, cols,
 * channels, filters)`. A kernel trained on Theano is also flipped in both
 * spatial axes: Theano's conv2d is a true convolution, TensorFlow's a
 * correlation. Keras 1 files do not record their backend, so a "th" kernel
 * is taken to be Theano's (Keras 1's pairing of dim_ordering and backend),
 * unless the file's `backend` attribute says otherwise.
 */
import { ModelLoadError } from '../../domain/errors.js';
import type { WeightArray } from './keras-source.js';

const GATES: Record<string, readonly string[]> = { LSTM: ['i', 'f', 'c', 'o'], GRU: ['z', 'r', 'h'] };

export interface Keras1Layer {
  /** The Keras 2 class the layer was translated to (`Conv2D` for Convolution2D). */
  readonly className: string;
  readonly name: string;
  readonly channelsFirst: boolean;
}

export function adaptKeras1Weights(layer: Keras1Layer, weights: readonly WeightArray[], backend: string | undefined, file: string): readonly WeightArray[] {
  if (layer.className === 'Conv2D') return adaptConvolution2D(layer, weights, backend, file);
  const gates = GATES[layer.className];
  if (!gates) return weights;
  const find = (kind: 'W' | 'U' | 'b', gate: string): WeightArray => {
    const found = weights.find((w) => w.name.endsWith(`_${kind}_${gate}`));
    if (!found) throw new ModelLoadError(`${file}: Keras 1 ${layer.className} layer "${layer.name}" lacks weight ${kind}_${gate}`);
    return found;
  };
  return (['W', 'U', 'b'] as const).map((kind) => concatLastAxis(gates.map((g) => find(kind, g)), `${layer.name}/${kind}`));
}

function adaptConvolution2D(layer: Keras1Layer, weights: readonly WeightArray[], backend: string | undefined, file: string): readonly WeightArray[] {
  const [kernel, ...rest] = weights;
  if (!kernel || kernel.shape.length !== 4) {
    throw new ModelLoadError(`${file}: Keras 1 Convolution2D layer "${layer.name}" has no 4-d kernel (found ${weights.map((w) => `[${w.shape.join(',')}]`).join(' ') || 'none'})`);
  }
  const theano = backend === undefined ? layer.channelsFirst : backend === 'theano';
  return [toTensorFlowKernel(kernel, layer.channelsFirst, theano), ...rest];
}

/** Reorders a Keras 1 kernel to `(rows, cols, channels, filters)`, flipping its rows and columns if Theano's. */
export function toTensorFlowKernel(kernel: WeightArray, channelsFirst: boolean, flip: boolean): WeightArray {
  const [a, b, c, d] = kernel.shape as [number, number, number, number];
  const [filters, channels, rows, cols] = channelsFirst ? [a, b, c, d] : [d, c, a, b];
  const source = channelsFirst
    ? (o: number, ch: number, r: number, k: number) => ((o * channels + ch) * rows + r) * cols + k
    : (o: number, ch: number, r: number, k: number) => ((r * cols + k) * channels + ch) * filters + o;
  const data = new Float32Array(kernel.data.length);
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < cols; k++) {
      const sr = flip ? rows - 1 - r : r;
      const sk = flip ? cols - 1 - k : k;
      for (let ch = 0; ch < channels; ch++) {
        for (let o = 0; o < filters; o++) data[((r * cols + k) * channels + ch) * filters + o] = kernel.data[source(o, ch, sr, sk)]!;
      }
    }
  }
  return { name: kernel.name, shape: [rows, cols, channels, filters], data };
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
