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

/** `label` names the file in messages (its base name, never a server path). */
export async function readTfjsModelJson(path: string, label: string): Promise<ModelJson> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as ModelJson;
  } catch (error) {
    throw new ModelLoadError(`cannot read TF.js model ${label}: ${describeFileError(error)}`, { cause: error });
  }
}

export async function readTfjsLayersArtifacts(path: string, label: string, json: ModelJson): Promise<io.ModelArtifacts> {
  if (!json.modelTopology || !json.weightsManifest) throw new ModelLoadError(`${label}: a layers model needs modelTopology and weightsManifest`);
  const weightSpecs: io.WeightsManifestEntry[] = [];
  const buffers: Uint8Array[] = [];
  for (const group of json.weightsManifest) {
    weightSpecs.push(...group.weights);
    for (const shard of group.paths) {
      try {
        buffers.push(await readFile(join(dirname(path), shard)));
      } catch (error) {
        throw new ModelLoadError(`${label}: weight shard ${shard} cannot be read: ${describeFileError(error)}`, { cause: error });
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

/** Node's file errors quote the full path: say only what went wrong (`ENOENT`, a JSON syntax error). */
function describeFileError(error: unknown): string {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : describeError(error);
}
