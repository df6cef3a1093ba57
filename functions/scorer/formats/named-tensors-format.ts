/**
 * The Caffe-style convention, also used for ONNX: a record is keyed by the
 * model's input names (`values` is accepted when there is a single input), and
 * the result is `{"<file name>": {"<output name>": [...]}}`.
 */
import { InvalidRecordError } from '../domain/errors.js';
import type { Signature, Tensor, TensorMap } from '../engines/engine.js';
import type { RecordFormat } from './record-format.js';
import { decodeTensor, encodeTensor, formatShape } from './tensor-json.js';

const SINGLE_INPUT_ALIAS = 'values';

export const namedTensorsFormat: RecordFormat = {
  decode(record, signature) {
    const single = signature.inputs.length === 1;
    const allowed = new Set(signature.inputs.map((s) => s.name));
    if (single) allowed.add(SINGLE_INPUT_ALIAS);
    const unexpected = Object.keys(record).filter((k) => !allowed.has(k));
    if (unexpected.length > 0) {
      throw new InvalidRecordError('UNEXPECTED_INPUT', `unexpected key(s) ${quoteList(unexpected)}; ${describeInputs(signature)}`);
    }
    const inputs: Record<string, Tensor> = {};
    for (const spec of signature.inputs) {
      const key = spec.name in record ? spec.name : single && SINGLE_INPUT_ALIAS in record ? SINGLE_INPUT_ALIAS : undefined;
      if (key === undefined) {
        throw new InvalidRecordError('MISSING_INPUT', `missing input "${spec.name}"; ${describeInputs(signature)}`);
      }
      inputs[spec.name] = decodeTensor(record[key], spec, key);
    }
    return inputs;
  },

  encode(fileName, outputs: TensorMap, signature) {
    const body: Record<string, unknown> = {};
    for (const spec of signature.outputs) body[spec.name] = encodeTensor(outputs[spec.name]!);
    return { [fileName]: body };
  },
};

export function describeInputs(signature: Signature): string {
  const inputs = signature.inputs.map((s) => `"${s.name}" ${s.dtype} ${formatShape(s.shape)}`).join(', ');
  const alias = signature.inputs.length === 1 ? ` (or "${SINGLE_INPUT_ALIAS}")` : '';
  return `the model expects ${inputs}${alias}`;
}

function quoteList(keys: string[]): string {
  return keys.map((k) => JSON.stringify(k)).join(', ');
}
