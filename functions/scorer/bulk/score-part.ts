/**
 * Scores one part of a bulk file: reads only its byte range of the input
 * version (pinned: an overwrite throws ObjectChangedError), turns each line
 * into a record, predicts in stacked micro-batches, and writes the part
 * object: one JSON line per record, in order, its result or an error naming
 * the line. Blank lines are skipped and counted. Deterministic, so scoring a
 * part again rewrites the same bytes.
 */
import type { LoadedModel } from '../engines/engine-registry.js';
import { scoreRecords, type RecordToScore } from '../domain/batch-scoring.js';
import { DropscoreError, ModelLoadError, ObjectChangedError, predictionLimitReached } from '../domain/errors.js';
import { fileNameOf } from '../domain/outcome-object.js';
import type { DeploymentBinding, ObjectStore, UsageMeter } from '../domain/ports.js';
import { DEFAULT_MAX_RECORD_BYTES, type Outcome } from '../domain/record-bytes.js';
import { partKey } from './bulk-keys.js';
import type { BulkPartItem } from './bulk-plan.js';
import { lineRecord } from './bulk-records.js';
import { readLines, type Line } from './line-reader.js';

export interface PartScoringDeps {
  readonly binding: DeploymentBinding;
  readonly objects: ObjectStore;
  readonly usage: UsageMeter;
  /** A model that failed to load still gives every record its error line. */
  readonly loaded: LoadedModel | ModelLoadError;
  readonly maxRecordBytes?: number;
  /** Records predicted together (stacked when their shapes allow). */
  readonly microBatch?: number;
}

export interface BulkPartResult {
  readonly index: number;
  readonly records: number;
  readonly scored: number;
  readonly failed: number;
  readonly blank: number;
  /** The last failed line, as `line <n>: <code>: <message>`, for the deployment's lastError. */
  readonly lastError?: string;
}

export const DEFAULT_MICRO_BATCH = 128;
export const BULK_CONTENT_TYPE = 'application/x-ndjson';

export async function scoreBulkPart(deps: PartScoringDeps, item: BulkPartItem): Promise<BulkPartResult> {
  const { input, part } = item;
  const stream = await deps.objects.stream(input.bucket, input.key, { version: input, range: { start: part.start, end: part.end } });
  if (!stream) throw new ObjectChangedError(input.bucket, input.key, input.eTag);
  const scoring = scorePartLines(deps, item, stream.body);
  await deps.objects.writeStream(deps.binding.target.bucket, partKey(deps.binding, input.key, input.eTag, part.index), scoring.lines, {}, BULK_CONTENT_TYPE);
  return scoring.result();
}

/**
 * The outcome lines of a part, from its bytes (`body` starts at the part's first byte),
 * generated micro-batch by micro-batch; `result()` tallies them once all were taken.
 */
export function scorePartLines(deps: PartScoringDeps, item: BulkPartItem, body: AsyncIterable<Uint8Array>): { readonly lines: AsyncGenerator<string>; result(): BulkPartResult } {
  const { loaded: model } = deps;
  const maxBytes = deps.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
  const microBatch = deps.microBatch ?? DEFAULT_MICRO_BATCH;
  const { input, part } = item;
  const fileName = fileNameOf(input.key);
  const counts = { records: 0, scored: 0, failed: 0, blank: 0, lastError: undefined as string | undefined };

  async function scoreLines(lines: readonly Line[]): Promise<string> {
    const outcomes: Outcome[] = new Array(lines.length);
    const toScore: RecordToScore[] = [];
    const slots: number[] = [];
    lines.forEach((line, i) => {
      if (model instanceof ModelLoadError) return (outcomes[i] = { kind: 'error', error: model });
      try {
        toScore.push(lineRecord(line, item, fileName, model.model.signature, maxBytes));
        slots.push(i);
      } catch (error) {
        if (!(error instanceof DropscoreError)) throw error;
        outcomes[i] = { kind: 'error', error };
      }
    });
    if (toScore.length > 0 && !(model instanceof ModelLoadError)) {
      // Counted just before predicting (the limit must hold), given back for those that did not end as results.
      const admitted = new Set<number>();
      const admit = async (valid: readonly number[]) => {
        const quota = await deps.usage.consumePredictions(valid.length);
        valid.slice(0, quota.granted).forEach((i) => admitted.add(i));
        return new Map(valid.slice(quota.granted).map((i) => [i, predictionLimitReached(quota)]));
      };
      const scored = await scoreRecords(toScore, model, maxBytes, admit);
      scored.forEach((outcome, j) => (outcomes[slots[j]!] = outcome));
      const unmade = [...admitted].filter((j) => scored[j]!.kind !== 'result').length;
      if (unmade > 0) await deps.usage.refundPredictions(unmade);
    }
    return lines.map((line, i) => `${JSON.stringify(outcomeLine(outcomes[i]!, line.number))}\n`).join('');
  }

  function outcomeLine(outcome: Outcome, line: number): unknown {
    counts.records++;
    if (outcome.kind === 'result') {
      counts.scored++;
      return outcome.body;
    }
    counts.failed++;
    counts.lastError = `line ${line}: ${outcome.error.code}: ${outcome.error.message}`;
    return { error: { line, code: outcome.error.code, message: outcome.error.message } };
  }

  async function* partLines(): AsyncGenerator<string> {
    let batch: Line[] = [];
    for await (const line of readLines(body, { offset: part.start, firstLine: part.firstLine, keepBytes: maxBytes })) {
      if (line.blank) counts.blank++;
      else if (line.number !== item.headerLine) batch.push(line);
      if (batch.length >= microBatch) {
        yield await scoreLines(batch);
        batch = [];
      }
    }
    if (batch.length > 0) yield await scoreLines(batch);
  }

  return {
    lines: partLines(),
    result() {
      const { lastError, ...totals } = counts;
      return { index: part.index, ...totals, ...(lastError ? { lastError } : {}) };
    },
  };
}
