/**
 * A model's graph rewrite: the model as a TensorFlow.js graph model
 * (`model.json` + `weights.bin`) in a folder of its model folder, made when
 * the model is packaged (`dropscore models add`), so that its scorer starts
 * from the frozen graph: `keras-graph/` for a Keras model (no h5wasm, no
 * TensorFlow.js layers), `tf-graph/` for a SavedModel (no protobuf decoding,
 * inlining or freezing at cold start). model.json records what it was made
 * from; a rewrite of other files is stale and never used. Light on purpose:
 * no TensorFlow.js, so a scorer (or CDK synth) can ask which engine to load
 * before loading one.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MODEL_META_FILE, parseModelMeta } from '../../models/model-artifact.js';

export interface GraphRewrite {
  readonly framework: 'keras' | 'tensorflow';
  /** Its folder in the model folder. */
  readonly dir: string;
  /** Where model.json records its source, under `userDefinedMetadata`. */
  readonly sourceKey: string;
  /** Files besides the artifact whose bytes the rewrite was made from, relative to the model folder. */
  readonly companions: readonly string[];
}

export const KERAS_GRAPH: GraphRewrite = { framework: 'keras', dir: 'keras-graph', sourceKey: 'dropscoreKerasSource', companions: [] };
// A SavedModel's weights are in variables/; its index holds every tensor's checksum, so it stands for the data files.
export const SAVED_MODEL_GRAPH: GraphRewrite = { framework: 'tensorflow', dir: 'tf-graph', sourceKey: 'dropscoreSavedModelSource', companions: ['variables/variables.index'] };

export const GRAPH_MODEL_FILE = 'model.json';
export const GRAPH_WEIGHTS_FILE = 'weights.bin';

/** What a rewrite records about its source. */
export interface RewriteSource {
  readonly artifact: string;
  /** The artifact's SHA-256, combined with its companions' bytes where it has any (sourceDigest). */
  readonly sha256: string;
}

export function graphRewritePath(modelDir: string, rewrite: GraphRewrite): string {
  return join(modelDir, rewrite.dir, GRAPH_MODEL_FILE);
}

/** The artifact's SHA-256 alone, or with the companions that exist: what a current rewrite records. */
export function sourceDigest(modelDir: string, rewrite: GraphRewrite, artifactSha256: string): string {
  const companions = rewrite.companions.flatMap((file) => {
    try {
      return [readFileSync(join(modelDir, file))];
    } catch {
      return [];
    }
  });
  if (companions.length === 0) return artifactSha256;
  const hash = createHash('sha256').update(artifactSha256);
  for (const bytes of companions) hash.update(bytes);
  return hash.digest('hex');
}

function recordedSource(modelJson: string, rewrite: GraphRewrite): RewriteSource | undefined {
  try {
    const source = (JSON.parse(modelJson) as { userDefinedMetadata?: Record<string, RewriteSource | undefined> }).userDefinedMetadata?.[rewrite.sourceKey];
    return typeof source?.sha256 === 'string' && typeof source.artifact === 'string' ? source : undefined;
  } catch {
    return undefined;
  }
}

/** The recorded source of the folder's rewrite, if there is one (at run time: the scorer compares it with the artifact it read). */
export async function readRewriteSource(modelDir: string, rewrite: GraphRewrite): Promise<RewriteSource | undefined> {
  try {
    return recordedSource(await readFile(graphRewritePath(modelDir, rewrite), 'utf8'), rewrite);
  } catch {
    return undefined;
  }
}

/** Whether a rewrite's recorded source is the folder's artifact (`sha256`: the artifact's) as it is now. */
export function isCurrentRewrite(source: RewriteSource | undefined, modelDir: string, rewrite: GraphRewrite, artifact: string, sha256: string): boolean {
  return source?.artifact === artifact && source.sha256 === sourceDigest(modelDir, rewrite, sha256);
}

/** Synchronous, for CDK synth: whether the model folder holds a rewrite of its current files. */
export function hasCurrentRewriteSync(modelDir: string, rewrite: GraphRewrite): boolean {
  let modelJson: string;
  try {
    modelJson = readFileSync(graphRewritePath(modelDir, rewrite), 'utf8');
  } catch {
    return false;
  }
  const metaPath = join(modelDir, MODEL_META_FILE);
  const meta = parseModelMeta(readFileSync(metaPath, 'utf8'), metaPath);
  if (meta.framework !== rewrite.framework) return false;
  const sha256 = createHash('sha256').update(readFileSync(join(modelDir, meta.artifact))).digest('hex');
  return isCurrentRewrite(recordedSource(modelJson, rewrite), modelDir, rewrite, meta.artifact, sha256);
}

/** At load: whether the artifact's folder holds a current rewrite (the scorer then loads it instead of the source). */
export async function hasCurrentRewrite(artifact: { readonly dir: string; readonly meta: { readonly artifact: string }; readonly sha256: string }, rewrite: GraphRewrite): Promise<boolean> {
  return isCurrentRewrite(await readRewriteSource(artifact.dir, rewrite), artifact.dir, rewrite, artifact.meta.artifact, artifact.sha256);
}
