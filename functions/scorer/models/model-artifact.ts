/**
 * A model is a folder: its artifact file(s) plus `model-meta.json`, which names
 * the framework and the artifact. Reading it validates the metadata and
 * fingerprints the artifact so every outcome can carry its lineage.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
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

/** Errors name the model by its folder's name, never by a path on the server (they reach outcomes and status details). */
export async function readModelArtifact(dir: string): Promise<ModelArtifact> {
  const model = `model "${basename(dir)}"`;
  let raw: string;
  try {
    raw = await readFile(join(dir, MODEL_META_FILE), 'utf8');
  } catch (error) {
    throw new ModelLoadError(`${model}: cannot read ${MODEL_META_FILE}: ${fileErrorOf(error)}`, { cause: error });
  }
  const meta = parseModelMeta(raw, `${model}: ${MODEL_META_FILE}`);
  const artifactPath = join(dir, meta.artifact);
  let bytes: Buffer;
  try {
    bytes = await readFile(artifactPath);
  } catch (error) {
    throw new ModelLoadError(`${model}: cannot read its artifact ${meta.artifact}: ${fileErrorOf(error)}`, { cause: error });
  }
  return Object.freeze({ dir, meta, artifactPath, sha256: createHash('sha256').update(bytes).digest('hex') });
}

/** A file system error by its code (ENOENT, EACCES): its message would carry the path. */
function fileErrorOf(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  return code ?? describeError(error);
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
