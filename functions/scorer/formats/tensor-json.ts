/**
 * Nested JSON arrays ⇄ tensors. Decoding validates everything a user can get
 * wrong in a record (ragged rows, non-numbers, rank, fixed dimensions, dtype
 * range) and says where, so an error record is enough to fix the file.
 */
import { InvalidRecordError } from '../domain/errors.js';
import type { DType, Tensor, TensorData, TensorSpec } from '../engines/engine.js';

const MAX_RANK = 32;

export function formatShape(shape: readonly (number | null)[]): string {
  return `[${shape.map((d) => (d === null ? 'N' : String(d))).join(',')}]`;
}

/** A spec's shape for messages: `[N,784]`, or `any shape` when the model leaves the rank open. */
export function formatSpecShape(spec: TensorSpec): string {
  return spec.unknownRank ? 'any shape' : formatShape(spec.shape);
}

/** Whether a record value is a tensor (a nested array) rather than, say, an object of them. */
export function isTensorValue(value: unknown): boolean {
  return Array.isArray(value);
}

export function decodeTensor(value: unknown, spec: TensorSpec, field: string): Tensor {
  const shape = inferShape(value, field);
  checkShape(shape, spec, field);
  return { dtype: spec.dtype, shape, data: toTypedArray(collectLeaves(value, shape, field), spec.dtype, field, shape) };
}

function checkShape(shape: readonly number[], spec: TensorSpec, field: string): void {
  if (spec.unknownRank) return;
  const expected = spec.shape;
  let fits = shape.length === expected.length;
  for (let i = 0; fits && i < expected.length; i++) fits = expected[i] === null || expected[i] === shape[i];
  if (!fits) {
    throw new InvalidRecordError(
      'SHAPE_MISMATCH',
      `input "${field}": expected shape ${formatShape(expected)}, received ${formatShape(shape)}`,
    );
  }
}

export function encodeTensor(tensor: Tensor): unknown {
  const { data, shape } = tensor;
  const flat: number[] = data instanceof BigInt64Array ? Array.from(data, Number) : Array.from(data);
  if (shape.length === 0) return flat[0];
  // Rows of the last dimension first, then grouped dimension by dimension up to the first.
  let level: unknown[] = flat;
  for (let d = shape.length - 1; d > 0; d--) {
    const size = shape[d]!;
    const groups = shape.slice(0, d).reduce((a, b) => a * b, 1);
    const grouped: unknown[] = new Array(groups);
    for (let i = 0; i < groups; i++) grouped[i] = level.slice(i * size, (i + 1) * size);
    level = grouped;
  }
  return level;
}

/** The shape a well-formed nested array would have, read along its first elements. */
function inferShape(value: unknown, field: string): number[] {
  const shape: number[] = [];
  let cursor = value;
  while (Array.isArray(cursor)) {
    if (shape.length === MAX_RANK) throw new InvalidRecordError('SHAPE_MISMATCH', `input "${field}": nested deeper than ${MAX_RANK} levels`);
    shape.push(cursor.length);
    if (cursor.length === 0) break;
    cursor = cursor[0];
  }
  return shape;
}

/** Flattens row-major, checking every row has its siblings' length. Paths are built only for error messages: this runs per element. */
function collectLeaves(value: unknown, shape: readonly number[], field: string): unknown[] {
  const leaves: unknown[] = new Array(shape.reduce((a, b) => a * b, 1));
  const index: number[] = [];
  let n = 0;
  const at = (depth: number) => index.slice(0, depth).map((i) => `[${i}]`).join('') || '[]';
  const walk = (node: unknown, depth: number): void => {
    if (depth === shape.length) {
      if (Array.isArray(node)) throw new InvalidRecordError('SHAPE_MISMATCH', `input "${field}" at ${at(depth)}: ragged array, expected a number and found a nested array`);
      leaves[n++] = node;
      return;
    }
    if (!Array.isArray(node) || node.length !== shape[depth]) {
      const got = Array.isArray(node) ? `${node.length} elements` : describeValue(node);
      throw new InvalidRecordError('SHAPE_MISMATCH', `input "${field}" at ${at(depth)}: ragged array, expected ${shape[depth]} elements like its siblings, got ${got}`);
    }
    for (let i = 0; i < node.length; i++) {
      index[depth] = i;
      walk(node[i], depth + 1);
    }
  };
  walk(value, 0);
  return leaves;
}

function toTypedArray(leaves: ArrayLike<unknown>, dtype: DType, field: string, shape: readonly number[]): TensorData {
  const where = (i: number): string => `input "${field}" at ${indexPath(i, shape)}`;
  const numberAt = (i: number): number => {
    const v = leaves[i];
    if (typeof v === 'number' && Number.isFinite(v)) return v;
    if (dtype === 'bool' && typeof v === 'boolean') return v ? 1 : 0;
    throw new InvalidRecordError('INVALID_VALUE', `${where(i)}: expected a finite number, got ${describeValue(v)}`);
  };
  const integerAt = (i: number, min: number, max: number): number => {
    const v = numberAt(i);
    if (!Number.isInteger(v) || v < min || v > max) {
      throw new InvalidRecordError('DTYPE_MISMATCH', `${where(i)}: ${v} is not a valid ${dtype} (model input dtype is ${dtype})`);
    }
    return v;
  };
  const n = leaves.length;
  switch (dtype) {
    case 'float32':
    case 'float64': {
      // The common case, kept to a plain loop: the per-element callback dominated decoding.
      const out = dtype === 'float32' ? new Float32Array(n) : new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const v = leaves[i];
        out[i] = typeof v === 'number' && Number.isFinite(v) ? v : numberAt(i);
      }
      return out;
    }
    case 'int32':
      return Int32Array.from({ length: n }, (_, i) => integerAt(i, -(2 ** 31), 2 ** 31 - 1));
    case 'int64':
      return BigInt64Array.from({ length: n }, (_, i) => BigInt(integerAt(i, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER)));
    case 'uint8':
      return Uint8Array.from({ length: n }, (_, i) => integerAt(i, 0, 255));
    case 'bool':
      return Uint8Array.from({ length: n }, (_, i) => integerAt(i, 0, 1));
  }
}

/** Where a flat element sits in a tensor of this shape, as `[i][j]...` (for error messages). */
export function indexPath(flatIndex: number, shape: readonly number[]): string {
  const idx: number[] = [];
  let rest = flatIndex;
  for (let d = shape.length - 1; d >= 0; d--) {
    idx.unshift(rest % shape[d]!);
    rest = Math.floor(rest / shape[d]!);
  }
  return idx.map((i) => `[${i}]`).join('') || '[]';
}

function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'string') return `string ${JSON.stringify(v.length > 20 ? `${v.slice(0, 20)}…` : v)}`;
  if (typeof v === 'number') return String(v);
  return typeof v;
}
