/**
 * What a saved Keras model amounts to once read from disk, whatever file
 * layout it came in: the model config (Keras JSON) and, per layer, its weight
 * arrays in the layer's own order.
 */

export interface WeightArray {
  /** The name Keras stored it under (e.g. `conv2d_1/kernel:0`, `lstm_1_W_i`, `vars/0`). */
  readonly name: string;
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

export interface KerasModelSource {
  /** `{"class_name": ..., "config": ...}` as Keras serialised it. */
  readonly modelConfig: Record<string, unknown>;
  /** e.g. `1.2.2`, `2.1.3`, `3.1.1`; empty when the file does not say. */
  readonly kerasVersion: string;
  /** The backend that saved it (`tensorflow`, `theano`), when the file says (Keras 1 files do not). */
  readonly backend?: string;
  readonly weightsByLayer: ReadonlyMap<string, readonly WeightArray[]>;
  /** For error messages: the file's base name, never a server path. */
  readonly file: string;
}
