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
import { readKerasGraphSource } from './keras/keras-graph-files.js';

export const onnxSupport: SupportLoader = async () => ({ engine: (await import('./onnx-engine.js')).onnxEngine, format: namedTensorsFormat });

// Caffe nets are translated to ONNX at load; records use the named-tensor convention.
export const caffeSupport: SupportLoader = async () => ({ engine: (await import('./caffe/caffe-engine.js')).caffeEngine, format: namedTensorsFormat });

// A Keras model packaged with its graph rewrite (keras/keras-graph-files.ts) runs on the graph executor:
// its bundle leaves out h5wasm and TensorFlow.js layers. Without a current rewrite, the Keras engine.
export const kerasGraphSupport: SupportLoader = async () => ({ engine: (await import('./keras/keras-graph-engine.js')).kerasGraphEngine, format: kerasFormat });

export const kerasSupport: SupportLoader = async (artifact) => {
  const rewrite = await readKerasGraphSource(artifact.dir);
  if (rewrite?.artifact === artifact.meta.artifact && rewrite.sha256 === artifact.sha256) return kerasGraphSupport(artifact);
  return { engine: (await import('./keras/keras-engine.js')).kerasEngine, format: kerasFormat };
};

// SavedModels run on TensorFlow.js's graph executor, frozen and inlined at load.
export const tensorflowSupport: SupportLoader = async () => ({ engine: (await import('./tensorflow/tensorflow-engine.js')).tensorflowEngine, format: tensorflowFormat });

// TF.js layers models are Keras models in another file layout; TF.js graph models are
// frozen TensorFlow graphs, which the TensorFlow engine runs with its record format.
export const tfjsSupport: SupportLoader = async (artifact) => {
  const { isGraphModelJson } = await import('./tensorflow/graph-model-loader.js');
  return (await isGraphModelJson(artifact.artifactPath)) ? tensorflowSupport(artifact) : kerasSupport(artifact);
};

export const ALL_ENGINES: EngineTable = { onnx: onnxSupport, caffe: caffeSupport, keras: kerasSupport, tensorflow: tensorflowSupport, tfjs: tfjsSupport };

/** Loads a model of any framework (CLI, console, local stack); only its engine is imported. */
export const loadModel: ModelLoader = (dir) => createModelLoader(ALL_ENGINES)(dir);
