/**
 * The TensorFlow convention: a record is keyed by the serving SignatureDef's
 * input keys, and the result is `[{"filename": "<file name>", "<output key>": [...]}]`.
 * TensorFlow Serving's columnar request shape is accepted too, since users
 * reuse their REST payloads: `{"inputs": <tensor>}` for a one-input signature,
 * `{"inputs": {"<key>": <tensor>, ...}}` for any. tf.Example signatures also
 * take TF Serving's `{"examples": [...]}` (tf-example-records.ts).
 */
import { InvalidRecordError } from '../domain/errors.js';
import type { Signature, Tensor, TensorMap } from '../engines/engine.js';
import type { RecordFormat } from './record-format.js';
import { exampleRecordInputs } from './tf-example-records.js';
import { decodeTensor, encodeTensor, formatSpecShape, isTensorValue } from './tensor-json.js';

const COLUMNAR_KEY = 'inputs';

export const tensorflowFormat: RecordFormat = {
  decode(record, signature) {
    const fromExamples = signature.examples ? exampleRecordInputs(record, signature, signature.examples) : undefined;
    const named = fromExamples ?? unwrapColumnar(record, signature);
    const allowed = new Set(signature.inputs.map((s) => s.name));
    const unexpected = Object.keys(named).filter((k) => !allowed.has(k));
    if (unexpected.length > 0) {
      throw new InvalidRecordError('UNEXPECTED_INPUT', `unexpected key(s) ${quoteList(unexpected)}; ${describeSignatureInputs(signature)}`);
    }
    const inputs: Record<string, Tensor> = {};
    for (const spec of signature.inputs) {
      if (!(spec.name in named)) {
        throw new InvalidRecordError('MISSING_INPUT', `missing input "${spec.name}"; ${describeSignatureInputs(signature)}`);
      }
      inputs[spec.name] = decodeTensor(named[spec.name], spec, spec.name);
    }
    return inputs;
  },

  encode(fileName, outputs: TensorMap, signature) {
    const body: Record<string, unknown> = { filename: fileName };
    for (const spec of signature.outputs) body[spec.name] = encodeTensor(outputs[spec.name]!);
    return [body];
  },
};

function describeSignatureInputs(signature: Signature): string {
  const inputs = signature.inputs.map((s) => `"${s.name}" ${s.dtype} ${formatSpecShape(s)}`).join(', ');
  return `the signature expects ${inputs}`;
}

/** The record as `{key: tensor}`, whether written that way or in TensorFlow Serving's columnar form. */
function unwrapColumnar(record: Readonly<Record<string, unknown>>, signature: Signature): Readonly<Record<string, unknown>> {
  const isKey = signature.inputs.some((s) => s.name === COLUMNAR_KEY);
  if (isKey || !(COLUMNAR_KEY in record)) return record;
  const others = Object.keys(record).filter((k) => k !== COLUMNAR_KEY);
  if (others.length > 0) {
    throw new InvalidRecordError('UNEXPECTED_INPUT', `"${COLUMNAR_KEY}" cannot be combined with other keys (${quoteList(others)}); ${describeSignatureInputs(signature)}`);
  }
  const value = record[COLUMNAR_KEY];
  if (typeof value === 'object' && value !== null && !isTensorValue(value)) return value as Record<string, unknown>;
  if (signature.inputs.length !== 1) {
    throw new InvalidRecordError('MISSING_INPUT', `"${COLUMNAR_KEY}" must be an object keyed by input name for a signature with ${signature.inputs.length} inputs; ${describeSignatureInputs(signature)}`);
  }
  return { [signature.inputs[0]!.name]: value };
}

function quoteList(keys: string[]): string {
  return keys.map((k) => JSON.stringify(k)).join(', ');
}
