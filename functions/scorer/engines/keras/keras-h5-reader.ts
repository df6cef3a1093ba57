/**
 * Keras `model.save()` HDF5 files (Keras 1.x, 2.x and Keras 3's legacy h5
 * saver): the `model_config` attribute, and under `model_weights/<layer>` the
 * datasets listed, in order, by each layer group's `weight_names` attribute.
 * A file in Keras 3's own weights layout (`layers/<class>/vars/<i>`) is read
 * as the `.keras` reader reads its weights.
 */
import type { Group } from 'h5wasm/node';
import { ModelLoadError, describeError } from '../../domain/errors.js';
import { childGroup, readWeight, stringAttr, stringListAttr, withHdf5File, type ReadBudget } from './hdf5-weights.js';
import type { KerasModelSource, WeightArray } from './keras-source.js';
import { readKeras3Weights } from './keras3-weights.js';

export function readKerasH5(path: string, label: string): Promise<KerasModelSource> {
  return withHdf5File(path, label, (file, budget) => {
    const rawConfig = stringAttr(file, 'model_config');
    if (!rawConfig) {
      throw new ModelLoadError(`${label} has no model_config attribute: it holds weights only (save the model with model.save(), not save_weights())`);
    }
    let modelConfig: Record<string, unknown>;
    try {
      modelConfig = JSON.parse(rawConfig) as Record<string, unknown>;
    } catch (error) {
      throw new ModelLoadError(`${label}: model_config is not valid JSON: ${describeError(error)}`, { cause: error });
    }
    // Files written by save() keep weights under model_weights; save_weights() files keep them at the root.
    const weightsRoot: Group = childGroup(file, 'model_weights') ?? file;
    const layerNames = stringListAttr(weightsRoot, 'layer_names');
    const weightsByLayer = layerNames.length === 0 && childGroup(weightsRoot, 'layers')
      ? readKeras3Weights(weightsRoot, modelConfig, budget)
      : readByLayerName(weightsRoot, layerNames, label, budget);
    return { modelConfig, kerasVersion: stringAttr(file, 'keras_version') ?? '', backend: stringAttr(file, 'backend'), weightsByLayer, file: label };
  });
}

function readByLayerName(weightsRoot: Group, layerNames: readonly string[], label: string, budget: ReadBudget): Map<string, WeightArray[]> {
  const weightsByLayer = new Map<string, WeightArray[]>();
  for (const layerName of layerNames) {
    const group = childGroup(weightsRoot, layerName);
    if (!group) throw new ModelLoadError(`${label}: weights group for layer "${layerName}" is missing`);
    const names = stringListAttr(group, 'weight_names');
    weightsByLayer.set(layerName, names.map((name) => readWeight(group, name, `layer "${layerName}"`, budget)));
  }
  return weightsByLayer;
}
