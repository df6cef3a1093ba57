/**
 * tf.Example signatures (TF Serving's classify/regress, Estimator exports, the
 * WML guide's CLASSIFY_METHOD_NAME): a DT_STRING input of serialized
 * tf.Example protos feeds ParseExample / ParseExampleV2. TensorFlow.js has no
 * parser, and records are JSON anyway, so the parser's dense outputs become
 * the graph's inputs: each dense feature the signature's outputs use is a
 * placeholder `[N, ...dense_shape]`, fed with the feature values a record
 * gives (or the graph's default). Op signatures (input and output order,
 * attrs) are those of tensorflow/core/ops/parsing_ops.cc.
 */
import { ModelLoadError } from '../../domain/errors.js';
import type { WorkingGraph } from './function-inliner.js';
import { DT, baseType, dtypeName, numElements, parseTensorRef, type NodeDef, type TensorShape, type TensorValue } from './tf-graph.js';

export interface ExampleFeature {
  /** The tf.Example feature key, which records use. */
  readonly key: string;
  readonly dtype: number;
  /** `[-1, ...dense_shape]`. */
  readonly shape: TensorShape;
  /** Row-major values of one example's default; undefined when the feature is required. */
  readonly defaultValue?: readonly number[];
  /** The placeholder that now stands for the parser's dense output. */
  readonly placeholder: string;
}

export interface ParsedExampleInput {
  readonly parserOp: string;
  /** Dense features the signature's outputs depend on, in the parser's order. */
  readonly features: readonly ExampleFeature[];
  /** The parser's other feature keys (unused dense and sparse ones): records may carry them. */
  readonly otherKeys: readonly string[];
}

const PARSER_OPS = new Set(['ParseExample', 'ParseExampleV2']);
const PASS_THROUGH = new Set(['Identity', 'Reshape', 'Snapshot', 'StopGradient']);
const FEATURE_DTYPES = new Set<number>([DT.FLOAT, DT.INT64]);

/**
 * Rewires the graph so that `fetches` read the parser's dense outputs from new
 * placeholders instead of from the parser fed by `stringInput`.
 */
export function replaceExampleParser(graph: WorkingGraph, stringInput: string, fetches: readonly string[], what: string): ParsedExampleInput {
  const source = parseTensorRef(graph.resolve(stringInput));
  const parsers = [...graph.nodes.values()].filter((n) => PARSER_OPS.has(n.op) && sameTensor(graph, n.input[0], source));
  if (parsers.length !== 1) {
    const found = parsers.length === 0 ? 'no ParseExample or ParseExampleV2 reads it' : `${parsers.length} parsers read it`;
    throw new ModelLoadError(`${what} is a DT_STRING tensor and ${found}; string inputs are supported only as serialized tf.Example for one parser`);
  }
  const parser = parsers[0]!;
  const layout = parserLayout(graph, parser);

  const used = new Map<number, string>();
  const taken = new Set(graph.nodes.keys());
  const placeholderFor = (k: number): string => {
    let name = used.get(k);
    if (name) return name;
    name = `${parser.name}/dense_${k}`;
    for (let n = 1; taken.has(name); n++) name = `${parser.name}/dense_${k}_${n}`;
    taken.add(name);
    used.set(k, name);
    return name;
  };
  for (const node of [...graph.nodes.values()]) {
    let changed = false;
    const input = node.input.map((ref) => {
      const r = parseTensorRef(graph.resolve(ref));
      if (r.node !== parser.name || r.index < 0) return ref;
      const k = r.index - layout.firstDense;
      if (k < 0 || k >= layout.denseKeys.length) {
        throw new ModelLoadError(`${what}: ${node.op} "${node.name}" uses a sparse or ragged output of ${parser.op} "${parser.name}"; only dense tf.Example features are supported`);
      }
      changed = true;
      return placeholderFor(k);
    });
    if (changed) graph.nodes.set(node.name, { ...node, input });
  }

  const reached = reachable(graph, fetches);
  const features: ExampleFeature[] = [];
  for (const [k, key] of layout.denseKeys.entries()) {
    const name = used.get(k);
    if (!name) continue;
    const dtype = layout.denseTypes[k]!;
    const denseShape = layout.denseShapes[k]!;
    const shape: TensorShape = { dims: [-1, ...denseShape] };
    graph.nodes.set(name, { name, op: 'Placeholder', input: [], device: '', attr: { dtype: { kind: 'type', value: dtype }, shape: { kind: 'shape', value: shape } } });
    if (!reached.has(name)) continue;
    if (!FEATURE_DTYPES.has(dtype)) throw new ModelLoadError(`${what}: tf.Example feature "${key}" is ${dtypeName(dtype)}; supported: DT_FLOAT, DT_INT64`);
    if (denseShape.some((d) => d < 0)) throw new ModelLoadError(`${what}: tf.Example feature "${key}" has a variable-length dense shape [${denseShape.join(',')}], which is not supported`);
    const defaultValue = defaultValues(graph, parser.input[layout.firstDefault + k]!, numElements(denseShape), key, what);
    features.push({ key, dtype, shape, ...(defaultValue ? { defaultValue } : {}), placeholder: name });
  }
  if (features.length === 0) throw new ModelLoadError(`${what}: the signature's outputs use no dense feature of ${parser.op} "${parser.name}"`);
  const featureKeys = new Set(features.map((f) => f.key));
  return { parserOp: parser.op, features, otherKeys: [...layout.denseKeys, ...layout.sparseKeys].filter((k) => !featureKeys.has(k)) };
}

