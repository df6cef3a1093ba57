/**
 * Scores one record file's bytes with a loaded model. Pure of I/O, so the
 * scorer Lambda, the local stack and `dropscore predict` share it exactly.
 * Bad input never throws: it becomes an error outcome.
 */
import type { LoadedModel } from '../engines/engine-registry.js';
import { scoreRecords } from './batch-scoring.js';
import { DEFAULT_MAX_RECORD_BYTES, type Outcome } from './record-bytes.js';

export async function scoreRecord(bytes: Uint8Array, fileName: string, loaded: LoadedModel, maxBytes = DEFAULT_MAX_RECORD_BYTES): Promise<Outcome> {
  const [outcome] = await scoreRecords([{ bytes, size: bytes.length, fileName }], loaded, maxBytes);
  return outcome!;
}
