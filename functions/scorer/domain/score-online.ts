/** Online scoring of a payload of rows with a loaded model: the CLI's `score` and the scoring endpoint share it. */
import type { LoadedModel } from '../engines/engine-registry.js';
import { decodeOnlinePayload, encodeOnlineResult, type OnlineResult } from '../formats/online-format.js';
import { DropscoreError, PredictionError, describeError } from './errors.js';
import { parseRecord } from './record-bytes.js';

export type OnlineOutcome = { readonly kind: 'result'; readonly body: OnlineResult } | { readonly kind: 'error'; readonly error: DropscoreError };

export async function scoreOnline(bytes: Uint8Array, loaded: LoadedModel): Promise<OnlineOutcome> {
  try {
    const inputs = decodeOnlinePayload(parseRecord(bytes), loaded.model.signature);
    let outputs;
    try {
      outputs = await loaded.model.predict(inputs);
    } catch (error) {
      throw error instanceof DropscoreError ? error : new PredictionError(describeError(error), { cause: error });
    }
    return { kind: 'result', body: encodeOnlineResult(outputs, loaded.model.signature, loaded.format) };
  } catch (error) {
    if (error instanceof DropscoreError) return { kind: 'error', error };
    throw error;
  }
}
