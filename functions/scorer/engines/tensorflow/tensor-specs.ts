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
 * A spec for a signature entry. Inputs must have a known rank, since records
 * are checked against it; an output of unknown rank gets `[]` (outputs are
 * written as they come out and never checked against their spec).
 */
export function tensorSpec(name: string, dtype: number, shape: TensorShape, role: 'input' | 'output', where: string): TensorSpec {
  const what = `${where}: ${role} "${name}"`;
  const engineType = engineDType(dtype, what);
  if (shape.dims === null && role === 'input') throw new ModelLoadError(`${what} has an unknown rank, so records cannot be checked against it`);
  return Object.freeze({
    name,
    dtype: engineType,
    shape: Object.freeze((shape.dims ?? []).map((d) => (d >= 0 ? d : null))),
  });
}
