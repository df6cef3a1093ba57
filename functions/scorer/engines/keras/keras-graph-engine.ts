/**
 * Keras models run from their graph rewrite (keras-graph/ in the model folder,
 * made when the model was packaged) on TensorFlow.js's graph executor, as the
 * TensorFlow engine runs graph models: no h5wasm, no TensorFlow.js layers.
 * Inputs and outputs keep their Keras names.
 */
import type { Engine } from '../engine.js';
import { KERAS_GRAPH } from '../graph-rewrite/graph-rewrite-files.js';
import { loadGraphRewrite } from '../graph-rewrite/graph-rewrite-loader.js';
import { engineWithoutModelPaths } from '../model-paths.js';
import { createTfjsModel } from '../tensorflow/tfjs-executor.js';

export const kerasGraphEngine: Engine = engineWithoutModelPaths(async (artifact) => createTfjsModel(await loadGraphRewrite(artifact, KERAS_GRAPH)));
