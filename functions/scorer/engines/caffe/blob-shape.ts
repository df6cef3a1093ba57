/**
 * Blob shapes during translation. Caffe nets declare a fixed batch (often 64)
 * but we score any N, so one axis may scale with N: `dims[batchAxis]` holds
 * its multiplier (1 for a plain batch axis, k after a Flatten/Reshape merged
 * k values per sample into it). Every other dim is a known number, which is
 * what the pooling and reshape arithmetic needs at translation time.
 */

export interface BlobShape {
  readonly dims: readonly number[];
  readonly batchAxis: number | null;
}

export function batchShape(declared: readonly number[]): BlobShape {
  return { dims: [1, ...declared.slice(1)], batchAxis: 0 };
}

export function withDims(shape: BlobShape, dims: readonly number[], batchAxis = shape.batchAxis): BlobShape {
  return { dims, batchAxis };
}

/** `[N,1,28,28]`, `[2N,10]`. */
export function formatBlobShape(shape: BlobShape): string {
  return `[${shape.dims.map((d, i) => (i === shape.batchAxis ? (d === 1 ? 'N' : `${d}N`) : String(d))).join(',')}]`;
}

/** Shapes for ONNX value infos: the batch axis becomes a symbolic dimension. */
export function onnxDims(shape: BlobShape): (number | string)[] {
  return shape.dims.map((d, i) => (i === shape.batchAxis ? (d === 1 ? 'N' : `N*${d}`) : d));
}

/** A Reshape target: -1 lets onnxruntime infer the one batch-dependent dim. */
export function reshapeTarget(shape: BlobShape): number[] {
  return shape.dims.map((d, i) => (i === shape.batchAxis ? -1 : d));
}

export function sameShape(a: BlobShape, b: BlobShape): boolean {
  return a.batchAxis === b.batchAxis && a.dims.length === b.dims.length && a.dims.every((d, i) => d === b.dims[i]);
}

export function product(values: readonly number[]): number {
  return values.reduce((a, b) => a * b, 1);
}

/** Caffe's CanonicalAxisIndex: negative axes count from the end. Undefined when out of range. */
export function canonicalAxis(axis: number, rank: number): number | undefined {
  const canonical = axis < 0 ? axis + rank : axis;
  return canonical >= 0 && canonical < rank ? canonical : undefined;
}
