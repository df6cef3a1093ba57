/**
 * HDF5 access for Keras files through h5wasm (HDF5 compiled to WebAssembly,
 * so no native library ships to Lambda).
 */
import h5wasm, { Dataset, Group } from 'h5wasm/node';
import { ModelLoadError, describeError } from '../../domain/errors.js';
import type { WeightArray } from './keras-source.js';

export type Hdf5File = InstanceType<typeof h5wasm.File>;

export async function withHdf5File<T>(path: string, use: (file: Hdf5File) => T): Promise<T> {
  await h5wasm.ready;
  let file: Hdf5File;
  try {
    file = new h5wasm.File(path, 'r');
  } catch (error) {
    throw new ModelLoadError(`${path} is not a readable HDF5 file: ${describeError(error)}`, { cause: error });
  }
  try {
    return use(file);
  } finally {
    file.close();
  }
}

export function stringAttr(holder: { attrs: Record<string, { value: unknown }> }, name: string): string | undefined {
  const value = holder.attrs[name]?.value;
  if (value === undefined || value === null) return undefined;
  return value instanceof Uint8Array ? new TextDecoder().decode(value) : String(value);
}

/**
 * Attribute string lists come back as a string or an array of strings depending
 * on their length, and an empty list (a layer without weights) as `{}`.
 */
export function stringListAttr(holder: { attrs: Record<string, { value: unknown }> }, name: string): string[] {
  const value = holder.attrs[name]?.value;
  const items = Array.isArray(value) ? value : [value];
  return items.filter((v): v is string => typeof v === 'string' && v !== '');
}

export function childGroup(parent: Group, name: string): Group | undefined {
  const child = parent.get(name);
  return child instanceof Group ? child : undefined;
}

export function readWeight(group: Group, path: string, where: string): WeightArray {
  const dataset = group.get(path);
  if (!(dataset instanceof Dataset)) throw new ModelLoadError(`${where}: weight "${path}" is missing`);
  const value = dataset.value;
  const shape = dataset.shape ?? [];
  if (!(value instanceof Float32Array || value instanceof Float64Array)) {
    throw new ModelLoadError(`${where}: weight "${path}" has dtype ${String(dataset.dtype)}; only float weights are supported`);
  }
  return { name: path, shape, data: value instanceof Float32Array ? value : Float32Array.from(value) };
}
