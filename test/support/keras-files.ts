/**
 * Keras model files built in tests: `.h5` files in Keras 1/2's layout
 * (written with h5wasm) and edited copies of real `.keras` archives (with
 * fflate), plus the model folder around them.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { strFromU8, strToU8, unzipSync, zipSync, type Zippable } from 'fflate';
import h5wasm from 'h5wasm/node';

export interface StoredWeight {
  readonly name: string;
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

export interface KerasH5Spec {
  readonly modelConfig: unknown;
  readonly kerasVersion: string;
  readonly backend?: string;
  /** Weighted layers only, by name, with their weights in the layer's order. */
  readonly weights: Readonly<Record<string, readonly StoredWeight[]>>;
}

/** A `model.save()` file: `model_config` and `model_weights/<layer>/<weight>` listed by `layer_names`/`weight_names`. */
export async function writeKerasH5(path: string, spec: KerasH5Spec): Promise<void> {
  await h5wasm.ready;
  const file = new h5wasm.File(path, 'w');
  try {
    file.create_attribute('model_config', JSON.stringify(spec.modelConfig));
    file.create_attribute('keras_version', spec.kerasVersion);
    if (spec.backend) file.create_attribute('backend', spec.backend);
    const root = file.create_group('model_weights');
    const layerNames = Object.keys(spec.weights);
    if (layerNames.length > 0) root.create_attribute('layer_names', layerNames);
    for (const [layer, weights] of Object.entries(spec.weights)) {
      const group = root.create_group(layer);
      group.create_attribute('weight_names', weights.map((w) => w.name));
      for (const w of weights) group.create_dataset({ name: w.name, data: w.data, shape: [...w.shape], dtype: '<f' });
    }
  } finally {
    file.close();
  }
}

/** A model folder as `dropscore models add` leaves it. */
export function writeModelMeta(dir: string, name: string, artifact: string, framework = 'keras'): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'model-meta.json'), JSON.stringify({ name, framework, artifact }));
  return dir;
}

/** A copy of a `.keras` archive whose config.json went through `edit`; members are stored (as Keras writes them) or deflated at `level`. */
export function editKerasConfig(source: string, target: string, edit: (config: Record<string, unknown>) => void, level: 0 | 6 = 0): void {
  const members = unzipSync(readFileSync(source));
  const config = JSON.parse(strFromU8(members['config.json']!)) as Record<string, unknown>;
  edit(config);
  const out: Zippable = {};
  for (const [name, bytes] of Object.entries(members)) out[name] = [name === 'config.json' ? strToU8(JSON.stringify(config)) : bytes, { level }];
  writeFileSync(target, zipSync(out));
}

/** Deterministic weights in [-1, 1), different for every seed. */
export function seededWeights(seed: number, length: number): Float32Array {
  let state = seed >>> 0 || 1;
  return Float32Array.from({ length }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 31 - 1;
  });
}
