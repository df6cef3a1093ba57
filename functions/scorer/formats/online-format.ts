/**
 * The online scoring convention of the service our users come from: a
 * payload of rows `{"values": [[...], ...]}` (optionally with `"fields"`) in,
 * `{"fields": [...], "values": [[...], ...]}` out, one output row per input
 * row. A payload may also name the model's inputs, `{"<input>": [...], ...}`,
 * as batch records do (the only way to feed a model of several inputs). Keras models answer with the Keras fields (prediction,
 * prediction_classes, probability); others with their output names.
 */
import { InvalidRecordError } from '../domain/errors.js';
import type { Signature, TensorMap } from '../engines/engine.js';
import { classOf, kerasFormat, KERAS_FIELDS } from './keras-format.js';
import { namedTensorsFormat } from './named-tensors-format.js';
import type { RecordFormat } from './record-format.js';
import { decodeTensor, encodeTensor } from './tensor-json.js';

export interface OnlineResult {
  readonly fields: string[];
  readonly values: unknown[][];
}

export function decodeOnlinePayload(payload: Readonly<Record<string, unknown>>, signature: Signature): TensorMap {
  if (!('values' in payload) && Object.keys(payload).length > 0) return namedTensorsFormat.decode(payload, signature);
  const rows = payload['values'];
  if (!Array.isArray(rows) || rows.length === 0) {
    throw new InvalidRecordError('MISSING_INPUT', 'an online payload is {"values": [row, ...]} with at least one row');
  }
  if (signature.inputs.length !== 1) {
    throw new InvalidRecordError('UNSUPPORTED_PAYLOAD', `"values" rows feed single-input models; this model has inputs ${signature.inputs.map((s) => `"${s.name}"`).join(', ')}: name them, {${signature.inputs.map((s) => `"${s.name}": [...]`).join(', ')}}`);
  }
  const spec = signature.inputs[0]!;
  return { [spec.name]: decodeTensor(rows, spec, 'values') };
}

export function encodeOnlineResult(outputs: TensorMap, signature: Signature, format: RecordFormat): OnlineResult {
  if (format === kerasFormat) {
    const rows = encodeTensor(outputs[signature.outputs[0]!.name]!) as unknown[];
    return { fields: [...KERAS_FIELDS], values: rows.map((row) => [row, classOf(row), row]) };
  }
  const columns = signature.outputs.map((spec) => encodeTensor(outputs[spec.name]!) as unknown[]);
  const count = columns[0]?.length ?? 0;
  return { fields: signature.outputs.map((s) => s.name), values: Array.from({ length: count }, (_, i) => columns.map((column) => column[i])) };
}
