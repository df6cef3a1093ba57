/**
 * TensorFlow signature entries (dtype enum + TensorShape) as the engine's
 * TensorSpecs: a -1 dimension is free (`null`), the dtype one a record can hold.
 */
import { ModelLoadError } from '../../domain/errors.js';
import type { DType, TensorSpec } from '../engine.js';
import { DT, baseType, dtypeName, type TensorShape } from './tf-graph.js';

const DTYPES = new Map<number, DType>([
  [DT.FLOAT, 'float32'],
  [DT.DOUBLE, 'float64'],
  [DT.INT32, 'int32'],
  [DT.INT64, 'int64'],
  [DT.UINT8, 'uint8'],
  [DT.BOOL, 'bool'],
]);

const CODES = new Map<string, number>(Object.entries(DT).map(([name, code]) => [`DT_${name}`, code]));

/** `"DT_FLOAT"` (model.json) → the DataType enum value; undefined if unknown. */
export function dtypeFromName(name: string): number | undefined {
  return CODES.get(name);
}

function engineDType(dtype: number, what: string): DType {
  const mapped = DTYPES.get(baseType(dtype));
  if (mapped) return mapped;
  const hint = baseType(dtype) === DT.STRING ? ' (string inputs such as serialized tf.Example records are not supported)' : '';
  throw new ModelLoadError(`${what} has dtype ${dtypeName(dtype)}${hint}; supported: ${[...DTYPES.keys()].map((d) => dtypeName(d)).join(', ')}`);
}

/**
 * A spec for a signature entry. What the model leaves open stays open: an
 * unknown dimension is free, and an entry of unknown rank (TF 1.x exports such
 * as TF Serving's half_plus_three) takes records of any shape; its dtype is
 * always checked.
 */
export function tensorSpec(name: string, dtype: number, shape: TensorShape, role: 'input' | 'output', where: string): TensorSpec {
  const what = `${where}: ${role} "${name}"`;
  const engineType = engineDType(dtype, what);
  const dims = Object.freeze((shape.dims ?? []).map((d) => (d >= 0 ? d : null)));
  return Object.freeze(shape.dims === null ? { name, dtype: engineType, shape: dims, unknownRank: true } : { name, dtype: engineType, shape: dims });
}
