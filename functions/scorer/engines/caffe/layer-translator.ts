/**
 * The contract between the net walker (caffe-to-onnx.ts) and the per-layer
 * translators: a translator receives its bottoms as ONNX values with known
 * shapes, emits nodes, and returns one value per top. Shapes are computed
 * here rather than left to onnxruntime because Caffe's own size rules (CEIL
 * pooling, Reshape's 0/-1) decide the graph we must build.
 */
import type { CaffeLayer } from './caffe-net.js';
import type { WeightBlob } from './caffemodel-reader.js';
import type { BlobShape } from './blob-shape.js';
import type { OnnxGraphBuilder } from './onnx-graph-builder.js';
import type { ParamReader } from './param-reader.js';

export interface TensorRef {
  readonly value: string;
  readonly shape: BlobShape;
}

export interface LayerContext {
  readonly layer: CaffeLayer;
  readonly inputs: readonly TensorRef[];
  readonly graph: OnnxGraphBuilder;
  /** The layer's `<name>` message (e.g. `convolution_param`), empty when absent. */
  param(name: string): ParamReader;
  /** The layer's learned blobs from the caffemodel; fails unless there are between min and max of them. */
  blobs(min: number, max?: number): readonly WeightBlob[];
  /** Fails unless the layer has between min and max bottoms. */
  expectBottoms(min: number, max?: number): void;
  /** A name hint for the values this layer creates. */
  hint(suffix?: string): string;
  fail(reason: string): never;
}

export type LayerTranslator = (ctx: LayerContext) => readonly TensorRef[];

/** A blob's values, which must number exactly `expectedCount`; its stored shape is not checked, since old files store e.g. 1x1xOxI for OxI. */
export function blobData(ctx: LayerContext, blob: WeightBlob, expectedCount: number, what: string): Float32Array {
  if (blob.data.length !== expectedCount) {
    ctx.fail(`its ${what} blob holds ${blob.data.length} values (shape ${blob.shape.join('x') || 'scalar'}), but the net needs ${expectedCount}`);
  }
  return blob.data;
}

/** The size of `axis`, which must not be the batch axis (channel counts, spatial sizes). */
export function fixedDim(ctx: LayerContext, shape: BlobShape, axis: number, what: string): number {
  if (axis === shape.batchAxis) ctx.fail(`its ${what} axis (${axis}) is the batch axis, whose size is only known when scoring`);
  const dim = shape.dims[axis];
  if (dim === undefined) ctx.fail(`its ${what} axis ${axis} is outside a ${shape.dims.length}-axis input`);
  return dim!;
}

/** The single-bottom case most layers are. */
export function onlyInput(ctx: LayerContext): TensorRef {
  ctx.expectBottoms(1, 1);
  return ctx.inputs[0]!;
}
