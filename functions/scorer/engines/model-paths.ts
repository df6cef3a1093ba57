/**
 * Load errors reach error records, logs and the CLI, which name a model by its
 * name: a server path in them says where the model is stored and nothing the
 * user can act on. Messages from file systems and libraries (ENOENT ...,
 * TensorFlow.js) carry such paths, so they are written relative to the model
 * folder.
 */
import { dirname, resolve, sep } from 'node:path';
import { ModelLoadError } from '../domain/errors.js';
import type { ModelArtifact } from '../models/model-artifact.js';
import type { Engine, Model } from './engine.js';

export function withoutModelPaths(message: string, artifact: Pick<ModelArtifact, 'dir' | 'artifactPath'>): string {
  const folders = [...new Set([artifact.dir, dirname(artifact.artifactPath), resolve(artifact.dir)])].filter((f) => f.length > 1).sort((a, b) => b.length - a.length);
  let out = message;
  for (const folder of folders) {
    const base = folder.endsWith(sep) ? folder.slice(0, -1) : folder;
    out = out.split(`${base}${sep}`).join('').split(base).join('.');
  }
  return out;
}

/** An engine whose load errors are written relative to the model folder. */
export function engineWithoutModelPaths(load: (artifact: ModelArtifact) => Promise<Model>): Engine {
  return {
    async load(artifact: ModelArtifact): Promise<Model> {
      try {
        return await load(artifact);
      } catch (error) {
        if (!(error instanceof ModelLoadError)) throw error;
        const message = withoutModelPaths(error.message, artifact);
        throw message === error.message ? error : new ModelLoadError(message, { cause: error });
      }
    },
  };
}
