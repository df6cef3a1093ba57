/**
 * Turns a model folder into a loaded model with the engine and record format
 * of its framework. Engines are resolved on demand, like onnxruntime's own
 * backend registry: a scorer is given a table of the frameworks it supports
 * (framework-engines.ts), and an engine's module is imported only when a
 * model of its framework loads. A Lambda bundle built from a one-framework
 * table carries only that engine.
 */
import type { RecordFormat } from '../formats/record-format.js';
import { readModelArtifact, type Framework, type ModelArtifact } from '../models/model-artifact.js';
import type { Engine, Model } from './engine.js';

export interface FrameworkSupport {
  readonly engine: Engine;
  readonly format: RecordFormat;
}

/** Imports a framework's engine; given the artifact because one framework (tfjs) has two file layouts. */
export type SupportLoader = (artifact: ModelArtifact) => Promise<FrameworkSupport>;

export type EngineTable = Readonly<Partial<Record<Framework, SupportLoader>>>;

export interface LoadedModel {
  readonly artifact: ModelArtifact;
  readonly model: Model;
  readonly format: RecordFormat;
}

export type ModelLoader = (dir: string) => Promise<LoadedModel>;

export function createModelLoader(engines: EngineTable): ModelLoader {
  return async (dir) => {
    const artifact = await readModelArtifact(dir);
    const loadSupport = engines[artifact.meta.framework];
    if (!loadSupport) {
      throw new Error(`this scorer has no ${artifact.meta.framework} engine (it supports ${Object.keys(engines).join(', ')}): deploy the model with a scorer built for its framework`);
    }
    const support = await loadSupport(artifact);
    return Object.freeze({ artifact, model: await support.engine.load(artifact), format: support.format });
  };
}
