/**
 * Where each framework's engine lives, imported only when called. Each loader
 * is its own export so a bundle that names one leaves the others (and their
 * runtimes: onnxruntime, TensorFlow.js, h5wasm) out.
 */
import { kerasFormat } from '../formats/keras-format.js';
import { namedTensorsFormat } from '../formats/named-tensors-format.js';
import { tensorflowFormat } from '../formats/tensorflow-format.js';
import type { EngineTable, ModelLoader, SupportLoader } from './engine-registry.js';
import { createModelLoader } from './engine-registry.js';
import { hasCurrentRewrite, KERAS_GRAPH, SAVED_MODEL_GRAPH } from './graph-rewrite/graph-rewrite-files.js';

export const onnxSupport: SupportLoader = async () => ({ engine: (await import('./onnx-engine.js')).onnxEngine, format: namedTensorsFormat });

// Caffe nets are translated to ONNX at load; records use the named-tensor convention.
export const caffeSupport: SupportLoader = async () => ({ engine: (await import('./caffe/caffe-engine.js')).caffeEngine, format: namedTensorsFormat });

// A Keras model packaged with its graph rewrite (graph-rewrite/graph-rewrite-files.ts) runs on the graph executor:
// its bundle leaves out h5wasm and TensorFlow.js layers. Without a current rewrite, the Keras engine.
export const kerasGraphSupport: SupportLoader = async () => ({ engine: (await import('./keras/keras-graph-engine.js')).kerasGraphEngine, format: kerasFormat });

export const kerasSupport: SupportLoader = async (artifact) => {
  if (await hasCurrentRewrite(artifact, KERAS_GRAPH)) return kerasGraphSupport(artifact);
  return { engine: (await import('./keras/keras-engine.js')).kerasEngine, format: kerasFormat };
};

// A SavedModel packaged with its frozen graph (tf-graph/) loads that: its bundle leaves out the SavedModel decoder.
export const tensorflowGraphSupport: SupportLoader = async () => ({ engine: (await import('./tensorflow/saved-model-graph-engine.js')).savedModelGraphEngine, format: tensorflowFormat });

// SavedModels run on TensorFlow.js's graph executor, frozen and inlined at load (unless packaged frozen).
export const tensorflowSupport: SupportLoader = async (artifact) => {
  if (await hasCurrentRewrite(artifact, SAVED_MODEL_GRAPH)) return tensorflowGraphSupport(artifact);
  return { engine: (await import('./tensorflow/tensorflow-engine.js')).tensorflowEngine, format: tensorflowFormat };
};

// TF.js layers models are Keras models in another file layout; TF.js graph models are
// frozen TensorFlow graphs, which the TensorFlow engine runs with its record format.
export const tfjsSupport: SupportLoader = async (artifact) => {
  const { isGraphModelJson } = await import('./tensorflow/graph-model-loader.js');
  return (await isGraphModelJson(artifact.artifactPath)) ? tensorflowSupport(artifact) : kerasSupport(artifact);
};

export const ALL_ENGINES: EngineTable = { onnx: onnxSupport, caffe: caffeSupport, keras: kerasSupport, tensorflow: tensorflowSupport, tfjs: tfjsSupport };

/** Loads a model of any framework (CLI, console, local stack); only its engine is imported. */
export const loadModel: ModelLoader = (dir) => createModelLoader(ALL_ENGINES)(dir);
