/**
 * Model descriptions read once and reused: the models page asks for every
 * signature, and reading one loads the model, which takes from milliseconds
 * (ONNX) to seconds (Keras, SavedModels). An entry is dropped when its
 * model-meta.json changes, or when reading failed (so a retry tries again).
 * Online scoring does not load models here: it uses the stack's scorer.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { MODEL_META_FILE } from '../functions/scorer/models/model-artifact.js';
import { showModel } from '../manage/model-catalog.js';

export type ShownModel = Awaited<ReturnType<typeof showModel>>;

export interface ModelCache {
  show(name: string): Promise<ShownModel>;
}

interface Entry<T> {
  readonly stamp: number;
  readonly value: Promise<T>;
}

export function createModelCache(modelsRoot: string): ModelCache {
  const shown = new Map<string, Entry<ShownModel>>();

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
  };
}