interface ParserLayout {
  readonly sparseKeys: readonly string[];
  readonly denseKeys: readonly string[];
  readonly denseTypes: readonly number[];
  readonly denseShapes: readonly (readonly number[])[];
  /** Index of the first dense_defaults input. */
  readonly firstDefault: number;
  /** Output index of the first dense value. */
  readonly firstDense: number;
}

function parserLayout(graph: WorkingGraph, parser: NodeDef): ParserLayout {
  const list = parser.attr['Tdense'];
  const denseTypes = list?.kind === 'list' ? list.value.type.map(baseType) : [];
  const shapes = parser.attr['dense_shapes'];
  const denseShapes = shapes?.kind === 'list' ? shapes.value.shape.map((s) => s.dims ?? [-1]) : [];
  const data = parser.input.filter((i) => !i.startsWith('^'));
  if (parser.op === 'ParseExample') {
    // serialized, names, sparse_keys[Nsparse], dense_keys[Ndense], dense_defaults[Ndense]
    const nSparse = intAttr(parser, 'Nsparse');
    const nDense = intAttr(parser, 'Ndense');
    const keyAt = (i: number): string[] => constantStrings(graph, data[i]!);
    const sparseKeys = Array.from({ length: nSparse }, (_, i) => keyAt(2 + i)).flat();
    const denseKeys = Array.from({ length: nDense }, (_, i) => keyAt(2 + nSparse + i)).flat();
    return { sparseKeys, denseKeys, denseTypes, denseShapes, firstDefault: 2 + nSparse + nDense, firstDense: 3 * nSparse };
  }
  // ParseExampleV2: serialized, names, sparse_keys, dense_keys, ragged_keys, dense_defaults[Tdense]
  const nSparse = intAttr(parser, 'num_sparse');
  return {
    sparseKeys: [...constantStrings(graph, data[2]!), ...constantStrings(graph, data[4]!)],
    denseKeys: constantStrings(graph, data[3]!),
    denseTypes,
    denseShapes,
    firstDefault: 5,
    firstDense: 3 * nSparse,
  };
}

function intAttr(node: NodeDef, name: string): number {
  const a = node.attr[name];
  return a?.kind === 'i' ? a.value : 0;
}

function sameTensor(graph: WorkingGraph, ref: string | undefined, target: { node: string; index: number }): boolean {
  if (ref === undefined) return false;
  const r = parseTensorRef(graph.resolve(ref));
  return r.node === target.node && r.index === target.index;
}

/** The constant a tensor holds, looking through Identity/Reshape (feature keys and defaults are constants). */
function constantValue(graph: WorkingGraph, ref: string): TensorValue | undefined {
  let node = graph.nodes.get(parseTensorRef(graph.resolve(ref)).node);
  for (let hops = 0; node && hops < 16; hops++) {
    if (node.op === 'Const') {
      const value = node.attr['value'];
      return value?.kind === 'tensor' ? value.value : undefined;
    }
    if (!PASS_THROUGH.has(node.op)) return undefined;
    node = graph.nodes.get(parseTensorRef(graph.resolve(node.input[0]!)).node);
  }
  return undefined;
}

function constantStrings(graph: WorkingGraph, ref: string): string[] {
  const value = constantValue(graph, ref);
  if (!value?.strings) throw new ModelLoadError(`the tf.Example parser's feature keys at "${ref}" are not a constant`);
  const utf8 = new TextDecoder();
  return value.strings.map((s) => utf8.decode(s));
}

function defaultValues(graph: WorkingGraph, ref: string, size: number, key: string, what: string): number[] | undefined {
  const value = constantValue(graph, ref);
  if (!value) throw new ModelLoadError(`${what}: the default of tf.Example feature "${key}" is not a constant`);
  const values = numbersOf(value);
  if (values.length === 0) return undefined;
  if (values.length === size) return values;
  if (values.length === 1) return new Array<number>(size).fill(values[0]!);
  throw new ModelLoadError(`${what}: the default of tf.Example feature "${key}" has ${values.length} values for a dense shape of ${size}`);
}

function numbersOf(value: TensorValue): number[] {
  const view = new DataView(value.content.buffer, value.content.byteOffset, value.content.byteLength);
  const n = numElements(value.shape);
  switch (baseType(value.dtype)) {
    case DT.FLOAT:
      return Array.from({ length: n }, (_, i) => view.getFloat32(4 * i, true));
    case DT.INT64:
      return Array.from({ length: n }, (_, i) => Number(view.getBigInt64(8 * i, true)));
    default:
      throw new ModelLoadError(`tf.Example defaults of type ${dtypeName(value.dtype)} are not supported`);
  }
}

function reachable(graph: WorkingGraph, fetches: readonly string[]): Set<string> {
  const seen = new Set<string>();
  const stack = fetches.map((f) => parseTensorRef(graph.resolve(f)).node);
  while (stack.length > 0) {
    const name = stack.pop()!;
    if (seen.has(name)) continue;
    seen.add(name);
    for (const input of graph.nodes.get(name)?.input ?? []) {
      if (!input.startsWith('^')) stack.push(parseTensorRef(graph.resolve(input)).node);
    }
  }
  return seen;
}

