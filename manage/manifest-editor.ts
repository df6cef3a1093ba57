/**
 * Edits `deployments.json` for the CLI: adds or removes one deployment entry,
 * validating the whole manifest before writing, so a bad edit never lands.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { ConfigError, describeError } from '../functions/scorer/domain/errors.js';
import { parseDeploymentsManifest, type DeploymentsManifest } from '../infra/manifest/deployments-manifest.js';

interface ManifestJson {
  deployments: Record<string, unknown>[];
  [key: string]: unknown;
}

export interface ManifestEntry {
  readonly name: string;
  readonly description?: string;
  readonly model: string;
  readonly source: { readonly bucket: string; readonly prefix?: string };
  readonly target: { readonly bucket: string; readonly prefix?: string };
}

export function readManifest(path: string): DeploymentsManifest {
  return parseDeploymentsManifest(readJson(path), path);
}

export function addManifestEntry(path: string, entry: ManifestEntry): DeploymentsManifest {
  const json = readJson(path);
  json.deployments = [...json.deployments.filter((d) => d['name'] !== entry.name), { ...entry }];
  return write(path, json);
}

export function removeManifestEntry(path: string, name: string): DeploymentsManifest {
  const json = readJson(path);
  json.deployments = json.deployments.filter((d) => d['name'] !== name);
  return write(path, json);
}

function write(path: string, json: ManifestJson): DeploymentsManifest {
  const manifest = parseDeploymentsManifest(json, path);
  writeFileSync(path, `${JSON.stringify(json, null, 2)}\n`);
  return manifest;
}

function readJson(path: string): ManifestJson {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return { deployments: [] };
    throw new ConfigError(`cannot read ${path}: ${describeError(error)}`, { cause: error });
  }
  if (!Array.isArray((json as ManifestJson)?.deployments)) throw new ConfigError(`${path}: expected {"deployments": [...]}`);
  return json as ManifestJson;
}
