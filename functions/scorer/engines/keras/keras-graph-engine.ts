/**
 * Keras models run from their graph rewrite (keras-graph/ in the model folder,
 * made when the model was packaged) on TensorFlow.js's graph executor, as the
 * TensorFlow engine runs graph models: no h5wasm, no TensorFlow.js layers.
 * Inputs and outputs keep their Keras names. A rewrite of another version of
 * the Keras file is refused rather than run.
 */
import { ModelLoadError } from '../../domain/errors.js';
import type { ModelArtifact } from '../../models/model-artifact.js';
import type { Engine, Model } from '../engine.js';
import { engineWithoutModelPaths } from '../model-paths.js';
import { loadGraphModelJson } from '../tensorflow/graph-model-loader.js';
import { createTfjsModel } from '../tensorflow/tfjs-executor.js';
import { KERAS_GRAPH_DIR, kerasGraphPath, readKerasGraphSource } from './keras-graph-files.js';

export const kerasGraphEngine: Engine = engineWithoutModelPaths(loadRewrite);

async function loadRewrite(artifact: ModelArtifact): Promise<Model> {
  const origin = `model "${artifact.meta.name}"`;
  const source = await readKerasGraphSource(artifact.dir);
  if (!source) throw new ModelLoadError(`${origin}: no graph rewrite of ${artifact.meta.artifact} in ${KERAS_GRAPH_DIR}/ (made by \`dropscore models add\` or tools/keras-graph.ts)`);
  if (source.artifact !== artifact.meta.artifact || source.sha256 !== artifact.sha256) {
    throw new ModelLoadError(`${origin}: ${KERAS_GRAPH_DIR}/ was made from another ${source.artifact} than the folder holds; rewrite it again (tools/keras-graph.ts)`);
  }
    const graph = await loadGraphModelJson(kerasGraphPath(artifact.dir), origin);
  return createTfjsModel({ ...graph, notes: [`runs from its graph rewrite (${KERAS_GRAPH_DIR}/, made from ${source.artifact}) on the TensorFlow.js graph executor`] });
}
