/**
 * Records for tf.Example signatures, whose inputs are the parser's dense
 * features (see engines/tensorflow/example-parser-feeds.ts). Accepted:
 * - TF Serving's classify/regress JSON, `{"examples": [{"x": 1.0}, {"x": [2.0]}]}`:
 *   each example gives a feature as a number or a list of numbers (its
 *   float_list / int64_list), missing features take the graph's default;
 * - with one feature, rows under the signature's input key, as in the WML
 *   guide: `{"inputs": [[...], ...]}`;
 * - the features by name, batch first: `{"x": [[1.0], [2.0]]}`.
 * The result is `{feature: nested array}`, validated afterwards like any record.
 */
import { InvalidRecordError } from '../domain/errors.js';
import type { ExampleSignature, Signature, TensorSpec } from '../engines/engine.js';

const EXAMPLES_KEY = 'examples';

/** undefined when the record is not in the examples or rows form: it is then read as features by name. */
export function exampleRecordInputs(record: Readonly<Record<string, unknown>>, signature: Signature, examples: ExampleSignature): Record<string, unknown> | undefined {
  const isFeature = (key: string): boolean => signature.inputs.some((s) => s.name === key);
  if (EXAMPLES_KEY in record && !isFeature(EXAMPLES_KEY) && isExampleList(record[EXAMPLES_KEY])) {
    rejectOtherKeys(record, EXAMPLES_KEY);
    return fromExamples(record[EXAMPLES_KEY] as unknown[], signature, examples);
  }
  if (examples.input in record && !isFeature(examples.input)) {
    rejectOtherKeys(record, examples.input);
    if (signature.inputs.length !== 1) {
      const names = signature.inputs.map((s) => `"${s.name}"`).join(', ');
      throw new InvalidRecordError('MISSING_INPUT', `rows under "${examples.input}" need a signature with one feature; this one parses ${names}: give {"examples": [{...}, ...]}`);
    }
    return { [signature.inputs[0]!.name]: record[examples.input] };
  }
  return undefined;
}

function isExampleList(value: unknown): boolean {
  return Array.isArray(value) && value.length > 0 && value.every((e) => typeof e === 'object' && e !== null && !Array.isArray(e));
}

function rejectOtherKeys(record: Readonly<Record<string, unknown>>, key: string): void {
  const others = Object.keys(record).filter((k) => k !== key);
  if (others.length > 0) throw new InvalidRecordError('UNEXPECTED_INPUT', `"${key}" cannot be combined with other keys (${others.map((k) => JSON.stringify(k)).join(', ')})`);
}

function fromExamples(list: readonly unknown[], signature: Signature, examples: ExampleSignature): Record<string, unknown> {
  const known = new Set([...signature.inputs.map((s) => s.name), ...examples.ignored]);
  list.forEach((example, i) => {
    const unknown = Object.keys(example as object).filter((k) => !known.has(k));
    if (unknown.length > 0) {
      const features = signature.inputs.map((s) => `"${s.name}"`).join(', ');
      throw new InvalidRecordError('UNEXPECTED_INPUT', `examples[${i}]: unknown feature(s) ${unknown.map((k) => JSON.stringify(k)).join(', ')}; the model reads ${features}`);
    }
  });
  const inputs: Record<string, unknown> = {};
  for (const spec of signature.inputs) {
    inputs[spec.name] = list.map((example, i) => featureRows(example as Record<string, unknown>, spec, examples.defaults[spec.name], i));
  }
  return inputs;
}

/** One example's feature value, shaped as the dense shape (the spec's shape without its batch dimension). */
function featureRows(example: Record<string, unknown>, spec: TensorSpec, defaultValue: readonly number[] | undefined, index: number): unknown {
  const dims = spec.shape.slice(1) as number[];
  const size = dims.reduce((a, b) => a * b, 1);
  let values: unknown[];
  if (spec.name in example) {
    const value = example[spec.name];
    values = Array.isArray(value) ? value.flat(Infinity) : [value];
  } else if (defaultValue) {
    values = [...defaultValue];
  } else {
    throw new InvalidRecordError('MISSING_INPUT', `examples[${index}]: missing feature "${spec.name}", which has no default`);
  }
  if (values.length !== size) {
    throw new InvalidRecordError('SHAPE_MISMATCH', `examples[${index}] feature "${spec.name}": expected ${size} value(s) (dense shape [${dims.join(',')}]), got ${values.length}`);
  }
  return nest(values, dims);
}

function nest(values: readonly unknown[], dims: readonly number[]): unknown {
  if (dims.length === 0) return values[0];
  if (dims.length === 1) return [...values];
  const [first, ...rest] = dims;
  const step = values.length / first!;
  return Array.from({ length: first! }, (_, i) => nest(values.slice(i * step, (i + 1) * step), rest));
}
