/**
 * Keras's ZeroPadding1D, which TensorFlow.js lacks. Registered under the
 * Keras class name so saved models using it load; causal Conv1D padding is
 * also expressed with it (see keras-config.ts).
 */
import * as tfl from '@tensorflow/tfjs-layers';
import { serialization, tidy, pad, type Tensor } from '@tensorflow/tfjs-core';

interface ZeroPadding1DArgs {
  padding?: number | [number, number];
  name?: string;
  batchInputShape?: (number | null)[];
  inputShape?: (number | null)[];
  dtype?: 'float32';
}

export class ZeroPadding1D extends tfl.layers.Layer {
  static readonly className = 'ZeroPadding1D';
  private readonly padding: [number, number];

  constructor(args: ZeroPadding1DArgs) {
    super(args);
    const p = args.padding ?? 1;
    this.padding = typeof p === 'number' ? [p, p] : p;
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    const shape = inputShape as tfl.Shape;
    const steps = shape[1];
    return [shape[0] ?? null, steps == null ? null : steps + this.padding[0] + this.padding[1], shape[2] ?? null];
  }

  override call(inputs: Tensor | Tensor[]): Tensor {
    const x = Array.isArray(inputs) ? inputs[0]! : inputs;
    return tidy(() => pad(x, [[0, 0], this.padding, [0, 0]]));
  }

  override getConfig(): serialization.ConfigDict {
    return { ...super.getConfig(), padding: this.padding };
  }
}

serialization.registerClass(ZeroPadding1D);
