/**
 * The Keras batch-scoring convention. Input: `{"values": <batch-first array>}`
 * (or keyed by input name). Output, under the input file name:
 * `{"fields": ["prediction", "prediction_classes", "probability"], "values": row}`
 * where a row is `[prediction, class, probability]`: model.predict's row, its
 * class (argmax, or p > 0.5 for a single sigmoid unit) and predict_proba's row
 * (the same numbers: Keras's predict_proba is predict). A record of one sample
 * gives that one row, exactly as the guide shows; a batch of N gives N rows.
 *
 * Our extension for models with several outputs (the guide has none): one
 * such `{fields, values}` group per output, keyed by the output's name:
 * `{"<file>": {"<output 1>": {"fields": [...], "values": ...}, "<output 2>": {...}}}`.
 */
import type { Signature, Tensor, TensorMap } from '../engines/engine.js';
import { namedTensorsFormat } from './named-tensors-format.js';
import type { RecordFormat } from './record-format.js';
import { encodeTensor } from './tensor-json.js';

export const KERAS_FIELDS = ['prediction', 'prediction_classes', 'probability'] as const;

export const kerasFormat: RecordFormat = {
  decode: namedTensorsFormat.decode,

  encode(fileName: string, outputs: TensorMap, signature: Signature) {
    if (signature.outputs.length === 1) return { [fileName]: scoredGroup(outputs[signature.outputs[0]!.name]!) };
    const byOutput: Record<string, unknown> = {};
    for (const spec of signature.outputs) byOutput[spec.name] = scoredGroup(outputs[spec.name]!);
    return { [fileName]: byOutput };
  },
};

function scoredGroup(output: Tensor): { fields: string[]; values: unknown } {
  const rows = encodeTensor(output) as unknown[];
  const scored = rows.map((row) => [row, classOf(row), row]);
  return { fields: [...KERAS_FIELDS], values: scored.length === 1 ? scored[0] : scored };
}

/** predict_classes: argmax over the last axis, or the 0.5 threshold for one sigmoid unit. */
export function classOf(row: unknown): unknown {
  if (!Array.isArray(row)) return Number(row) > 0.5 ? 1 : 0;
  if (Array.isArray(row[0])) return row.map(classOf); // e.g. per-timestep outputs
  const values = row as number[];
  if (values.length === 1) return values[0]! > 0.5 ? 1 : 0;
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}
