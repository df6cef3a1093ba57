/**
 * Keras models as users saved them (`.h5`/`.hdf5` from Keras 1–3, Keras 3
 * `.keras`, TF.js layers `model.json`), rebuilt with TensorFlow.js layers and
 * run on its wasm backend: no Python, no conversion step. A model packaged
 * with its graph rewrite (keras-graph-packaging.ts) is scored from that
 * instead; this engine serves the others, and builds the model the rewrite
 * is made from.
 */
import { basename } from 'node:path';
import * as tfl from '@tensorflow/tfjs-layers';
import { DropscoreError, ModelLoadError, PredictionError, describeError } from '../../domain/errors.js';
import type { ModelArtifact } from '../../models/model-artifact.js';
import type { DType, Engine, Model, Signature, Tensor, TensorMap } from '../engine.js';
import { tf, useTfjs } from '../tfjs-runtime.js';
import { checkEmbeddingIndices, findEmbeddingInputs } from './embedding-index-check.js';
import { adaptKeras1Weights } from './keras1-weights.js';
import { listLayers, normaliseModelConfig, type LayerRef } from './keras-config.js';
import { readKerasH5 } from './keras-h5-reader.js';
import type { KerasModelSource } from './keras-source.js';
import { readKerasZip } from './keras-zip-reader.js';
import { readTfjsLayersArtifacts, readTfjsModelJson } from './tfjs-layers-reader.js';
import './zero-padding-1d.js';

export const kerasEngine: Engine = {
  async load(artifact: ModelArtifact): Promise<Model> {
    return wrapLayersModel(await buildLayersModel(artifact.artifactPath), basename(artifact.artifactPath));
  },
};

/** The model file rebuilt as a TensorFlow.js layers model with its weights (also what keras-graph-packaging.ts rewrites). */
export async function buildLayersModel(path: string): Promise<tfl.LayersModel> {
  await useTfjs();
  // Messages name the file by its base name: they reach error records, logs and the CLI, never a server path.
  const label = basename(path);
  const lower = path.toLowerCase();
  if (lower.endsWith('.json')) return buildFromTfjsFolder(path, label);
  if (lower.endsWith('.keras')) return buildFromSource(await readKerasZip(path, label));
  if (lower.endsWith('.h5') || lower.endsWith('.hdf5')) return buildFromSource(await readKerasH5(path, label));
  throw new ModelLoadError(`${label}: a Keras model must be a .h5, .hdf5, .keras or TF.js model.json file`);
}

async function buildFromSource(source: KerasModelSource): Promise<tfl.LayersModel> {
  const config = normaliseModelConfig(source.modelConfig, source.kerasVersion, source.file);
  const layerRefs = listLayers(config);
  checkLayersSupported(layerRefs, source.file);
  let model: tfl.LayersModel;
  try {
    model = await tfl.models.modelFromJSON({ modelTopology: config } as never);
  } catch (error) {
    throw new ModelLoadError(`${source.file}: TensorFlow.js cannot build the model from its config: ${describeError(error)}`, { cause: error });
  }
  const refOf = new Map(layerRefs.map((l) => [l.name, l]));
  const keras1 = Number.parseInt(source.kerasVersion, 10) === 1;
  for (const layer of weightedLayers(model)) {
    const stored = source.weightsByLayer.get(layer.name);
    if (!stored) throw new ModelLoadError(`${source.file}: no weights stored for layer "${layer.name}" (${layer.getClassName()})`);
    const ref = refOf.get(layer.name);
    const keras1Layer = { className: ref?.className ?? '', name: layer.name, channelsFirst: ref?.config['data_format'] === 'channels_first' };
    const weights = keras1 ? adaptKeras1Weights(keras1Layer, stored, source.backend, source.file) : stored;
    const expected = layer.weights.map((w) => w.shape);
    const fits = weights.length === expected.length && weights.every((w, i) => sameShape(w.shape, expected[i]!));
    if (!fits) {
      const describe = (shapes: readonly (readonly (number | null)[])[]) => shapes.map((s) => `[${s.join(',')}]`).join(' ');
      throw new ModelLoadError(`${source.file}: layer "${layer.name}" (${layer.getClassName()}) expects weights ${describe(expected)}, the file has ${describe(weights.map((w) => w.shape))}`);
    }
    layer.setWeights(weights.map((w) => tf.tensor(w.data, [...w.shape], 'float32')));
  }
  return model;
}

