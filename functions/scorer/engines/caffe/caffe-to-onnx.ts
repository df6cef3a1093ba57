/**
 * Walks a Caffe net in layer order and builds the equivalent ONNX graph.
 * Caffe blobs are mutable (in-place layers such as ReLU rewrite their
 * bottom), ONNX values are not: each blob name maps to its latest value, and
 * only at the end do the chosen output values take their blob names.
 */
import type { OnnxGraph } from '../../../onnx-proto/onnx-model-builder.js';
import { ModelLoadError } from '../../domain/errors.js';
import { batchShape, onnxDims, type BlobShape } from './blob-shape.js';
import type { CaffeLayer, CaffeNet } from './caffe-net.js';
import type { CaffeWeights, WeightBlob, WeightLayer } from './caffemodel-reader.js';
import type { LayerContext, TensorRef } from './layer-translator.js';
import { explainUnsupported, LAYER_TRANSLATORS } from './layer-translators.js';
import { OnnxGraphBuilder } from './onnx-graph-builder.js';

export interface NamedShape {
  readonly name: string;
  readonly shape: BlobShape;
}

export interface TranslatedNet {
  readonly graph: OnnxGraph;
  readonly inputs: readonly NamedShape[];
  readonly outputs: readonly NamedShape[];
  /** Layers of the weights file the net does not use (training layers, usually), as `name (type)`. */
  readonly unusedWeights: readonly string[];
}

export interface NetIoChoice {
  /** Every input blob of the net, in signature order. */
  readonly inputs: readonly string[];
  /** The blobs to return, in signature order. */
  readonly outputs: readonly string[];
}

export function translateCaffeNet(net: CaffeNet, weights: CaffeWeights, io: NetIoChoice, weightsOrigin: string): TranslatedNet {
  const weightsByName = new Map<string, WeightLayer>();
  for (const layer of weights.layers) if (!weightsByName.has(layer.name)) weightsByName.set(layer.name, layer);

  const graph = new OnnxGraphBuilder(allBlobNames(net));
  const current = new Map<string, TensorRef>();
  const inputs: NamedShape[] = io.inputs.map((name) => {
    const declared = net.inputs.find((i) => i.blob === name)!;
    const ref = { value: name, shape: batchShape(declared.shape) };
    current.set(name, ref);
    return { name, shape: ref.shape };
  });

  for (const layer of net.layers) {
    const results = translateLayer(layer, current, graph, weightsByName.get(layer.name), weightsOrigin);
    layer.tops.forEach((top, i) => {
      if (current.has(top) && !layer.bottoms.includes(top)) {
        layer.params.fail(`top "${top}" is already produced by an earlier layer or input; Caffe allows that only in place (top = bottom)`);
      }
      current.set(top, results[i]!);
    });
  }

  const outputs = nameOutputs(io.outputs, current, graph, new Set(io.inputs), net.origin);
  const layerNames = new Set(net.layers.map((l) => l.name));
  const unusedWeights = weights.layers.filter((l) => !layerNames.has(l.name)).map((l) => `${l.name} (${l.type})`);
  const onnxGraph = graph.finish(
    net.name || 'caffe_net',
    inputs.map((i) => ({ name: i.name, elemType: 'float32', shape: onnxDims(i.shape) })),
    outputs.map((o) => ({ name: o.name, elemType: 'float32', shape: onnxDims(o.shape) })),
    `Translated from the Caffe net ${net.origin} with weights ${weightsOrigin}`,
  );
  return { graph: onnxGraph, inputs, outputs, unusedWeights };
}

function translateLayer(
  layer: CaffeLayer,
  current: ReadonlyMap<string, TensorRef>,
  graph: OnnxGraphBuilder,
  weights: WeightLayer | undefined,
  weightsOrigin: string,
): readonly TensorRef[] {
  const fail = (reason: string): never => {
    throw new ModelLoadError(`${layer.where}: ${reason}`);
  };
  const translator = LAYER_TRANSLATORS[layer.type];
  if (!translator) fail(explainUnsupported(layer.type));
  const inputs = layer.bottoms.map((bottom) => current.get(bottom) ?? fail(`bottom "${bottom}" is not produced by any earlier layer or input`));
  const context: LayerContext = {
    layer,
    inputs,
    graph,
    param: (name) => layer.params.message(name),
    blobs: (min, max = Infinity): readonly WeightBlob[] => {
      if (!weights) {
        if (min === 0) return [];
        return fail(`needs learned weights, but ${weightsOrigin} has no layer named "${layer.name}"`);
      }
      if (weights.blobs.length < min || weights.blobs.length > max) {
        const expected = min === max ? `${min}` : max === Infinity ? `at least ${min}` : `${min} to ${max}`;
        fail(`has ${weights.blobs.length} blob(s) in ${weightsOrigin}; expected ${expected} (check bias_term and the layer type)`);
      }
      return weights.blobs;
    },
    expectBottoms: (min, max = Infinity) => {
      const n = layer.bottoms.length;
      if (n < min || n > max) fail(`has ${n} bottom(s); expected ${min === max ? min : max === Infinity ? `at least ${min}` : `${min} to ${max}`}`);
    },
    hint: (suffix) => (suffix ? `${layer.name}/${suffix}` : layer.name),
    fail,
  };
  const results = translator!(context);
  if (results.length !== layer.tops.length) fail(`produces ${results.length} output(s) but lists ${layer.tops.length} top(s)`);
  return results;
}

/**
 * Gives each chosen output value its blob name. A value can carry only one name and graph inputs
 * keep theirs, so an output that is an input, or a value already named, gets an Identity.
 */
function nameOutputs(names: readonly string[], current: ReadonlyMap<string, TensorRef>, graph: OnnxGraphBuilder, inputNames: ReadonlySet<string>, origin: string): NamedShape[] {
  const renamed = new Map<string, string>();
  return names.map((name) => {
    const ref = current.get(name);
    if (!ref) throw new ModelLoadError(`${origin}: output blob "${name}" is not produced by the net`);
    if (inputNames.has(name)) {
      throw new ModelLoadError(`${origin}: "${name}" is an input of the net and cannot also be an output; if layers rewrite it in place, give the last of them its own top`);
    }
    const value = renamed.get(ref.value) ?? ref.value;
    if (value === name) return { name, shape: ref.shape };
    if (renamed.has(ref.value) || inputNames.has(value) || !graph.isProducedByNode(value)) {
      graph.namedOp('Identity', [value], name);
    } else {
      graph.rename(value, name);
      renamed.set(ref.value, name);
    }
    return { name, shape: ref.shape };
  });
}

function allBlobNames(net: CaffeNet): string[] {
  return [...net.inputs.map((i) => i.blob), ...net.layers.flatMap((l) => [...l.bottoms, ...l.tops])];
}
