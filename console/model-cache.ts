/**
 * Models loaded once and reused: the models page asks for every signature and
 * online scoring needs the loaded model, and loading takes from milliseconds
 * (ONNX) to seconds (Keras, SavedModels). An entry is dropped when its
 * model-meta.json changes, or when loading failed (so a retry tries again).
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { loadModel, type LoadedModel } from '../functions/scorer/engines/engine-registry.js';
import { MODEL_META_FILE } from '../functions/scorer/models/model-artifact.js';
import { showModel } from '../manage/model-catalog.js';

export type ShownModel = Awaited<ReturnType<typeof showModel>>;

export interface ModelCache {
  show(name: string): Promise<ShownModel>;
  load(name: string): Promise<LoadedModel>;
}

interface Entry<T> {
  readonly stamp: number;
  readonly value: Promise<T>;
}

export function createModelCache(modelsRoot: string): ModelCache {
  const shown = new Map<string, Entry<ShownModel>>();
  const loaded = new Map<string, Entry<LoadedModel>>();

  function stampOf(name: string): number {
    try {
      return statSync(join(modelsRoot, name, MODEL_META_FILE)).mtimeMs;
    } catch {
      return -1;
    }
  }

  function cached<T>(map: Map<string, Entry<T>>, name: string, make: () => Promise<T>): Promise<T> {
    const stamp = stampOf(name);
    const hit = map.get(name);
    if (hit && hit.stamp === stamp) return hit.value;
    const value = make();
    map.set(name, { stamp, value });
    value.catch(() => {
      if (map.get(name)?.value === value) map.delete(name);
    });
    return value;
  }

  return {
    show: (name) => cached(shown, name, () => showModel(modelsRoot, name)),
    load: (name) => cached(loaded, name, () => loadModel(join(modelsRoot, name))),
  };
}
