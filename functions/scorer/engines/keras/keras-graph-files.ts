/**
 * Where a Keras model's graph rewrite (keras-graph-converter.ts) is kept: a
 * TensorFlow.js graph model (`model.json` + `weights.bin`) in `keras-graph/`
 * of the model folder, recording the SHA-256 of the Keras file it was made
 * from. A rewrite whose source differs from the folder's artifact is stale
 * and never used. Light on purpose: no TensorFlow.js, so a scorer can ask
 * which engine to load before loading one.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MODEL_META_FILE, parseModelMeta } from '../../models/model-artifact.js';

export const KERAS_GRAPH_DIR = 'keras-graph';
export const KERAS_GRAPH_MODEL = 'model.json';
export const KERAS_GRAPH_WEIGHTS = 'weights.bin';

/** What the rewrite's model.json records about its source, under `userDefinedMetadata.dropscoreKerasSource`. */
export interface KerasGraphSource {
  readonly artifact: string;
  readonly sha256: string;
}

export function kerasGraphPath(modelDir: string): string {
  return join(modelDir, KERAS_GRAPH_DIR, KERAS_GRAPH_MODEL);
}

export function recordedSource(modelJson: string): KerasGraphSource | undefined {
  try {
    const source = (JSON.parse(modelJson) as { userDefinedMetadata?: { dropscoreKerasSource?: KerasGraphSource } }).userDefinedMetadata?.dropscoreKerasSource;
    return typeof source?.sha256 === 'string' && typeof source.artifact === 'string' ? source : undefined;
  } catch {
    return undefined;
  }
}

/** The recorded source of the folder's rewrite, if there is one (at run time: the scorer compares it with the artifact it read). */
export async function readKerasGraphSource(modelDir: string): Promise<KerasGraphSource | undefined> {
  try {
    return recordedSource(await readFile(kerasGraphPath(modelDir), 'utf8'));
  } catch {
    return undefined;
  }
}

/** Synchronous, for CDK synth: whether the model folder holds a rewrite of its current Keras artifact. */
export function hasCurrentKerasGraphSync(modelDir: string): boolean {
  let modelJson: string;
  try {
    modelJson = readFileSync(kerasGraphPath(modelDir), 'utf8');
  } catch {
    return false;
  }
  const source = recordedSource(modelJson);
  const metaPath = join(modelDir, MODEL_META_FILE);
  const meta = parseModelMeta(readFileSync(metaPath, 'utf8'), metaPath);
  if (meta.framework !== 'keras' || source?.artifact !== meta.artifact) return false;
  return createHash('sha256').update(readFileSync(join(modelDir, meta.artifact))).digest('hex') === source.sha256;
}
