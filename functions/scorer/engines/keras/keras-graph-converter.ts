/**
 * A Keras model, as TensorFlow.js layers built it, rewritten as a frozen
 * TensorFlow graph that TensorFlow.js's graph executor runs: the op each layer
 * runs at inference (the same TensorFlow.js kernels, fused where TensorFlow.js
 * layers fuses them: bias and relu / elu into Conv and Dense), its weights as
 * constants. Done when a model is packaged, so a Keras scorer needs neither
 * h5wasm nor TensorFlow.js layers at run time.
 *
 * Only layers whose inference is one of these ops are rewritten; a model with
 * any other layer (recurrent layers, embeddings, channels_first, nested
 * models...) is refused by name and keeps the Keras engine.
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import type { Tensor as TfTensor } from '@tensorflow/tfjs-core';
import { DT, type AttrValue, type NodeDef } from '../tensorflow/tf-graph.js';
import { toTfjsArtifacts, type TfjsGraphArtifacts } from '../tensorflow/tfjs-artifacts.js';

export class KerasConversionError extends Error {
  override readonly name = 'KerasConversionError';
}

/** A graph tensor of the model as the executor names it, with the Keras name records use. */
export interface GraphEndpoint {
  readonly key: string;
  readonly node: string;
  readonly shape: readonly (number | null)[];
}

export interface KerasGraph {
  readonly artifacts: TfjsGraphArtifacts;
  readonly inputs: readonly GraphEndpoint[];
  readonly outputs: readonly GraphEndpoint[];
}

type SymbolicTensor = tfl.SymbolicTensor;
type Layer = tfl.layers.Layer;
type Config = Record<string, unknown>;

/** Keras activations and the graph op TensorFlow.js layers' own implementation amounts to. */
const ACTIVATION_OPS: Readonly<Record<string, string | null>> = {
  linear: null, relu: 'Relu', relu6: 'Relu6', elu: 'Elu', selu: 'Selu', sigmoid: 'Sigmoid', tanh: 'Tanh', softplus: 'Softplus', softmax: 'Softmax', logSoftmax: 'LogSoftmax',
};
/** What TensorFlow.js layers fuses into conv2d / matMul (its mapActivationToFusedKernel). */
const FUSED_ACTIVATIONS: Readonly<Record<string, string>> = { relu: 'Relu', elu: 'Elu' };

/** Layers whose meaning depends on the tensor layout: only channels_last is rewritten. */
const LAYOUT_SENSITIVE = ['Conv2D', 'Conv1D', 'MaxPooling2D', 'AveragePooling2D', 'Flatten', 'BatchNormalization'];

/** `label` names the model file in messages. Throws KerasConversionError naming every layer it cannot rewrite. */
export function convertKerasModel(model: tfl.LayersModel, label: string): KerasGraph {
  const problems = new Set<string>();
  const nodes: NodeDef[] = [];
  const emitted = new Map<string, string>();
  const weightNodes = new Set<string>();

  const refuse = (layer: Layer, why: string) => problems.add(`${layer.getClassName()} (layer "${layer.name}"): ${why}`);
  const constant = (name: string, tensor: TfTensor | { shape: number[]; data: Float32Array | Int32Array }, dtype: 'float32' | 'int32' = 'float32') => {
    if (weightNodes.has(name)) return name;
    weightNodes.add(name);
    const data = 'dataSync' in tensor ? (tensor.dataSync() as Float32Array | Int32Array) : tensor.data;
    const typed = dtype === 'int32' ? Int32Array.from(data) : Float32Array.from(data);
    nodes.push(node(name, 'Const', [], { dtype: type(dtype === 'int32' ? DT.INT32 : DT.FLOAT), value: { kind: 'tensor', value: { dtype: dtype === 'int32' ? DT.INT32 : DT.FLOAT, shape: [...tensor.shape], content: new Uint8Array(typed.buffer) } } }));
    return name;
  };

  const visit = (tensor: SymbolicTensor): string => {
    const layer = tensor.sourceLayer as Layer;
    const key = `${layer.name}#${tensor.nodeIndex}#${tensor.tensorIndex}`;
    const done = emitted.get(key);
    if (done !== undefined) return done;
    const inbound = (layer as unknown as { inboundNodes: { inputTensors: SymbolicTensor[] }[] }).inboundNodes[tensor.nodeIndex];
    // An InputLayer's node lists its own output as its input.
    const inputTensors = layer.getClassName() === 'InputLayer' ? [] : inbound?.inputTensors ?? [];
    const inputs = inputTensors.map(visit);
    const name = tensor.nodeIndex === 0 ? layer.name : `${layer.name}_${tensor.nodeIndex}`;
    const out = tensor.tensorIndex === 0 ? rewriteLayer(layer, name, inputs, inputTensors, { nodes, constant, refuse }) : (refuse(layer, 'a layer with several outputs'), name);
    emitted.set(key, out);
    return out;
  };

  const outputs = model.outputs.map((t, i) => ({ key: uniqueName(model.outputs.map((o) => o.sourceLayer.name), i), node: visit(t), shape: t.shape }));
  const inputs = model.inputs.map((t, i) => {
    if (t.dtype !== 'float32') refuse(t.sourceLayer as Layer, `input dtype ${t.dtype} (only float32 inputs are rewritten)`);
    return { key: uniqueName(model.inputs.map((o) => o.sourceLayer.name), i), node: emitted.get(`${t.sourceLayer.name}#${t.nodeIndex}#${t.tensorIndex}`) ?? t.sourceLayer.name, shape: t.shape };
  });
  if (problems.size > 0) throw new KerasConversionError(`${label}: cannot be rewritten as a TensorFlow graph: ${[...problems].join('; ')}`);
  // An output may be another layer's node (a trailing Dropout's input): the signature maps the Keras name to it.
  return { artifacts: toTfjsArtifacts(nodes, 0), inputs, outputs };
}

