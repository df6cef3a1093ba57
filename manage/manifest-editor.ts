/**
 * Edits `deployments.json` for the CLI: adds or removes one deployment entry,
 * validating the whole manifest before writing, so a bad edit never lands.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
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
  // On AWS a deploy lands in the table only after `cdk deploy`: the manifest is what says a name is taken.
  if (json.deployments.some((d) => d['name'] === entry.name)) throw new ConfigError(`${path} already has a deployment named "${entry.name}"`);
  json.deployments = [...json.deployments, { ...entry }];
  return write(path, json);
}

export function removeManifestEntry(path: string, name: string): DeploymentsManifest {
  const json = readJson(path);
  json.deployments = json.deployments.filter((d) => d['name'] !== name);
  return write(path, json);
}

function write(path: string, json: ManifestJson): DeploymentsManifest {
  const manifest = parseDeploymentsManifest(json, path);
  // Write then rename, so a reader never sees half a manifest.
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(json, null, 2)}\n`);
  renameSync(temporary, path);
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
