/**
 * Scores one record file's bytes with a loaded model. Pure of I/O, so the
 * scorer Lambda, the local stack and `dropscore predict` share it exactly.
 * Bad input never throws: it becomes an error outcome.
 */
import type { LoadedModel } from '../engines/engine-registry.js';
import { DropscoreError, InvalidRecordError, PredictionError, describeError } from './errors.js';

export type Outcome =
  | { readonly kind: 'result'; readonly body: unknown }
  | { readonly kind: 'error'; readonly error: DropscoreError };

export const DEFAULT_MAX_RECORD_BYTES = 5 * 1024 * 1024;

export async function scoreRecord(bytes: Uint8Array, fileName: string, loaded: LoadedModel, maxBytes = DEFAULT_MAX_RECORD_BYTES): Promise<Outcome> {
  try {
    if (bytes.length > maxBytes) throw recordTooLarge(bytes.length, maxBytes);
    const record = parseRecord(bytes);
    const { model, format } = loaded;
    const inputs = format.decode(record, model.signature);
    let outputs;
    try {
      outputs = await model.predict(inputs);
    } catch (error) {
      throw error instanceof DropscoreError ? error : new PredictionError(describeError(error), { cause: error });
    }
    return { kind: 'result', body: format.encode(fileName, outputs, model.signature) };
  } catch (error) {
    if (error instanceof DropscoreError) return { kind: 'error', error };
    throw error;
  }
}

export function recordTooLarge(size: number, maxBytes: number): InvalidRecordError {
  return new InvalidRecordError('RECORD_TOO_LARGE', `record is ${size} bytes, over the ${maxBytes}-byte limit`);
}

/** Bytes → a JSON object, or an InvalidRecordError saying why not. */
export function parseRecord(bytes: Uint8Array): Readonly<Record<string, unknown>> {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new InvalidRecordError('NOT_TEXT', 'record is not UTF-8 text (a binary file?); expected a JSON object');
  }
  if (text.includes('\u0000')) throw new InvalidRecordError('NOT_TEXT', 'record contains NUL bytes (a binary file?); expected a JSON object');
  if (text.trim() === '') throw new InvalidRecordError('EMPTY_RECORD', 'record is empty; expected a JSON object');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new InvalidRecordError('INVALID_JSON', `record is not valid JSON: ${describeError(error)}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    const kind = Array.isArray(value) ? 'an array' : value === null ? 'null' : `a ${typeof value}`;
    throw new InvalidRecordError('NOT_AN_OBJECT', `record must be a JSON object, got ${kind}`);
  }
  return value as Record<string, unknown>;
}