interface Emitter {
  readonly nodes: NodeDef[];
  readonly constant: (name: string, tensor: TfTensor | { shape: number[]; data: Float32Array | Int32Array }, dtype?: 'float32' | 'int32') => string;
  readonly refuse: (layer: Layer, why: string) => void;
}

/** Emits the nodes of one layer applied to `inputs`; returns the node holding its output. */
function rewriteLayer(layer: Layer, name: string, inputs: readonly string[], inputTensors: readonly SymbolicTensor[], e: Emitter): string {
  const config = layer.getConfig() as Config;
  const className = layer.getClassName();
  const weights = weightsByRole(layer);
  const add = (nodeName: string, op: string, from: readonly string[], attr: Record<string, AttrValue> = {}) => {
    e.nodes.push(node(nodeName, op, from, { T: type(DT.FLOAT), ...attr }));
    return nodeName;
  };
  if ((layer as unknown as { layers?: unknown }).layers !== undefined) {
    e.refuse(layer, 'a nested model');
    return name;
  }
  if (LAYOUT_SENSITIVE.includes(className) && config['dataFormat'] !== undefined && config['dataFormat'] !== 'channelsLast') {
    e.refuse(layer, `data_format ${String(config['dataFormat'])}`);
    return name;
  }
  const input = inputs[0] ?? '';
  const inputRank = inputTensors[0]?.shape.length ?? 0;
  switch (className) {
    case 'InputLayer':
      e.nodes.push(node(name, 'Placeholder', [], { dtype: type(DT.FLOAT), shape: { kind: 'shape', value: { dims: (layer as unknown as { batchInputShape: (number | null)[] }).batchInputShape.map((d) => d ?? -1) } } }));
      return name;
    case 'Dropout':
    case 'SpatialDropout1D':
    case 'SpatialDropout2D':
    case 'GaussianNoise':
    case 'GaussianDropout':
    case 'AlphaDropout':
      // Identity at inference (Keras applies them only in training).
      return input;
    case 'Activation':
      return activation(String(config['activation']), name, input, add, () => e.refuse(layer, `activation ${String(config['activation'])}`));
    case 'Softmax': {
      const axis = Array.isArray(config['axis']) && config['axis'].length === 1 ? config['axis'][0] : config['axis'];
      if (!(axis === -1 || axis === inputRank - 1)) {
        e.refuse(layer, `softmax over axis ${JSON.stringify(axis)} (only the last axis is rewritten)`);
        return name;
      }
      return add(name, 'Softmax', [input]);
    }
    case 'ReLU': {
      if (config['maxValue'] != null || (config['negativeSlope'] ?? 0) !== 0 || (config['threshold'] ?? 0) !== 0) {
        e.refuse(layer, 'a ReLU with max_value, negative_slope or threshold');
        return name;
      }
      return add(name, 'Relu', [input]);
    }
    case 'Flatten': {
      const size = inputTensors[0]!.shape.slice(1).reduce<number | null>((n, d) => (n === null || d === null ? null : n * d), 1);
      if (size === null) {
        e.refuse(layer, 'flattening an input of unknown size');
        return name;
      }
      const shape = e.constant(`${name}/shape`, { shape: [2], data: Int32Array.from([-1, size]) }, 'int32');
      return add(name, 'Reshape', [input, shape], { Tshape: type(DT.INT32) });
    }
    case 'Dense': {
      if (inputRank !== 2) {
        e.refuse(layer, `a Dense layer on a rank-${inputRank} input (only rank 2 is rewritten)`);
        return name;
      }
      const kernel = e.constant(`${name}/kernel`, weights.require('kernel'));
      return withBiasAndActivation(layer, name, config, weights, 'MatMul', [input, kernel], { transpose_a: bool(false), transpose_b: bool(false) }, add, e);
    }
    case 'Conv2D': {
      const strides = numbers(config['strides'], 2);
      const dilations = numbers(config['dilationRate'], 2);
      const padding = String(config['padding']);
      if (padding !== 'valid' && padding !== 'same') {
        e.refuse(layer, `padding ${padding}`);
        return name;
      }
      const kernel = e.constant(`${name}/kernel`, weights.require('kernel'));
      return withBiasAndActivation(layer, name, config, weights, 'Conv2D', [input, kernel], {
        strides: ints([1, strides[0]!, strides[1]!, 1]), padding: str(padding.toUpperCase()), data_format: str('NHWC'), dilations: ints([1, dilations[0]!, dilations[1]!, 1]),
      }, add, e);
    }
    case 'Conv1D': {
      const padding = String(config['padding']);
      if (padding !== 'valid' && padding !== 'same') {
        e.refuse(layer, `padding ${padding}`);
        return name;
      }
      const kernel = e.constant(`${name}/kernel`, weights.require('kernel'));
      // TensorFlow.js layers runs conv1d, then adds the bias, then the activation: never fused.
      const conv = add(`${name}/conv`, 'Conv1D', [input, kernel], {
        stride: int(numbers(config['strides'], 1)[0]!), padding: str(padding.toUpperCase()), data_format: str('NWC'), dilation: int(numbers(config['dilationRate'], 1)[0]!),
      });
      const biased = config['useBias'] ? add(`${name}/bias_add`, 'BiasAdd', [conv, e.constant(`${name}/bias`, weights.require('bias'))], { data_format: str('NHWC') }) : conv;
      return activation(activationName(config), name, biased, add, () => e.refuse(layer, `activation ${activationName(config)}`));
    }
    case 'MaxPooling2D':
    case 'AveragePooling2D': {
      const pool = numbers(config['poolSize'], 2);
      const strides = config['strides'] == null ? pool : numbers(config['strides'], 2);
      return add(name, className === 'MaxPooling2D' ? 'MaxPool' : 'AvgPool', [input], {
        ksize: ints([1, pool[0]!, pool[1]!, 1]), strides: ints([1, strides[0]!, strides[1]!, 1]), padding: str(String(config['padding']).toUpperCase()), data_format: str('NHWC'),
      });
    }
    case 'ZeroPadding1D': {
      const [left, right] = numbers(config['padding'], 2);
      const paddings = e.constant(`${name}/paddings`, { shape: [3, 2], data: Int32Array.from([0, 0, left!, right!, 0, 0]) }, 'int32');
      return add(name, 'Pad', [input, paddings], { Tpaddings: type(DT.INT32) });
    }
    case 'BatchNormalization': {
      const axis = Array.isArray(config['axis']) && config['axis'].length === 1 ? config['axis'][0] : config['axis'];
      if (!(axis === -1 || axis === inputRank - 1)) {
        e.refuse(layer, `normalising axis ${JSON.stringify(axis)} (only the last axis is rewritten)`);
        return name;
      }
      const mean = weights.require('moving_mean');
      const channels = mean.shape[0]!;
      const ones = { shape: [channels], data: new Float32Array(channels).fill(1) };
      const zeros = { shape: [channels], data: new Float32Array(channels) };
      const scale = e.constant(`${name}/gamma`, weights.optional('gamma') ?? ones);
      const offset = e.constant(`${name}/beta`, weights.optional('beta') ?? zeros);
      return add(name, 'FusedBatchNormV3', [input, scale, offset, e.constant(`${name}/moving_mean`, mean), e.constant(`${name}/moving_variance`, weights.require('moving_variance'))], {
        epsilon: { kind: 'f', value: Number(config['epsilon'] ?? 1e-3) }, data_format: str('NHWC'), is_training: bool(false),
      });
    }
    default:
      e.refuse(layer, 'no graph rewrite for this layer class');
      return name;
  }
}

