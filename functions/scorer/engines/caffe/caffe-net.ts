/**
 * A scoring net as the prototxt defines it: its declared inputs and the
 * layers Caffe would instantiate in the TEST phase, in order. New-style
 * `layer` and V1 `layers` nets read into the same shape, with V1 enum types
 * renamed to the new type strings.
 */
import { ModelLoadError, describeError } from '../../domain/errors.js';
import { ParamReader } from './param-reader.js';
import { ProtoTextSyntaxError, parseProtoText, type TextMessage } from './protobuf-text-parser.js';
import { v1LayerTypeName } from './v1-layer-types.js';

export interface CaffeLayer {
  readonly name: string;
  /** New-style type name, e.g. "Convolution", also for V1 nets. */
  readonly type: string;
  readonly bottoms: readonly string[];
  readonly tops: readonly string[];
  /** The whole layer message; translators read their `*_param` from it. */
  readonly params: ParamReader;
  /** `<file>: layer "<name>" (<type>)`, for messages. */
  readonly where: string;
}

export interface CaffeInput {
  readonly blob: string;
  /** As declared, batch first (e.g. 64x1x28x28); the batch is free when scoring. */
  readonly shape: readonly number[];
  /** The Input layer that declares it; absent for net-level `input:` fields. */
  readonly layerName?: string;
}

export interface CaffeNet {
  readonly name: string;
  /** The prototxt path, named in messages. */
  readonly origin: string;
  readonly inputs: readonly CaffeInput[];
  /** Computing layers of the TEST phase, in order (Input layers are in `inputs`). */
  readonly layers: readonly CaffeLayer[];
  /** Layers left out by their include/exclude rules, as `name (type)`. */
  readonly excluded: readonly string[];
}

const PHASES = { TRAIN: 0, TEST: 1 } as const;

interface NetState {
  readonly level: number;
  readonly stages: readonly string[];
}

export function readCaffeNet(text: string, origin: string): CaffeNet {
  let message: TextMessage;
  try {
    message = parseProtoText(text);
  } catch (error) {
    if (error instanceof ProtoTextSyntaxError) {
      throw new ModelLoadError(`${origin}:${error.line}:${error.column}: not a valid prototxt: ${error.reason}`, { cause: error });
    }
    throw new ModelLoadError(`${origin}: cannot parse: ${describeError(error)}`, { cause: error });
  }
  const net = new ParamReader(message, origin);
  const newStyle = net.messages('layer');
  const v1Style = net.messages('layers');
  if (newStyle.length > 0 && v1Style.length > 0) {
    net.fail('has both "layer" and the pre-2015 "layers" fields; a net uses one or the other');
  }
  if (newStyle.length === 0 && v1Style.length === 0) net.fail('defines no layers (no "layer { ... }" blocks); is this a Caffe net prototxt?');

  // Scoring runs the TEST phase; level and stages may still be set in the file.
  const stateParams = net.message('state');
  const state: NetState = { level: stateParams.integer('level', 0), stages: stateParams.strings('stage') };

  const inputs: CaffeInput[] = [...readNetLevelInputs(net)];
  const layers: CaffeLayer[] = [];
  const excluded: string[] = [];
  const all = newStyle.length > 0 ? newStyle.map((p, i) => readLayer(p, i, origin)) : v1Style.map((p, i) => readV1Layer(p, i, origin));
  for (const layer of all) {
    if (!isIncluded(layer, state)) {
      excluded.push(`${layer.name} (${layer.type})`);
      continue;
    }
    if (layer.type === 'Input') inputs.push(...readInputLayer(layer));
    else layers.push(layer);
  }
  const seen = new Set<string>();
  for (const input of inputs) {
    if (seen.has(input.blob)) net.fail(`input blob "${input.blob}" is declared twice`);
    seen.add(input.blob);
  }
  if (inputs.length === 0) {
    net.fail('declares no inputs: a scoring net needs an Input layer (input_param { shape { dim: ... } }) or "input:" with "input_shape"/"input_dim"');
  }
  return { name: net.string('name', ''), origin, inputs, layers, excluded };
}

function readLayer(params: ParamReader, index: number, origin: string): CaffeLayer {
  const name = params.string('name', `#${index + 1}`);
  const type = params.string('type', '');
  const where = `${origin}: layer "${name}" (${type || 'no type'})`;
  const scoped = new ParamReader(params.text, where);
  if (type === '') scoped.fail('has no "type"');
  return { name, type, bottoms: scoped.strings('bottom'), tops: scoped.strings('top'), params: scoped, where };
}

