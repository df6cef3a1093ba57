/**
 * A record format is one framework's input/output convention (see README,
 * "Formats"): how a record file becomes named input tensors, and how output
 * tensors become the outcome document written under the input's file name.
 */
import type { Signature, TensorMap } from '../engines/engine.js';

export interface RecordFormat {
  decode(record: Readonly<Record<string, unknown>>, signature: Signature): TensorMap;
  encode(fileName: string, outputs: TensorMap, signature: Signature): unknown;
}
