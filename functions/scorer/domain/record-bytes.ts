/**
 * A record file's bytes: the size rule and the JSON-object rule every
 * convention starts from, and the outcome a record ends in.
 */
import { DropscoreError, InvalidRecordError, describeError } from './errors.js';

export type Outcome =
  | { readonly kind: 'result'; readonly body: unknown }
  | { readonly kind: 'error'; readonly error: DropscoreError };

export const DEFAULT_MAX_RECORD_BYTES = 5 * 1024 * 1024;

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
