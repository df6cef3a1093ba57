/**
 * HDF5 access for Keras files through h5wasm (HDF5 compiled to WebAssembly,
 * so no native library ships to Lambda). h5wasm reads the file lazily from
 * disk, so what a load costs is what the datasets we read declare: each is
 * checked against the file's size before it is read (see model-file-limits.ts).
 */
import h5wasm, { Dataset, Group } from 'h5wasm/node';
import { ModelLoadError, describeError } from '../../domain/errors.js';
import type { WeightArray } from './keras-source.js';
import { compressedDataLimit, assertHdf5File } from './model-file-limits.js';

export type Hdf5File = InstanceType<typeof h5wasm.File>;

/** What the datasets read so far from one file amount to, against what that file can hold. */
export class ReadBudget {
  private plainBytes = 0;
  private filteredBytes = 0;

  constructor(
    readonly fileBytes: number,
    readonly label: string,
  ) {}

  /**
   * Unfiltered data is stored as it is, so all of it together cannot exceed the
   * file; compressed data may exceed it, up to the compression limit.
   */
  claim(bytes: number, filtered: boolean, what: string): void {
    const limit = filtered ? compressedDataLimit(this.fileBytes) : this.fileBytes;
    const used = filtered ? this.filteredBytes : this.plainBytes;
    if (used + bytes > limit) {
      const holds = filtered ? `more than the ${limit}-byte limit for compressed data in a ${this.fileBytes}-byte file` : `more than the ${this.fileBytes}-byte file holds`;
      throw new ModelLoadError(`${this.label}: ${what} declares ${bytes} bytes${used > 0 ? ` (after ${used} read)` : ''}, ${holds}: the file is damaged or hostile`);
    }
    if (filtered) this.filteredBytes += bytes;
    else this.plainBytes += bytes;
  }
}

/**
 * Opens `path` (named `label` in messages: never a server path) for `use`.
 * HDF5 errors are thrown rather than printed while the file is open, so a bad
 * file gives one error, not pages of HDF5-DIAG lines on stderr.
 */
export async function withHdf5File<T>(path: string, label: string, use: (file: Hdf5File, budget: ReadBudget) => T): Promise<T> {
  const module = await h5wasm.ready;
  const budget = new ReadBudget(assertHdf5File(path, label), label);
  module.activate_throwing_error_handler();
  try {
    let file: Hdf5File;
    try {
      file = new h5wasm.File(path, 'r');
    } catch (error) {
      throw new ModelLoadError(`${label} is not a readable HDF5 file: ${describeHdf5Error(error)}`, { cause: error });
    }
    try {
      return use(file, budget);
    } catch (error) {
      if (error instanceof ModelLoadError) throw error;
      throw new ModelLoadError(`${label}: cannot read the HDF5 file: ${describeHdf5Error(error)}`, { cause: error });
    } finally {
      file.close();
    }
  } finally {
    module.deactivate_throwing_error_handler();
  }
}

/** HDF5's error stack, innermost reason first: `H5Fopen(): unable to open file: bad superblock`. */
export function describeHdf5Error(error: unknown): string {
  const message = describeError(error);
  const frames = [...message.matchAll(/ in ([A-Za-z0-9_]+\(\)): (.*)/g)].map((m) => `${m[1]}: ${m[2]!.trim()}`);
  return frames.length > 0 ? frames[frames.length - 1]! : message.split('\n')[0]!;
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

const H5T_FLOAT = 1;

/** `owner` says whose weight it is in messages, e.g. `layer "conv2d"`. */
export function readWeight(group: Group, path: string, owner: string, budget: ReadBudget): WeightArray {
  const where = `${budget.label} ${owner}`;
  const dataset = group.get(path);
  if (!(dataset instanceof Dataset)) throw new ModelLoadError(`${where}: weight "${path}" is missing`);
  const metadata = dataset.metadata;
  if (metadata.type !== H5T_FLOAT || metadata.vlen) {
    throw new ModelLoadError(`${where}: weight "${path}" has dtype ${String(dataset.dtype)}; only float weights are supported`);
  }
  const shape = dataset.shape ?? [];
  budget.claim(metadata.total_size * metadata.size, dataset.filters.length > 0, `${owner} weight "${path}" [${shape.join(',')}]`);
  const value = dataset.value;
  if (!(value instanceof Float32Array || value instanceof Float64Array)) {
    throw new ModelLoadError(`${where}: weight "${path}" has dtype ${String(dataset.dtype)}; only float weights are supported`);
  }
  return { name: path, shape, data: value instanceof Float32Array ? value : Float32Array.from(value) };
}
