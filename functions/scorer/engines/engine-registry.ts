/**
 * What each framework needs to score: the engine that loads its artifacts and
 * the record format its users write.
 */
import { kerasFormat } from '../formats/keras-format.js';
import { namedTensorsFormat } from '../formats/named-tensors-format.js';
import type { RecordFormat } from '../formats/record-format.js';
import { tensorflowFormat } from '../formats/tensorflow-format.js';
import { readModelArtifact, type Framework, type ModelArtifact } from '../models/model-artifact.js';
import { caffeEngine } from './caffe/caffe-engine.js';
import type { Engine, Model } from './engine.js';
import { kerasEngine } from './keras/keras-engine.js';
import { onnxEngine } from './onnx-engine.js';
import { isGraphModelJson } from './tensorflow/graph-model-loader.js';
import { tensorflowEngine } from './tensorflow/tensorflow-engine.js';

interface FrameworkSupport {
  readonly engine: Engine;
  readonly format: RecordFormat;
}

const SUPPORT: Readonly<Record<Framework, FrameworkSupport>> = {
  onnx: { engine: onnxEngine, format: namedTensorsFormat },
  keras: { engine: kerasEngine, format: kerasFormat },
  // SavedModels run on TensorFlow.js's graph executor, frozen and inlined at load.
  tensorflow: { engine: tensorflowEngine, format: tensorflowFormat },
  // TF.js layers models are Keras models in another file layout (graph models: see below).
  tfjs: { engine: kerasEngine, format: kerasFormat },
  // Caffe nets are translated to ONNX at load; records use the named-tensor convention.
  caffe: { engine: caffeEngine, format: namedTensorsFormat },
};

// TF.js graph models are frozen TensorFlow graphs: the TensorFlow engine runs them, with its record format.
const TFJS_GRAPH_MODEL: FrameworkSupport = SUPPORT.tensorflow;

export interface LoadedModel {
  readonly artifact: ModelArtifact;
  readonly model: Model;
  readonly format: RecordFormat;
}

export async function loadModel(dir: string): Promise<LoadedModel> {
  const artifact = await readModelArtifact(dir);
  const support = await supportFor(artifact);
  return Object.freeze({ artifact, model: await support.engine.load(artifact), format: support.format });
}

async function supportFor(artifact: ModelArtifact): Promise<FrameworkSupport> {
  if (artifact.meta.framework === 'tfjs' && (await isGraphModelJson(artifact.artifactPath))) return TFJS_GRAPH_MODEL;
  return SUPPORT[artifact.meta.framework];
}
