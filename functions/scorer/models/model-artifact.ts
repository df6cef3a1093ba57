/**
 * A model is a folder: its artifact file(s) plus `model-meta.json`, which names
 * the framework and the artifact. Reading it validates the metadata and
 * fingerprints the artifact so every outcome can carry its lineage.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ModelLoadError, describeError } from '../domain/errors.js';

export const MODEL_META_FILE = 'model-meta.json';

export const FRAMEWORKS = ['onnx', 'keras', 'tensorflow', 'caffe', 'tfjs'] as const;
export type Framework = (typeof FRAMEWORKS)[number];

export interface ModelMeta {
  readonly name: string;
  readonly framework: Framework;
  readonly version: string;
  /** Main artifact file, relative to the model folder. */
  readonly artifact: string;
  readonly description?: string;
  /** TensorFlow: the SignatureDef to serve (default `serving_default`). */
  readonly signature?: string;
  /** ISO time the model was added (by `dropscore models add`). */
  readonly created?: string;
}

export interface ModelArtifact {
  readonly dir: string;
  readonly meta: ModelMeta;
  readonly artifactPath: string;
  readonly sha256: string;
}

export async function readModelArtifact(dir: string): Promise<ModelArtifact> {
  const metaPath = join(dir, MODEL_META_FILE);
  let raw: string;
  try {
    raw = await readFile(metaPath, 'utf8');
  } catch (error) {
    throw new ModelLoadError(`cannot read ${metaPath}: ${describeError(error)}`, { cause: error });
  }
  const meta = parseModelMeta(raw, metaPath);
  const artifactPath = join(dir, meta.artifact);
  let bytes: Buffer;
  try {
    bytes = await readFile(artifactPath);
  } catch (error) {
    throw new ModelLoadError(`cannot read model artifact ${artifactPath}: ${describeError(error)}`, { cause: error });
  }
  return Object.freeze({ dir, meta, artifactPath, sha256: createHash('sha256').update(bytes).digest('hex') });
}

export function parseModelMeta(raw: string, where: string): ModelMeta {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (error) {
    throw new ModelLoadError(`${where} is not valid JSON: ${describeError(error)}`, { cause: error });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ModelLoadError(`${where} must hold a JSON object`);
  }
  const record = value as Record<string, unknown>;
  const text = (field: string, required: boolean): string | undefined => {
    const v = record[field];
    if (v === undefined && !required) return undefined;
    if (typeof v !== 'string' || v.trim() === '') throw new ModelLoadError(`${where}: "${field}" must be a non-empty string`);
    return v;
  };
  const framework = text('framework', true) as Framework;
  if (!FRAMEWORKS.includes(framework)) {
    throw new ModelLoadError(`${where}: unknown framework "${framework}" (known: ${FRAMEWORKS.join(', ')})`);
  }
  const artifact = text('artifact', true)!;
  if (artifact.includes('..')) throw new ModelLoadError(`${where}: "artifact" must stay inside the model folder`);
  return Object.freeze({
    name: text('name', true)!,
    framework,
    version: text('version', false) ?? '1',
    artifact,
    description: text('description', false),
    signature: text('signature', false),
    created: text('created', false),
  });
}