/** Conv2D and Dense: fused with the bias (and relu / elu) exactly when TensorFlow.js layers fuses them. */
function withBiasAndActivation(layer: Layer, name: string, config: Config, weights: LayerWeights, op: 'Conv2D' | 'MatMul', from: string[], attr: Record<string, AttrValue>, add: AddNode, e: Emitter): string {
  const act = activationName(config);
  const fusedActivation = act === 'linear' ? null : FUSED_ACTIVATIONS[act];
  if (config['useBias'] && fusedActivation !== undefined) {
    const bias = e.constant(`${name}/bias`, weights.require('bias'));
    const fusedOps = fusedActivation ? ['BiasAdd', fusedActivation] : ['BiasAdd'];
    return add(name, op === 'Conv2D' ? '_FusedConv2D' : '_FusedMatMul', [...from, bias], { ...attr, fused_ops: strList(fusedOps), num_args: int(1) });
  }
  const base = add(`${name}/${op}`, op, from, attr);
  const biased = config['useBias'] ? add(`${name}/bias_add`, 'BiasAdd', [base, e.constant(`${name}/bias`, weights.require('bias'))], { data_format: str('NHWC') }) : base;
  return activation(act, name, biased, add, () => e.refuse(layer, `activation ${act}`));
}

type AddNode = (name: string, op: string, from: readonly string[], attr?: Record<string, AttrValue>) => string;

