/**
 * Brings any Keras model config into the Keras 2 shape TensorFlow.js
 * deserialises. Keras 3 wraps every object in module/registered_name, writes
 * `batch_shape` and dtype policies, and has a new inbound-node format;
 * Keras 1 named many layer arguments differently. Only what inference needs
 * is translated; a layer that cannot be translated is refused by name.
 */
import { ModelLoadError } from '../../domain/errors.js';

type Json = Record<string, unknown>;

export interface LayerRef {
  readonly className: string;
  readonly name: string;
  readonly config: Readonly<Json>;
}

export function normaliseModelConfig(modelConfig: Json, kerasVersion: string, file: string): Json {
  const major = Number.parseInt(kerasVersion, 10);
  let config = stripKeras3Wrappers(structuredClone(modelConfig)) as Json;
  if (major === 1) config = translateKeras1(config, file);
  config = convertKeras3Functional(config);
  zeroInitialisers(config);
  return expandCausalPadding(config, file);
}

/** Every layer in a (possibly nested) model config, for support checks and error messages. */
export function listLayers(modelConfig: Json): LayerRef[] {
  const out: LayerRef[] = [];
  const visit = (model: Json): void => {
    for (const layer of layersOf(model)) {
      const config = (layer['config'] ?? {}) as Json;
      out.push({ className: String(layer['class_name']), name: String(config['name'] ?? ''), config });
      if (['Sequential', 'Model', 'Functional'].includes(String(layer['class_name']))) visit(layer);
    }
  };
  visit(modelConfig);
  return out;
}

function layersOf(model: Json): Json[] {
  const config = model['config'];
  if (Array.isArray(config)) return config as Json[]; // Keras <= 2.1 Sequential: the config is the layer list
  const layers = (config as Json | undefined)?.['layers'];
  return Array.isArray(layers) ? (layers as Json[]) : [];
}

const RECURRENT_LAYERS = new Set(['LSTM', 'GRU', 'SimpleRNN']);

const KERAS3_ONLY_KEYS = ['module', 'registered_name', 'build_config', 'compile_config', 'shared_object_id'];

function stripKeras3Wrappers(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stripKeras3Wrappers);
  if (value === null || typeof value !== 'object') return value;
  const object = value as Json;
  // A dtype policy object stands where Keras 2 had the dtype's name.
  if (object['class_name'] === 'DTypePolicy' || object['class_name'] === 'Policy') {
    return String(((object['config'] ?? {}) as Json)['name'] ?? 'float32');
  }
  const out: Json = {};
  for (const [key, inner] of Object.entries(object)) {
    if ('class_name' in object && KERAS3_ONLY_KEYS.includes(key)) continue;
    out[key] = stripKeras3Wrappers(inner);
  }
  if (out['class_name'] === 'InputLayer') {
    const config = out['config'] as Json;
    if (config['batch_shape'] !== undefined && config['batch_input_shape'] === undefined) {
      config['batch_input_shape'] = config['batch_shape'];
      delete config['batch_shape'];
    }
  }
  return out;
}

/** Keras 3 inbound nodes are `{args: [keras tensors], kwargs}`; Keras 2 wants `[[name, node, tensor, kwargs], ...]`. */
function convertKeras3Functional(config: Json): Json {
  for (const layer of layersOf(config)) {
    const nodes = layer['inbound_nodes'];
    if (Array.isArray(nodes)) {
      layer['inbound_nodes'] = nodes.map((node: unknown) => {
        if (Array.isArray(node)) return node;
        const { args = [], kwargs = {} } = node as { args?: unknown[]; kwargs?: Json };
        return collectHistories(args).map((history) => [...history, kwargs]);
      });
    }
    if (['Sequential', 'Model', 'Functional'].includes(String(layer['class_name']))) convertKeras3Functional(layer);
  }
  const inner = config['config'] as Json | undefined;
  if (inner && !Array.isArray(inner)) {
    for (const key of ['input_layers', 'output_layers']) {
      const refs = inner[key];
      // A single [name, node, tensor] reference is a list of one in Keras 2.
      if (Array.isArray(refs) && typeof refs[0] === 'string') inner[key] = [refs];
    }
  }
  return config;
}

function collectHistories(args: unknown): unknown[][] {
  if (Array.isArray(args)) return args.flatMap(collectHistories);
  const object = args as Json | null;
  if (object?.['class_name'] === '__keras_tensor__') return [((object['config'] as Json)['keras_history'] as unknown[])];
  return [];
}

const KERAS1_RENAMES: Record<string, string> = {
  output_dim: 'units',
  inner_activation: 'recurrent_activation',
  dropout_W: 'dropout',
  dropout_U: 'recurrent_dropout',
  bias: 'use_bias',
  input_dtype: 'dtype',
};

// Initialisers, regularisers and constraints only matter for training: dropped rather than translated.
const KERAS1_TRAINING_ONLY = [
  'init', 'inner_init', 'forget_bias_init', 'W_regularizer', 'U_regularizer', 'b_regularizer', 'W_constraint', 'U_constraint', 'b_constraint',
  'activity_regularizer', 'consume_less', 'input_dim', 'input_length',
];

const KERAS1_LAYERS = new Set(['Dense', 'Activation', 'Dropout', 'Flatten', 'LSTM', 'GRU', 'SimpleRNN', 'InputLayer', 'Convolution2D', 'MaxPooling2D', 'AveragePooling2D']);

