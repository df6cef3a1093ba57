/**
 * `dropscore predict <model-dir> <record.json>`: scores one record offline,
 * with no servers, and prints the outcome exactly as the scorer would write it
 * (the error record, and exit code 1, when the record or model is bad).
 */
import { readFile } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { DropscoreError, InvalidRecordError, asModelLoadError, describeError } from '../functions/scorer/domain/errors.js';
import { errorRecord } from '../functions/scorer/domain/outcome-object.js';
import { DEFAULT_MAX_RECORD_BYTES } from '../functions/scorer/domain/record-bytes.js';
import { scoreRecord } from '../functions/scorer/domain/score-record.js';
import { loadModel } from '../functions/scorer/engines/framework-engines.js';

export interface PredictOutput {
  readonly exitCode: 0 | 1;
  /** The outcome document, serialised as the scorer serialises it. */
  readonly json: string;
}

export async function predict(modelDir: string, recordPath: string, maxBytes = DEFAULT_MAX_RECORD_BYTES): Promise<PredictOutput> {
  const input = { file: resolve(recordPath) };
  const failed = (error: DropscoreError, model: { name: string; framework?: string }): PredictOutput => ({
    exitCode: 1,
    json: JSON.stringify(errorRecord(error, { input, model })),
  });

  let loaded;
  try {
    loaded = await loadModel(resolve(modelDir));
  } catch (error) {
    return failed(asModelLoadError(error), { name: basename(resolve(modelDir)) });
  }
  const model = { name: loaded.artifact.meta.name, framework: loaded.artifact.meta.framework };

  let bytes: Uint8Array;
  try {
    bytes = await readFile(recordPath);
  } catch (error) {
    return failed(new InvalidRecordError('UNREADABLE_RECORD', `cannot read ${recordPath}: ${describeError(error)}`), model);
  }
  const outcome = await scoreRecord(bytes, basename(recordPath), loaded, maxBytes);
  return outcome.kind === 'result' ? { exitCode: 0, json: JSON.stringify(outcome.body) } : failed(outcome.error, model);
}