function activation(act: string, name: string, input: string, add: AddNode, refuse: () => void): string {
  if (!(act in ACTIVATION_OPS)) {
    refuse();
    return name;
  }
  const op = ACTIVATION_OPS[act];
  return op ? add(name, op, [input]) : input;
}

/** TensorFlow.js layers keeps the activation as an object; its config names it in camelCase (logSoftmax). */
function activationName(config: Config): string {
  return String(config['activation'] ?? 'linear');
}

interface LayerWeights {
  require(role: string): TfTensor;
  optional(role: string): TfTensor | undefined;
}

/** A layer's weights by role (`kernel`, `bias`, `gamma`, `moving_mean`...): the last part of TensorFlow.js's weight name. */
function weightsByRole(layer: Layer): LayerWeights {
  const values = layer.getWeights();
  const byRole = new Map(layer.weights.map((w, i) => [w.originalName.split('/').pop()!.replace(/:\d+$/, ''), values[i]!]));
  return {
    require(role) {
      const w = byRole.get(role);
      if (!w) throw new KerasConversionError(`layer "${layer.name}" (${layer.getClassName()}) has no ${role} weight`);
      return w;
    },
    optional: (role) => byRole.get(role),
  };
}

function numbers(value: unknown, length: number): number[] {
  const list = Array.isArray(value) ? value.map(Number) : [Number(value)];
  return list.length === length ? list : Array.from({ length }, (_, i) => list[i] ?? list[0]!);
}

function uniqueName(names: readonly string[], index: number): string {
  const count = names.slice(0, index).filter((n) => n === names[index]).length;
  return count === 0 ? names[index]! : `${names[index]}_${count}`;
}

function node(name: string, op: string, input: readonly string[], attr: Record<string, AttrValue>): NodeDef {
  return { name, op, input: [...input], device: '', attr };
}

const type = (value: number): AttrValue => ({ kind: 'type', value });
const int = (value: number): AttrValue => ({ kind: 'i', value });
const bool = (value: boolean): AttrValue => ({ kind: 'b', value });
const str = (value: string): AttrValue => ({ kind: 's', value: new TextEncoder().encode(value) });
const ints = (values: number[]): AttrValue => ({ kind: 'list', value: { ...EMPTY_LIST, i: values } });
const strList = (values: string[]): AttrValue => ({ kind: 'list', value: { ...EMPTY_LIST, s: values.map((v) => new TextEncoder().encode(v)) } });
const EMPTY_LIST = { s: [], i: [], f: [], b: [], type: [], shape: [], tensor: [], func: [] };
