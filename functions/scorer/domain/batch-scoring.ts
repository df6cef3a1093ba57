/**
 * Scores several records in as few predict calls as possible: records whose
 * inputs have the same per-row shape are stacked along the batch dimension,
 * predicted together, and split back. A record that breaks a stacked call
 * never takes the others down: the group is retried record by record.
 */
import type { LoadedModel } from '../engines/engine-registry.js';
import type { Tensor, TensorData, TensorMap } from '../engines/engine.js';
import { DropscoreError, PredictionError, describeError } from './errors.js';
import { parseRecord, recordTooLarge, type Outcome } from './record-bytes.js';

export interface RecordToScore {
  /** Absent when the object was too large to download, or when `record` is given. */
  readonly bytes?: Uint8Array;
  /** The record already as JSON values (a bulk CSV row): not parsed from bytes. */
  readonly record?: Readonly<Record<string, unknown>>;
  readonly size: number;
  readonly fileName: string;
}

interface Decoded {
  readonly index: number;
  readonly inputs: TensorMap;
  readonly rows: number;
}

/**
 * Decides, once the records are decoded, which of them may be predicted:
 * returns those refused (by index), each with its error. Only valid records
 * reach it, so only predictions about to be made are counted against a limit.
 */
export type Admission = (validIndexes: readonly number[]) => Promise<ReadonlyMap<number, DropscoreError>>;

export async function scoreRecords(records: readonly RecordToScore[], loaded: LoadedModel, maxBytes: number, admit?: Admission): Promise<Outcome[]> {
  const outcomes: Outcome[] = new Array(records.length);
  const valid: Decoded[] = [];
  records.forEach((record, index) => {
    try {
      const inputs = record.record ? loaded.format.decode(record.record, loaded.model.signature) : decodeRecord(checkedBytes(record, maxBytes), loaded);
      valid.push({ index, inputs, rows: batchRows(inputs) });
    } catch (error) {
      outcomes[index] = asErrorOutcome(error);
    }
  });
  const refused = admit && valid.length > 0 ? await admit(valid.map((d) => d.index)) : new Map<number, DropscoreError>();
  for (const [index, error] of refused) outcomes[index] = { kind: 'error', error };
  const decoded = valid.filter((d) => !refused.has(d.index));

  for (const group of groupStackable(decoded, loaded)) {
    let outputs: TensorMap[];
    try {
      outputs = group.length === 1 ? [await predict(loaded, group[0]!.inputs)] : split(await predict(loaded, stack(group)), group);
    } catch {
      // Find the record at fault instead of failing the whole group.
      outputs = [];
      for (const item of group) {
        try {
          outputs.push(await predict(loaded, item.inputs));
        } catch (error) {
          outcomes[item.index] = asErrorOutcome(error);
          outputs.push({});
        }
      }
    }
    group.forEach((item, i) => {
      if (outcomes[item.index]) return;
      try {
        const body = loaded.format.encode(records[item.index]!.fileName, outputs[i]!, loaded.model.signature);
        outcomes[item.index] = { kind: 'result', body };
      } catch (error) {
        // An output the record format cannot express is this record's error, not the batch's.
        outcomes[item.index] = { kind: 'error', error: error instanceof DropscoreError ? error : new PredictionError(`cannot encode the model's output: ${describeError(error)}`, { cause: error }) };
      }
    });
  }
  return outcomes;
}

function checkedBytes(record: RecordToScore, maxBytes: number): Uint8Array {
  if (!record.bytes || record.size > maxBytes) throw recordTooLarge(record.size, maxBytes);
  return record.bytes;
}

/** A record's model inputs, by the format of its framework. */
function decodeRecord(bytes: Uint8Array, loaded: LoadedModel): TensorMap {
  return loaded.format.decode(parseRecord(bytes), loaded.model.signature);
}

async function predict(loaded: LoadedModel, inputs: TensorMap): Promise<TensorMap> {
  try {
    return await loaded.model.predict(inputs);
  } catch (error) {
    throw error instanceof DropscoreError ? error : new PredictionError(describeError(error), { cause: error });
  }
}

function asErrorOutcome(error: unknown): Outcome {
  if (error instanceof DropscoreError) return { kind: 'error', error };
  throw error;
}

function batchRows(inputs: TensorMap): number {
  return Object.values(inputs)[0]?.shape[0] ?? 1;
}

/** Records can share a call when every model input has a free batch dimension and their per-row shapes match. */
function groupStackable(decoded: readonly Decoded[], loaded: LoadedModel): Decoded[][] {
  const stackable = decoded.length > 1 && loaded.model.signature.inputs.every((spec) => spec.shape[0] === null);
  if (!stackable) return decoded.map((d) => [d]);
  const groups = new Map<string, Decoded[]>();
  for (const item of decoded) {
    const key = Object.entries(item.inputs).map(([name, t]) => `${name}:${t.dtype}:${t.shape.slice(1).join('x')}`).join('|');
    groups.set(key, [...(groups.get(key) ?? []), item]);
  }
  return [...groups.values()];
}

function stack(group: readonly Decoded[]): TensorMap {
  const stacked: Record<string, Tensor> = {};
  for (const name of Object.keys(group[0]!.inputs)) {
    const parts = group.map((item) => item.inputs[name]!);
    const first = parts[0]!;
    const data = allocate(first.data, parts.reduce((n, p) => n + p.data.length, 0));
    let offset = 0;
    for (const part of parts) {
      (data as Float32Array).set(part.data as Float32Array, offset);
      offset += part.data.length;
    }
    stacked[name] = { dtype: first.dtype, shape: [parts.reduce((n, p) => n + p.shape[0]!, 0), ...first.shape.slice(1)], data };
  }
  return stacked;
}

function split(outputs: TensorMap, group: readonly Decoded[]): TensorMap[] {
  const total = group.reduce((n, item) => n + item.rows, 0);
  const perRecord: Record<string, Tensor>[] = group.map(() => ({}));
  for (const [name, tensor] of Object.entries(outputs)) {
    if (tensor.shape[0] !== total) throw new PredictionError(`output "${name}" does not keep the batch dimension; cannot split a stacked call`);
    const rowSize = tensor.data.length / total;
    let row = 0;
    group.forEach((item, i) => {
      perRecord[i]![name] = { dtype: tensor.dtype, shape: [item.rows, ...tensor.shape.slice(1)], data: tensor.data.slice(row * rowSize, (row + item.rows) * rowSize) as TensorData };
      row += item.rows;
    });
  }
  return perRecord;
}

function allocate(like: TensorData, length: number): TensorData {
  return new (like.constructor as new (n: number) => TensorData)(length);
}
