/**
 * TensorFlow SavedModels and TensorFlow.js graph models, without libtensorflow:
 * a SavedModel is decoded, inlined and frozen here (saved-model-loader.ts),
 * a graph model is frozen already; both then run on TensorFlow.js's graph
 * executor (wasm backend). All of that happens in `load`; `predict` only runs
 * the executor.
 *
 * The model folder is the SavedModel directory when the artifact is
 * `saved_model.pb`; an artifact ending in `.json` is a graph model's `model.json`.
 */
import { basename, dirname } from 'node:path';
import { ModelLoadError } from '../../domain/errors.js';
import type { ModelArtifact } from '../../models/model-artifact.js';
import type { Engine, Model } from '../engine.js';
import { engineWithoutModelPaths } from '../model-paths.js';
import { loadGraphModelJson } from './graph-model-loader.js';
import { loadSavedModelGraph } from './saved-model-loader.js';
import { createTfjsModel, type ExecutableGraph } from './tfjs-executor.js';

const SAVED_MODEL_FILE = 'saved_model.pb';

export const tensorflowEngine: Engine = engineWithoutModelPaths(loadTensorflowModel);

async function loadTensorflowModel(artifact: ModelArtifact): Promise<Model> {
  const origin = `model "${artifact.meta.name}"`;
  const file = basename(artifact.artifactPath);
  let graph: ExecutableGraph;
  if (file === SAVED_MODEL_FILE) {
    graph = await loadSavedModelGraph(dirname(artifact.artifactPath), artifact.meta.signature, origin);
  } else if (file.endsWith('.json')) {
    if (artifact.meta.signature !== undefined) {
      throw new ModelLoadError(`${origin}: "signature" in model-meta.json applies to SavedModels; a TensorFlow.js graph model has one signature`);
    }
    graph = await loadGraphModelJson(artifact.artifactPath, origin);
  } else {
    throw new ModelLoadError(`${origin}: artifact "${artifact.meta.artifact}" is neither a SavedModel's ${SAVED_MODEL_FILE} nor a TensorFlow.js graph model's model.json`);
  }
  return createTfjsModel(graph);
}
