/**
 * Keras 3 `.keras` files: a zip of `config.json`, `metadata.json` and
 * `model.weights.h5`, whose weights live at `layers/<layer>/vars/<i>` (nested
 * models: `layers/<model>/layers/<layer>/vars/<i>`).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unzipSync } from 'fflate';
import type { Group } from 'h5wasm/node';
import { ModelLoadError, describeError } from '../../domain/errors.js';
import { childGroup, readWeight, withHdf5File } from './hdf5-weights.js';
import type { KerasModelSource, WeightArray } from './keras-source.js';

export async function readKerasZip(path: string): Promise<KerasModelSource> {
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(readFileSync(path));
  } catch (error) {
    throw new ModelLoadError(`${path} is not a readable .keras (zip) file: ${describeError(error)}`, { cause: error });
  }
  const configBytes = entries['config.json'];
  const weightBytes = entries['model.weights.h5'];
  if (!configBytes || !weightBytes) {
    throw new ModelLoadError(`${path} lacks ${configBytes ? '' : 'config.json '}${weightBytes ? '' : 'model.weights.h5'}: not a Keras 3 .keras file`);
  }
  let modelConfig: Record<string, unknown>;
  let kerasVersion = '';
  try {
    modelConfig = JSON.parse(new TextDecoder().decode(configBytes)) as Record<string, unknown>;
    const metadata = entries['metadata.json'];
    if (metadata) kerasVersion = String((JSON.parse(new TextDecoder().decode(metadata)) as { keras_version?: string }).keras_version ?? '');
  } catch (error) {
    throw new ModelLoadError(`${path}: config.json is not valid JSON: ${describeError(error)}`, { cause: error });
  }
  // h5wasm reads from the file system, so the inner HDF5 file takes a short detour through a temp folder.
  const dir = mkdtempSync(join(tmpdir(), 'dropscore-keras-'));
  try {
    const weightsPath = join(dir, 'model.weights.h5');
    writeFileSync(weightsPath, weightBytes);
    const weightsByLayer = await withHdf5File(weightsPath, (file) => {
      const byLayer = new Map<string, WeightArray[]>();
      const layers = childGroup(file, 'layers');
      if (layers) collectLayerVars(layers, byLayer, path);
      return byLayer;
    });
    return { modelConfig, kerasVersion, weightsByLayer, file: path };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function collectLayerVars(layers: Group, byLayer: Map<string, WeightArray[]>, path: string): void {
  for (const layerName of layers.keys()) {
    const layer = childGroup(layers, layerName)!;
    const vars = childGroup(layer, 'vars');
    const indices = (vars?.keys() ?? []).map(Number).sort((a, b) => a - b);
    if (vars && indices.length > 0) byLayer.set(layerName, indices.map((i) => readWeight(vars, String(i), `${path} layer "${layerName}"`)));
    const nested = childGroup(layer, 'layers');
    if (nested) collectLayerVars(nested, byLayer, path);
  }
}
