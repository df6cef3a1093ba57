/**
 * A bulk file's line as a record to score, in the deployment's own convention:
 * a JSON Lines line is a record file's JSON object on one line; a CSV row is
 * the values of a single-input model's record, flattened (README, "Formats").
 */
import type { TensorSpec } from '../engines/engine.js';
import type { Signature } from '../engines/engine.js';
import type { RecordToScore } from '../domain/batch-scoring.js';
import { InvalidRecordError } from '../domain/errors.js';
import { recordTooLarge } from '../domain/record-bytes.js';
import type { BulkPartItem } from './bulk-plan.js';
import { rowValues, splitCsvRow } from './csv-row.js';
import type { Line } from './line-reader.js';

/** The name a line's result is filed under, in place of a record file's name: `<file name>#<line number>`. */
export function lineRecordName(fileName: string, line: number): string {
  return `${fileName}#${line}`;
}

/** Throws an InvalidRecordError when a CSV row cannot be a record for this model. */
export function lineRecord(line: Line, item: BulkPartItem, fileName: string, signature: Signature, maxBytes: number): RecordToScore {
  const name = lineRecordName(fileName, line.number);
  if (item.format === 'jsonl') return { ...(line.bytes ? { bytes: line.bytes } : {}), size: line.size, fileName: name };
  if (!line.bytes || line.size > maxBytes) throw recordTooLarge(line.size, maxBytes);
  const spec = csvInput(signature);
  const width = spec.shape.slice(1).reduce<number>((n, d) => n * d!, 1);
  if (item.header && item.header.length !== width) {
    throw new InvalidRecordError('CSV_HEADER_MISMATCH', `the header row (line ${item.headerLine}) names ${item.header.length} column(s); the model's input "${spec.name}" takes ${width} value(s) per record`);
  }
  let text: string;
  try {
    text = utf8.decode(line.bytes);
  } catch {
    throw new InvalidRecordError('NOT_TEXT', 'line is not UTF-8 text');
  }
  const values = rowValues(splitCsvRow(text), width);
  return { record: { [spec.name]: [reshape(values, spec.shape.slice(1) as number[])] }, size: line.size, fileName: name };
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** CSV rows fit models with one input whose record has a fixed size (its dimensions past the batch one known). */
function csvInput(signature: Signature): TensorSpec {
  const [spec, ...others] = signature.inputs;
  const fixed = spec && !spec.unknownRank && spec.shape.length >= 2 && spec.shape.slice(1).every((d) => d !== null);
  if (!spec || others.length > 0 || !fixed) {
    const inputs = signature.inputs.map((s) => `"${s.name}" [${s.shape.map((d) => d ?? 'N').join(',')}]`).join(', ');
    throw new InvalidRecordError('CSV_NOT_SUPPORTED', `CSV rows need a model with one input of fixed size per record; this model takes ${inputs}: use JSON Lines`);
  }
  return spec;
}

/** Row-major values → nested arrays of the given dimensions. */
function reshape(values: readonly number[], dims: readonly number[]): unknown {
  if (dims.length <= 1) return values;
  const step = values.length / dims[0]!;
  return Array.from({ length: dims[0]! }, (_, i) => reshape(values.slice(i * step, (i + 1) * step), dims.slice(1)));
}