function readV1Layer(params: ParamReader, index: number, origin: string): CaffeLayer {
  const name = params.string('name', `#${index + 1}`);
  const placeholder = new ParamReader(params.text, `${origin}: layers "${name}"`);
  if (params.has('layer')) placeholder.fail('uses the V0 layer format (a "layer" block inside "layers"), which predates 2014 and is not supported; upgrade the net with Caffe\'s upgrade_net_proto_text tool');
  const field = params.text.last('type');
  let type: string | undefined;
  if (field?.value.kind === 'identifier') type = v1LayerTypeName(field.value.value);
  else if (field?.value.kind === 'number') type = v1LayerTypeName(field.value.value);
  else if (field?.value.kind === 'string') type = field.value.value;
  if (type === undefined) return placeholder.fail(field ? 'has an unknown V1 layer type' : 'has no "type"');
  const where = `${origin}: layers "${name}" (${type})`;
  const scoped = new ParamReader(params.text, where);
  return { name, type, bottoms: scoped.strings('bottom'), tops: scoped.strings('top'), params: scoped, where };
}

function readNetLevelInputs(net: ParamReader): CaffeInput[] {
  const names = net.strings('input');
  const shapes = net.messages('input_shape');
  const dims = net.integers('input_dim');
  if (names.length === 0) {
    if (shapes.length > 0 || dims.length > 0) net.fail('has "input_shape"/"input_dim" but no "input" names');
    return [];
  }
  if (shapes.length > 0) {
    if (dims.length > 0) net.fail('has both "input_shape" and "input_dim"; use one');
    if (shapes.length !== names.length) net.fail(`declares ${names.length} input(s) but ${shapes.length} "input_shape"(s)`);
    return names.map((blob, i) => ({ blob, shape: readDims(shapes[i]!, `input "${blob}"`) }));
  }
  if (dims.length !== 4 * names.length) {
    net.fail(`declares ${names.length} input(s), so "input_dim" must appear ${4 * names.length} times (N, C, H, W per input); found ${dims.length}`);
  }
  return names.map((blob, i) => ({ blob, shape: checkDims(dims.slice(4 * i, 4 * i + 4), net, `input "${blob}"`) }));
}

function readInputLayer(layer: CaffeLayer): CaffeInput[] {
  const shapes = layer.params.message('input_param').messages('shape');
  if (layer.tops.length === 0) layer.params.fail('has no "top"');
  if (shapes.length === 0) layer.params.fail('has no input_param { shape { dim: ... } }: the input shape must be declared to translate the net');
  if (shapes.length !== 1 && shapes.length !== layer.tops.length) {
    layer.params.fail(`has ${layer.tops.length} tops but ${shapes.length} shapes; give one shape, or one per top`);
  }
  return layer.tops.map((blob, i) => ({ blob, layerName: layer.name, shape: readDims(shapes[shapes.length === 1 ? 0 : i]!, `shape of "${blob}"`) }));
}

function readDims(shape: ParamReader, what: string): number[] {
  return checkDims(shape.integers('dim'), shape, what);
}

function checkDims(dims: number[], reader: ParamReader, what: string): number[] {
  if (dims.length === 0) reader.fail(`${what} has no dims`);
  if (dims.some((d) => d <= 0)) reader.fail(`${what} has a non-positive dim (${dims.join('x')})`);
  return dims;
}

function isIncluded(layer: CaffeLayer, state: NetState): boolean {
  const include = layer.params.messages('include');
  const exclude = layer.params.messages('exclude');
  if (include.length > 0 && exclude.length > 0) layer.params.fail('has both include and exclude rules; Caffe allows one kind only');
  if (include.length > 0) return include.some((rule) => meetsRule(rule, state));
  return !exclude.some((rule) => meetsRule(rule, state));
}

function meetsRule(rule: ParamReader, state: NetState): boolean {
  if (rule.has('phase') && rule.enumValue('phase', PHASES, 'TEST') !== 'TEST') return false;
  if (rule.has('min_level') && state.level < rule.integer('min_level')) return false;
  if (rule.has('max_level') && state.level > rule.integer('max_level')) return false;
  if (rule.strings('stage').some((s) => !state.stages.includes(s))) return false;
  if (rule.strings('not_stage').some((s) => state.stages.includes(s))) return false;
  return true;
}
