/**
 * SavedModels run from their graph rewrite (tf-graph/ in the model folder,
 * made when the model was packaged): the frozen graph the TensorFlow engine
 * would build at load, stored as a TensorFlow.js graph model, so a cold start
 * decodes, inlines and freezes nothing. Records keep the signature's keys.
 */
import type { Engine } from '../engine.js';
import { SAVED_MODEL_GRAPH } from '../graph-rewrite/graph-rewrite-files.js';
import { loadGraphRewrite } from '../graph-rewrite/graph-rewrite-loader.js';
import { engineWithoutModelPaths } from '../model-paths.js';
import { createTfjsModel } from './tfjs-executor.js';

export const savedModelGraphEngine: Engine = engineWithoutModelPaths(async (artifact) => createTfjsModel(await loadGraphRewrite(artifact, SAVED_MODEL_GRAPH)));
