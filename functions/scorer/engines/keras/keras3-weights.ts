/**
 * Keras 3's saving library (`.keras`, `.weights.h5`) does not store weights
 * under layer names, which are generated per Python session and so not
 * reproducible: a model's layers are stored under `layers/<class in
 * snake_case>`, made unique in layer order within each model (`conv2d`,
 * `conv2d_1`, `dense`, ...), each with its variables at `vars/0..n`. Nested
 * models keep their own `layers/` group; wrappers and recurrent layers keep
 * their inner layer or cell in a child group (`cell`, `layer`,
 * `forward_layer`/`backward_layer`).
 *
 * This maps that layout back onto the config's layer names. Early Keras 3
 * releases stored layers by name instead: a model whose every layer is found
 * by name, and not by class, is read by name.
 */
import type { Group } from 'h5wasm/node';
import { childGroup, readWeight, type ReadBudget } from './hdf5-weights.js';
import type { WeightArray } from './keras-source.js';

type Json = Record<string, unknown>;

const MODEL_CLASSES = new Set(['Sequential', 'Functional', 'Model']);

/** The child groups holding a layer's inner layers' variables, in the order TensorFlow.js lists their weights. */
const INNER_GROUPS: Record<string, readonly string[]> = {
  Bidirectional: ['forward_layer', 'backward_layer'],
};
const DEFAULT_INNER_GROUPS = ['cell', 'layer'];

export function readKeras3Weights(root: Group, modelConfig: Json, budget: ReadBudget): Map<string, WeightArray[]> {
  const byLayer = new Map<string, WeightArray[]>();
  const layers = childGroup(root, 'layers');
  if (layers) collectModel(modelConfig, layers, byLayer, budget);
  return byLayer;
}

/** Keras's `naming.to_snake_case`: `Conv2D` → `conv2d`, `MaxPooling2D` → `max_pooling2d`, `PReLU` → `p_re_lu`. */
export function toSnakeCase(className: string): string {
  return className
    .replace(/\W+/g, '')
    .replace(/(.)([A-Z][a-z]+)/g, '$1_$2')
    .replace(/([a-z])([A-Z])/g, '$1_$2')
    .toLowerCase();
}

/** Each layer's group name as Keras 3 stores it: its class in snake_case, numbered per class in layer order. */
export function keras3GroupNames(layers: readonly Json[]): string[] {
  const used = new Map<string, number>();
  return layers.map((layer) => {
    const base = toSnakeCase(String(layer['class_name']));
    const seen = used.get(base);
    used.set(base, seen === undefined ? 0 : seen + 1);
    return seen === undefined ? base : `${base}_${seen + 1}`;
  });
}

function collectModel(model: Json, container: Group, byLayer: Map<string, WeightArray[]>, budget: ReadBudget): void {
  const layers = layersOf(model);
  const names = layers.map((layer) => String(((layer['config'] ?? {}) as Json)['name'] ?? ''));
  const byClass = keras3GroupNames(layers);
  // Input layers own nothing, and a Sequential model does not store them: they decide nothing.
  const decisive = layers.map((layer, i) => i).filter((i) => layers[i]!['class_name'] !== 'InputLayer');
  const found = (keys: readonly string[]) => decisive.every((i) => container.get(keys[i]!) !== null);
  const keys = !found(byClass) && found(names) ? names : byClass;
  layers.forEach((layer, i) => {
    const group = childGroup(container, keys[i]!);
    if (!group) return;
    const className = String(layer['class_name']);
    if (MODEL_CLASSES.has(className)) {
      const inner = childGroup(group, 'layers');
      if (inner) collectModel(layer, inner, byLayer, budget);
      return;
    }
    const weights = collectVars(group, className, `layer "${names[i]}"`, budget);
    if (weights.length > 0) byLayer.set(names[i]!, weights);
  });
}

function collectVars(group: Group, className: string, owner: string, budget: ReadBudget): WeightArray[] {
  const vars = childGroup(group, 'vars');
  const indices = (vars?.keys() ?? []).map(Number).filter(Number.isInteger).sort((a, b) => a - b);
  const own = vars ? indices.map((i) => readWeight(vars, String(i), owner, budget)) : [];
  const inner = (INNER_GROUPS[className] ?? DEFAULT_INNER_GROUPS).flatMap((key) => {
    const child = childGroup(group, key);
    return child ? collectVars(child, '', owner, budget) : [];
  });
  return [...own, ...inner];
}

function layersOf(model: Json): Json[] {
  const config = model['config'];
  const layers = Array.isArray(config) ? config : (config as Json | undefined)?.['layers'];
  return Array.isArray(layers) ? (layers as Json[]) : [];
}
