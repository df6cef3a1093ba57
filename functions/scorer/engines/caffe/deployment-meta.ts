/**
 * `deployment-meta.json`, the file Caffe users ship next to their net (as in
 * the batch-scoring guides): which prototxt and weights to use, and which
 * layers are the inputs and outputs. Every field is optional here; whatever
 * is missing is inferred from the net (see net-io.ts).
 */
import { ModelLoadError, describeError } from '../../domain/errors.js';

export const DEPLOYMENT_META_FILE = 'deployment-meta.json';

export interface DeploymentMeta {
  readonly networkDefinitionsFileName?: string;
  readonly weightsFileName?: string;
  readonly inputLayers?: readonly string[];
  readonly outputLayers?: readonly string[];
}

export function parseDeploymentMeta(raw: string, where: string): DeploymentMeta {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (error) {
    throw new ModelLoadError(`${where} is not valid JSON: ${describeError(error)}`, { cause: error });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ModelLoadError(`${where} must hold a JSON object`);
  const record = value as Record<string, unknown>;
  return Object.freeze({
    networkDefinitionsFileName: fileName(record, 'network_definitions_file_name', where),
    weightsFileName: fileName(record, 'weights_file_name', where),
    inputLayers: layerNames(record, 'input_layers', where),
    outputLayers: layerNames(record, 'output_layers', where),
  });
}

function fileName(record: Record<string, unknown>, field: string, where: string): string | undefined {
  const v = record[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || v.trim() === '') throw new ModelLoadError(`${where}: "${field}" must be a non-empty string`);
  if (v.includes('..') || v.startsWith('/')) throw new ModelLoadError(`${where}: "${field}" must name a file inside the model folder; got "${v}"`);
  return v;
}

/** A list of layer names; a single string is accepted as a list of one. */
function layerNames(record: Record<string, unknown>, field: string, where: string): string[] | undefined {
  const v = record[field];
  if (v === undefined || v === null) return undefined;
  const list = typeof v === 'string' ? [v] : v;
  if (!Array.isArray(list) || list.length === 0 || !list.every((n) => typeof n === 'string' && n !== '')) {
    throw new ModelLoadError(`${where}: "${field}" must be a non-empty list of layer names, e.g. ["data"]`);
  }
  return [...new Set(list as string[])];
}
