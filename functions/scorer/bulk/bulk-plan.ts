/**
 * The plan of a bulk file: one streamed read of the input version finds its
 * line boundaries and cuts it into parts, line-aligned byte ranges of about
 * `partBytes` each, the unit of parallel work. The plan is plain JSON: on AWS
 * a fan-out reads its parts as items (bulkPartItems), locally a worker pool does.
 */
import { ObjectChangedError } from '../domain/errors.js';
import type { InputRef } from '../domain/outcome-object.js';
import type { ObjectStore, ObjectStream } from '../domain/ports.js';
import type { BulkFormat } from './bulk-keys.js';
import { isHeaderRow, splitCsvRow } from './csv-row.js';
import { readLines } from './line-reader.js';

/** One version of the input object. */
export type BulkInput = InputRef;

export interface BulkPart {
  /** 0-based position in the file. */
  readonly index: number;
  /** Byte range [start, end) of whole lines. */
  readonly start: number;
  readonly end: number;
  /** 1-based number of its first line in the file. */
  readonly firstLine: number;
  /** Its records: lines neither blank nor the CSV header. */
  readonly records: number;
}

export interface BulkPlan {
  readonly input: BulkInput;
  readonly format: BulkFormat;
  /** A CSV's header row (feature names), when it has one... */
  readonly header?: readonly string[];
  /** ...and its line number: the first line that is not blank. */
  readonly headerLine?: number;
  readonly lineCount: number;
  readonly records: number;
  readonly parts: readonly BulkPart[];
}

/** What one worker needs to score one part: self-contained, so a fan-out can hand items out one by one. */
export interface BulkPartItem {
  readonly input: BulkInput;
  readonly format: BulkFormat;
  readonly header?: readonly string[];
  readonly headerLine?: number;
  readonly part: BulkPart;
}

export const DEFAULT_PART_BYTES = 8 * 1024 * 1024;

// A header row longer than this is taken for data (and then fails as a record).
const MAX_HEADER_BYTES = 1024 * 1024;

/** Reads the input version once (pinned: a concurrent overwrite throws ObjectChangedError) and plans its parts. */
export async function planBulkFile(objects: ObjectStore, input: BulkInput, format: BulkFormat, partBytes = DEFAULT_PART_BYTES): Promise<BulkPlan> {
  return planBulkStream(await readWhole(objects, input), input, format, partBytes);
}

/** The whole input version, pinned: throws ObjectChangedError if the key holds another version now (or none). */
export async function readWhole(objects: ObjectStore, input: BulkInput): Promise<ObjectStream> {
  const stream = await objects.stream(input.bucket, input.key, { version: input });
  if (!stream) throw new ObjectChangedError(input.bucket, input.key, input.eTag);
  return stream;
}

/** Plans the parts of an input version from a whole read of it. */
export async function planBulkStream(stream: ObjectStream, input: BulkInput, format: BulkFormat, partBytes = DEFAULT_PART_BYTES): Promise<BulkPlan> {
  const parts: BulkPart[] = [];
  let current: { start: number; firstLine: number; records: number } | undefined;
  let header: string[] | undefined;
  let headerLine: number | undefined;
  let seenContent = false;
  let lineCount = 0;
  let records = 0;
  for await (const line of readLines(stream.body, { offset: 0, firstLine: 1, keepBytes: MAX_HEADER_BYTES })) {
    lineCount = line.number;
    current ??= { start: line.start, firstLine: line.number, records: 0 };
    if (!line.blank) {
      if (format === 'csv' && !seenContent && line.bytes) header = csvHeader(line.bytes);
      if (header && headerLine === undefined) headerLine = line.number;
      else current.records++;
      seenContent = true;
    }
    if (line.end - current.start >= partBytes) {
      parts.push({ index: parts.length, start: current.start, end: line.end, firstLine: current.firstLine, records: current.records });
      records += current.records;
      current = undefined;
    }
  }
  if (current) {
    // The last part runs to the end of the object (a last line without a line break included).
    parts.push({ index: parts.length, start: current.start, end: stream.size, firstLine: current.firstLine, records: current.records });
    records += current.records;
  }
  return {
    input: { bucket: input.bucket, key: input.key, eTag: stream.eTag, ...(stream.versionId ? { versionId: stream.versionId } : {}) },
    format,
    ...(header ? { header, headerLine } : {}),
    lineCount,
    records,
    parts,
  };
}

export function bulkPartItems(plan: BulkPlan): BulkPartItem[] {
  const { input, format, header, headerLine } = plan;
  return plan.parts.map((part) => ({ input, format, ...(header ? { header, headerLine } : {}), part }));
}

/** The first row's cells when it is a header (any cell not a number); otherwise it is data. */
function csvHeader(bytes: Uint8Array): string[] | undefined {
  try {
    const cells = splitCsvRow(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
    return isHeaderRow(cells) ? cells : undefined;
  } catch {
    return undefined; // not text, or not CSV: a record, which will say so
  }
}
