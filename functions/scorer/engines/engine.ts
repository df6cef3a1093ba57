/**
 * The one interface every framework implements. An engine turns a model folder
 * into a loaded Model once per container; the Model then predicts many times.
 */
import type { ModelArtifact } from '../models/model-artifact.js';

export type DType = 'float32' | 'float64' | 'int32' | 'int64' | 'uint8' | 'bool';

export type TensorData = Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array;

export interface Tensor {
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly data: TensorData;
}

export interface TensorSpec {
  readonly name: string;
  readonly dtype: DType;
  /** `null` marks a free dimension (usually the batch). */
  readonly shape: readonly (number | null)[];
  /** The model leaves the rank open (TensorFlow inputs saved without a shape): `shape` is `[]` and records of any shape fit. */
  readonly unknownRank?: boolean;
}

export interface Signature {
  readonly inputs: readonly TensorSpec[];
  readonly outputs: readonly TensorSpec[];
  /** Set for TensorFlow tf.Example signatures, whose `inputs` are the parsed features. */
  readonly examples?: ExampleSignature;
}

/** A signature fed serialized tf.Example protos, which records give as feature values instead. */
export interface ExampleSignature {
  /** The signature's own input key (e.g. `inputs`): records may give rows under it when there is one feature. */
  readonly input: string;
  /** Feature key → one example's default values (row-major), for features a record may leave out. */
  readonly defaults: Readonly<Record<string, readonly number[]>>;
  /** The parser's other feature keys: records may carry them; they are ignored. */
  readonly ignored: readonly string[];
}

export type TensorMap = Readonly<Record<string, Tensor>>;

export interface Model {
  readonly signature: Signature;
  /** What the engine inferred or ignored while loading (e.g. Caffe input/output layers), for the load log. */
  readonly notes?: readonly string[];
  predict(inputs: TensorMap): Promise<TensorMap>;
}

export interface Engine {
  load(artifact: ModelArtifact): Promise<Model>;
}
