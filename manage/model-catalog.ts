/**
 * The models a user can deploy: the folders under `layers/models/`. Adding a
 * model copies its files there, writes its model-meta.json, and keeps it only
 * if it really loads, recording the signature it loaded with.
 */
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { ConfigError, ModelLoadError, UsageLimitError, describeError } from '../functions/scorer/domain/errors.js';
import type { Signature } from '../functions/scorer/engines/engine.js';
import { loadModel } from '../functions/scorer/engines/framework-engines.js';
import { FRAMEWORKS, MODEL_META_FILE, parseModelMeta, type Framework } from '../functions/scorer/models/model-artifact.js';

export interface ModelSummary {
  readonly name: string;
  readonly framework: string;
  readonly version: string;
  readonly created: string;
  readonly description: string;
  /** Set when the folder's model-meta.json cannot be read. */
  readonly problem?: string;
}

export async function listModels(modelsRoot: string): Promise<ModelSummary[]> {
  if (!existsSync(modelsRoot)) return [];
  const names = readdirSync(modelsRoot).filter((n) => statSync(join(modelsRoot, n)).isDirectory()).sort();
  return Promise.all(names.map((name) => summarise(modelsRoot, name)));
}

async function summarise(modelsRoot: string, name: string): Promise<ModelSummary> {
  const metaPath = join(modelsRoot, name, MODEL_META_FILE);
  try {
    const meta = parseModelMeta(await readFile(metaPath, 'utf8'), metaPath);
    return { name, framework: meta.framework, version: meta.version, created: meta.created ?? statSync(metaPath).mtime.toISOString(), description: meta.description ?? '' };
  } catch (error) {
    return { name, framework: '?', version: '?', created: '', description: '', problem: describeError(error) };
  }
}

export async function findModel(modelsRoot: string, name: string): Promise<ModelSummary> {
  const models = await listModels(modelsRoot);
  const model = models.find((m) => m.name === name);
  if (!model) throw new ConfigError(`no model named "${name}"; models: ${models.map((m) => m.name).join(', ') || '(none: add one with `dropscore models add`)'}`);
  return model;
}

export async function showModel(modelsRoot: string, name: string): Promise<{ summary: ModelSummary; signature: Signature; notes: readonly string[] }> {
  const summary = await findModel(modelsRoot, name);
  const loaded = await loadModel(join(modelsRoot, name));
  return { summary, signature: loaded.model.signature, notes: loaded.model.notes ?? [] };
}

export interface AddModelOptions {
  readonly framework: string;
  readonly name?: string;
  readonly modelCountLimit?: number;
}

/** Which file of a folder is the artifact model-meta.json names, per framework. */
const ARTIFACT_PATTERNS: Record<Framework, RegExp> = {
  onnx: /\.onnx$/i,
  keras: /\.(h5|hdf5|keras)$/i,
  tfjs: /^model\.json$/,
  caffe: /\.caffemodel$/i,
  tensorflow: /^saved_model\.pb$/,
};

export async function addModel(modelsRoot: string, source: string, options: AddModelOptions): Promise<{ summary: ModelSummary; signature: Signature; notes: readonly string[] }> {
  const framework = options.framework as Framework;
  if (!FRAMEWORKS.includes(framework)) throw new ConfigError(`--framework must be one of ${FRAMEWORKS.join(', ')}, got "${options.framework}"`);
  if (!existsSync(source)) throw new ConfigError(`${source} does not exist`);
  const name = options.name ?? toModelName(basename(source, extname(source)));
  if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(name)) throw new ConfigError(`model name "${name}" must be lowercase letters, digits and hyphens (use --name)`);
  const existing = await listModels(modelsRoot);
  if (existing.some((m) => m.name === name)) throw new ConfigError(`a model named "${name}" exists already (use --name)`);
  if (options.modelCountLimit !== undefined && existing.length >= options.modelCountLimit) {
    throw new UsageLimitError('MODEL_LIMIT_REACHED', `the instance has ${existing.length} of its ${options.modelCountLimit} models (limit model_count)`);
  }

  const sourceIsDir = statSync(source).isDirectory();
  const folder = sourceIsDir ? source : dirname(source);
  const candidates = (sourceIsDir ? readdirSync(source) : [basename(source)]).filter((f) => ARTIFACT_PATTERNS[framework].test(f));
  if (candidates.length !== 1) {
    const found = candidates.length ? candidates.join(', ') : 'none';
    throw new ConfigError(`${source}: expected one ${framework} artifact (a file matching ${ARTIFACT_PATTERNS[framework]}), found ${found}${sourceIsDir ? '; name the file instead of the folder' : ''}`);
  }
  const artifact = candidates[0]!;
  const dir = join(modelsRoot, name);
  mkdirSync(dir, { recursive: true });
  try {
    // A file brings the companions its framework needs: Caffe's prototxt and deployment-meta.json; a TF.js
    // model's weight shards and a SavedModel's variables/ live beside it, so those take the whole folder.
    const wholeFolder = sourceIsDir || framework === 'tfjs' || framework === 'tensorflow';
    const companions = wholeFolder ? readdirSync(folder) : framework === 'caffe' ? readdirSync(folder).filter((f) => /\.prototxt$|^deployment-meta\.json$/.test(f) || f === artifact) : [artifact];
    for (const file of companions) cpSync(join(folder, file), join(dir, file), { recursive: true });
    const meta = { name, framework, version: '1', artifact, created: new Date().toISOString(), description: `added from ${source}` };
    writeFileSync(join(dir, MODEL_META_FILE), `${JSON.stringify(meta, null, 2)}\n`);
    const loaded = await loadModel(dir);
    const signature = loaded.model.signature;
    writeFileSync(join(dir, MODEL_META_FILE), `${JSON.stringify({ ...meta, inputs: signature.inputs, outputs: signature.outputs }, null, 2)}\n`);
    const packaged = await packageGraphRewrite(dir, framework);
    return { summary: await summarise(modelsRoot, name), signature, notes: packaged ? [packaged] : [] };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    if (error instanceof ModelLoadError) throw new ModelLoadError(`not added: ${error.message}`, { cause: error });
    throw error;
  }
}

/**
 * Keras models and SavedModels are packaged with their graph rewrite when it can express them
 * (a lighter, faster-starting scorer); says what was done, for the caller to show.
 */
export async function packageGraphRewrite(dir: string, framework: string): Promise<string | undefined> {
  if (framework === 'keras') {
    const { packageKerasGraph } = await import('../functions/scorer/engines/keras/keras-graph-packaging.js');
    const outcome = await packageKerasGraph(dir);
    return outcome.rewritten
      ? 'rewritten as a TensorFlow graph (keras-graph/): deployments of it run without h5wasm and TensorFlow.js layers'
      : `scored by the Keras engine (no graph rewrite): ${outcome.reason}`;
  }
  if (framework === 'tensorflow') {
    const { packageSavedModelGraph } = await import('../functions/scorer/engines/tensorflow/saved-model-graph-packaging.js');
    const outcome = await packageSavedModelGraph(dir);
    return outcome.rewritten
      ? 'packaged with its frozen graph (tf-graph/): deployments of it start without decoding and freezing the SavedModel'
      : `frozen at each start (no tf-graph/): ${outcome.reason}`;
  }
  return undefined;
}

function toModelName(stem: string): string {
  return stem.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 63) || 'model';
}
