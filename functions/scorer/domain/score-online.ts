/**
 * Online scoring of a payload of rows with a loaded model: the scoring
 * endpoint, the CLI's `score` and the console share it. Every row is a
 * prediction counted against the instance's limit, like a scored record's.
 */
import type { LoadedModel } from '../engines/engine-registry.js';
import { decodeOnlinePayload, encodeOnlineResult, type OnlineResult } from '../formats/online-format.js';
import { DropscoreError, PredictionError, describeError, predictionLimitReached } from './errors.js';
import type { UsageMeter } from './ports.js';
import { parseRecord } from './record-bytes.js';

export type OnlineOutcome = { readonly kind: 'result'; readonly body: OnlineResult } | { readonly kind: 'error'; readonly error: DropscoreError };

export async function scoreOnline(bytes: Uint8Array, loaded: LoadedModel, usage: UsageMeter): Promise<OnlineOutcome> {
  try {
    const inputs = decodeOnlinePayload(parseRecord(bytes), loaded.model.signature);
    const rows = Object.values(inputs)[0]?.shape[0] ?? 1;
    const quota = await usage.consumePredictions(rows, { allOrNothing: true, online: true });
    if (quota.granted < rows) throw predictionLimitReached(quota);
    let outputs;
    try {
      outputs = await loaded.model.predict(inputs);
    } catch (error) {
      // Not a prediction made: it does not count.
      await usage.refundPredictions(rows, { online: true });
      throw error instanceof DropscoreError ? error : new PredictionError(describeError(error), { cause: error });
    }
    return { kind: 'result', body: encodeOnlineResult(outputs, loaded.model.signature, loaded.format) };
  } catch (error) {
    if (error instanceof DropscoreError) return { kind: 'error', error };
    throw error;
  }
}