/** Keras 1 image layers: `dim_ordering` th/tf, `border_mode`; Convolution2D's `nb_filter`, `nb_row`/`nb_col`, `subsample`. */
function translateKeras1Spatial(className: string, config: Json): string {
  if ('dim_ordering' in config) {
    config['data_format'] = config['dim_ordering'] === 'th' ? 'channels_first' : 'channels_last';
    delete config['dim_ordering'];
  }
  if ('border_mode' in config) {
    config['padding'] = config['border_mode'];
    delete config['border_mode'];
  }
  if (className !== 'Convolution2D') return className;
  config['filters'] = config['nb_filter'];
  config['kernel_size'] = [config['nb_row'], config['nb_col']];
  config['strides'] = config['subsample'] ?? [1, 1];
  for (const key of ['nb_filter', 'nb_row', 'nb_col', 'subsample']) delete config[key];
  return 'Conv2D';
}

function translateKeras1(model: Json, file: string): Json {
  if (model['class_name'] !== 'Sequential') {
    throw new ModelLoadError(`${file}: Keras 1 ${String(model['class_name'])} models are not supported (Keras 1 Sequential models are)`);
  }
  const keras1Classes: string[] = [];
  const layers = layersOf(model).map((layer, index) => {
    const keras1Class = String(layer['class_name']);
    const config = { ...(layer['config'] as Json) };
    if (!KERAS1_LAYERS.has(keras1Class)) {
      throw new ModelLoadError(`${file}: Keras 1 layer class ${keras1Class} (layer "${String(config['name'])}") is not supported; supported Keras 1 layers: ${[...KERAS1_LAYERS].join(', ')}`);
    }
    keras1Classes.push(keras1Class);
    if (index === 0 && config['batch_input_shape'] === undefined && typeof config['input_dim'] === 'number') {
      config['batch_input_shape'] = [null, config['input_dim']];
    }
    if (config['forget_bias_init'] !== undefined) config['unit_forget_bias'] = config['forget_bias_init'] === 'one';
    for (const [from, to] of Object.entries(KERAS1_RENAMES)) {
      if (from in config) {
        config[to] = config[from];
        delete config[from];
      }
    }
    for (const key of KERAS1_TRAINING_ONLY) delete config[key];
    return { class_name: translateKeras1Spatial(keras1Class, config), config };
  });
  // Keras 1 named a Sequential's input `<first layer class>_input_<uid>`: keep that name for records.
  const first = layers[0];
  const batchInputShape = first?.config['batch_input_shape'];
  if (first && first.class_name !== 'InputLayer' && batchInputShape !== undefined) {
    delete first.config['batch_input_shape'];
    layers.unshift({ class_name: 'InputLayer', config: { name: `${keras1Classes[0]!.toLowerCase()}_input_1`, batch_input_shape: batchInputShape } });
  }
  return { class_name: 'Sequential', config: { name: 'sequential', layers } };
}

/**
 * Weights are overwritten right after the model is built, so random
 * initialisation is wasted work (orthogonal init of a large recurrent kernel
 * takes seconds, and TF.js's fails on some backends): start from zeros.
 */
function zeroInitialisers(model: Json): void {
  for (const layer of layersOf(model)) {
    const config = layer['config'] as Json;
    // Keras 1 configs name no recurrent initialiser, and TF.js's default is orthogonal.
    if (RECURRENT_LAYERS.has(String(layer['class_name']))) config['recurrent_initializer'] ??= null;
    for (const key of Object.keys(config)) {
      if (key.endsWith('_initializer')) config[key] = { class_name: 'Zeros', config: {} };
    }
    if (['Sequential', 'Model', 'Functional'].includes(String(layer['class_name']))) zeroInitialisers(layer);
  }
}

/**
 * TF.js has no `causal` padding. Causal is "left-pad (kernel - 1) * dilation
 * steps, then a valid convolution", so a Sequential model gets a ZeroPadding1D
 * in front of each causal Conv1D; the weights are unchanged.
 */
function expandCausalPadding(model: Json, file: string): Json {
  const isCausal = (layer: Json) => (layer['config'] as Json)['padding'] === 'causal';
  const layers = layersOf(model);
  if (!layers.some(isCausal)) return model;
  if (model['class_name'] !== 'Sequential') {
    const layer = layers.find(isCausal)!;
    throw new ModelLoadError(`${file}: causal padding (layer "${String((layer['config'] as Json)['name'])}") is supported in Sequential models only`);
  }
  const expanded: Json[] = [];
  for (const layer of layers) {
    if (!isCausal(layer)) {
      expanded.push(layer);
      continue;
    }
    const config: Json = { ...(layer['config'] as Json), padding: 'valid' };
    const kernel = (config['kernel_size'] as number[])[0]!;
    const dilation = ((config['dilation_rate'] as number[] | undefined) ?? [1])[0]!;
    const padding: Json = { name: `${String(config['name'])}_causal_padding`, padding: [(kernel - 1) * dilation, 0] };
    // The first layer carries the model's input shape: an explicit input layer keeps the input's Keras name.
    if (config['batch_input_shape'] !== undefined) {
      expanded.push({ class_name: 'InputLayer', config: { name: `${String(config['name'])}_input`, batch_input_shape: config['batch_input_shape'] } });
      delete config['batch_input_shape'];
    }
    expanded.push({ class_name: 'ZeroPadding1D', config: padding }, { ...layer, config });
  }
  const inner = model['config'];
  return { ...model, config: Array.isArray(inner) ? expanded : { ...(inner as Json), layers: expanded } };
}
