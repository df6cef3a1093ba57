/**
 * TensorFlow.js layers models: a folder with `model.json` (`format:
 * layers-model`, the Keras topology and a weights manifest) and its binary
 * weight shards, read into the in-memory artifacts TensorFlow.js loads.
 */
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { io } from '@tensorflow/tfjs-core';
import { ModelLoadError, describeError } from '../../domain/errors.js';

interface ModelJson {
  format?: string;
  modelTopology?: unknown;
  weightsManifest?: { paths: string[]; weights: io.WeightsManifestEntry[] }[];
}

export async function readTfjsModelJson(path: string): Promise<ModelJson> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as ModelJson;
  } catch (error) {
    throw new ModelLoadError(`cannot read TF.js model ${path}: ${describeError(error)}`, { cause: error });
  }
}

export async function readTfjsLayersArtifacts(path: string, json: ModelJson): Promise<io.ModelArtifacts> {
  if (!json.modelTopology || !json.weightsManifest) throw new ModelLoadError(`${path}: a layers model needs modelTopology and weightsManifest`);
  const weightSpecs: io.WeightsManifestEntry[] = [];
  const buffers: Uint8Array[] = [];
  for (const group of json.weightsManifest) {
    weightSpecs.push(...group.weights);
    for (const shard of group.paths) {
      try {
        buffers.push(await readFile(join(dirname(path), shard)));
      } catch (error) {
        throw new ModelLoadError(`${path}: weight shard ${shard} cannot be read: ${describeError(error)}`, { cause: error });
      }
    }
  }
  const weightData = new Uint8Array(buffers.reduce((n, b) => n + b.length, 0));
  let offset = 0;
  for (const buffer of buffers) {
    weightData.set(buffer, offset);
    offset += buffer.length;
  }
  return { modelTopology: json.modelTopology as io.ModelArtifacts['modelTopology'], weightSpecs, weightData: weightData.buffer };
}
