/** The framework of each model the manifest deploys, read from its model-meta.json (synth fails early on a bad model folder). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, describeError } from '../../functions/scorer/domain/errors.js';
import { MODEL_META_FILE, parseModelMeta } from '../../functions/scorer/models/model-artifact.js';
import type { DeploymentsManifest } from '../manifest/deployments-manifest.js';

export function readModelFrameworks(modelsRoot: string, manifest: DeploymentsManifest): Record<string, string> {
  const frameworks: Record<string, string> = {};
  for (const { model } of manifest.deployments) {
    const path = join(modelsRoot, model, MODEL_META_FILE);
    let raw: string;
    try {
      raw = readFileSync(path, 'utf8');
    } catch (error) {
      throw new ConfigError(`model "${model}" has no readable ${path}: ${describeError(error)}`, { cause: error });
    }
    frameworks[model] = parseModelMeta(raw, path).framework;
  }
  return frameworks;
}
