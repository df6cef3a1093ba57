/**
 * What each framework needs to score: the engine that loads its artifacts and
 * the record format its users write. Frameworks without an engine fail at load.
 */
import { ModelLoadError } from '../domain/errors.js';
import { kerasFormat } from '../formats/keras-format.js';
import { namedTensorsFormat } from '../formats/named-tensors-format.js';
import type { RecordFormat } from '../formats/record-format.js';
import { readModelArtifact, type Framework, type ModelArtifact } from '../models/model-artifact.js';
import type { Engine, Model } from './engine.js';
import { caffeEngine } from './caffe/caffe-engine.js';
import { kerasEngine } from './keras/keras-engine.js';
import { onnxEngine } from './onnx-engine.js';

interface FrameworkSupport {
  readonly engine: Engine;
  readonly format: RecordFormat;
}

const SUPPORT: Partial<Record<Framework, FrameworkSupport>> = {
  onnx: { engine: onnxEngine, format: namedTensorsFormat },
  keras: { engine: kerasEngine, format: kerasFormat },
  // TF.js layers models are Keras models in another file layout.
  tfjs: { engine: kerasEngine, format: kerasFormat },
  // Caffe nets are translated to ONNX at load; records use the named-tensor convention.
  caffe: { engine: caffeEngine, format: namedTensorsFormat },
};

export interface LoadedModel {
  readonly artifact: ModelArtifact;
  readonly model: Model;
  readonly format: RecordFormat;
}

export async function loadModel(dir: string): Promise<LoadedModel> {
  const artifact = await readModelArtifact(dir);
  const support = SUPPORT[artifact.meta.framework];
  if (!support) {
    const supported = Object.keys(SUPPORT).join(', ');
    throw new ModelLoadError(`framework "${artifact.meta.framework}" of model "${artifact.meta.name}" has no engine yet (supported: ${supported})`);
  }
  return Object.freeze({ artifact, model: await support.engine.load(artifact), format: support.format });
}