async function buildFromTfjsFolder(path: string, label: string): Promise<tfl.LayersModel> {
  const json = await readTfjsModelJson(path, label);
  if (json.format === 'graph-model') throw new ModelLoadError(`${label} is a TF.js graph model, not a Keras model: deploy it with framework "tfjs"`);
  const topology = json.modelTopology as { model_config?: Record<string, unknown> } | undefined;
  if (topology?.model_config) checkLayersSupported(listLayers(topology.model_config), label);
  try {
    return await tfl.loadLayersModel(tf.io.fromMemory(await readTfjsLayersArtifacts(path, label, json)));
  } catch (error) {
    if (error instanceof ModelLoadError) throw error;
    throw new ModelLoadError(`${label}: TensorFlow.js cannot load the layers model: ${describeError(error)}`, { cause: error });
  }
}

function checkLayersSupported(layers: readonly LayerRef[], file: string): void {
  const known = tf.serialization.SerializationMap.getMap().classNameMap;
  const unsupported = layers.filter((l) => !(l.className in known));
  if (unsupported.length > 0) {
    const list = unsupported.map((l) => `${l.className} (layer "${l.name}")`).join(', ');
    throw new ModelLoadError(`${file}: unsupported Keras layer class${unsupported.length > 1 ? 'es' : ''} ${list}`);
  }
}

/** Layers that own weights, descending into nested models. */
function weightedLayers(model: tfl.LayersModel): tfl.layers.Layer[] {
  return model.layers.flatMap((layer) => (layer instanceof tfl.LayersModel ? weightedLayers(layer) : layer.weights.length > 0 ? [layer] : []));
}

function sameShape(a: readonly number[], b: readonly (number | null)[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

function wrapLayersModel(model: tfl.LayersModel, origin: string): Model {
  // Named by their layers, as Keras names them (a Sequential's input is `<first layer>_input`).
  const inputNames = uniqueNames(model.inputs.map((t) => t.sourceLayer.name));
  const outputNames = uniqueNames(model.outputs.map((t) => t.sourceLayer.name));
  const signature: Signature = Object.freeze({
    inputs: model.inputs.map((t, i) => ({ name: inputNames[i]!, dtype: toDType(t.dtype), shape: t.shape.map((d) => d ?? null) })),
    outputs: model.outputs.map((t, i) => ({ name: outputNames[i]!, dtype: 'float32' as const, shape: t.shape.map((d) => d ?? null) })),
  });
  const embeddings = findEmbeddingInputs(model, inputNames);
  return {
    signature,
    async predict(inputs: TensorMap): Promise<TensorMap> {
      checkEmbeddingIndices(embeddings, inputs);
      const feeds = signature.inputs.map((spec) => {
        const t = inputs[spec.name]!;
        return tf.tensor(t.data as Float32Array, [...t.shape], 'float32');
      });
      try {
        const result = model.predict(feeds.length === 1 ? feeds[0]! : feeds);
        const outputs = Array.isArray(result) ? result : [result];
        const map: Record<string, Tensor> = {};
        for (const [i, spec] of signature.outputs.entries()) {
          const out = outputs[i]!;
          map[spec.name] = { dtype: 'float32', shape: out.shape, data: (await out.data()) as Float32Array };
          out.dispose();
        }
        return map;
      } catch (error) {
        if (error instanceof DropscoreError) throw error;
        throw new PredictionError(`TensorFlow.js failed to run ${origin}: ${describeError(error)}`, { cause: error });
      } finally {
        feeds.forEach((f) => f.dispose());
      }
    },
  };
}

/** Two outputs of one layer (a layer returning a list) get `<layer>_1`, `<layer>_2`, ... after the first. */
function uniqueNames(names: readonly string[]): string[] {
  const seen = new Map<string, number>();
  return names.map((name) => {
    const count = seen.get(name) ?? 0;
    seen.set(name, count + 1);
    return count === 0 ? name : `${name}_${count}`;
  });
}

function toDType(dtype: string): DType {
  return dtype === 'int32' ? 'int32' : 'float32';
}
