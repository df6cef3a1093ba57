/**
 * Keras `model.save()` HDF5 files (Keras 1.x, 2.x and Keras 3's legacy h5
 * saver): the `model_config` attribute, and under `model_weights/<layer>` the
 * datasets listed, in order, by each layer group's `weight_names` attribute.
 */
import type { Group } from 'h5wasm/node';
import { ModelLoadError, describeError } from '../../domain/errors.js';
import { childGroup, readWeight, stringAttr, stringListAttr, withHdf5File } from './hdf5-weights.js';
import type { KerasModelSource, WeightArray } from './keras-source.js';

export function readKerasH5(path: string): Promise<KerasModelSource> {
  return withHdf5File(path, (file) => {
    const rawConfig = stringAttr(file, 'model_config');
    if (!rawConfig) {
      throw new ModelLoadError(`${path} has no model_config attribute: it holds weights only (save the model with model.save(), not save_weights())`);
    }
    let modelConfig: Record<string, unknown>;
    try {
      modelConfig = JSON.parse(rawConfig) as Record<string, unknown>;
    } catch (error) {
      throw new ModelLoadError(`${path}: model_config is not valid JSON: ${describeError(error)}`, { cause: error });
    }
    // Files written by save() keep weights under model_weights; save_weights() files keep them at the root.
    const weightsRoot: Group = childGroup(file, 'model_weights') ?? file;
    const weightsByLayer = new Map<string, WeightArray[]>();
    for (const layerName of stringListAttr(weightsRoot, 'layer_names')) {
      const group = childGroup(weightsRoot, layerName);
      if (!group) throw new ModelLoadError(`${path}: weights group for layer "${layerName}" is missing`);
      const names = stringListAttr(group, 'weight_names');
      weightsByLayer.set(layerName, names.map((name) => readWeight(group, name, `${path} layer "${layerName}"`)));
    }
    return { modelConfig, kerasVersion: stringAttr(file, 'keras_version') ?? '', weightsByLayer, file: path };
  });
}
