/**
 * A SavedModel directory → an executable frozen graph for one SignatureDef:
 * the `serve` MetaGraphDef is decoded, the calls the signature reaches are
 * inlined, variables are frozen from the TensorBundle through the graph's
 * restore op, and the graph is pruned to what the signature's outputs need.
 */
import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ModelLoadError, describeError } from '../../domain/errors.js';
import { checkpointKeysFromRestoreOp } from './checkpoint-keys.js';
import { withDefaultAttrs } from './default-attrs.js';
import { WorkingGraph } from './function-inliner.js';
import { freezeGraph, type Feed, type VariableReader } from './graph-freezer.js';
import { decodeSavedModel, type MetaGraphDef, type SignatureDef, type TensorInfo } from './saved-model-decoder.js';
import { openTensorBundle, type TensorBundle } from './tensor-bundle.js';
import type { ExampleSignature } from '../engine.js';
import { controlFlowLibrary } from './control-flow-library.js';
import { replaceExampleParser } from './example-parser-feeds.js';
import { tensorSpec } from './tensor-specs.js';
import { DT, baseType, dtypeName, parseTensorRef, type TensorShape } from './tf-graph.js';
import { toTfjsArtifacts } from './tfjs-artifacts.js';
import type { ExecutableGraph, TensorBinding } from './tfjs-executor.js';

const SERVE_TAG = 'serve';
const DEFAULT_SIGNATURE = 'serving_default';
/** Not a serving signature: TF2 records its initialiser (asset/table setup) under this key. */
const INIT_OP_SIGNATURE = '__saved_model_init_op';

export async function loadSavedModelGraph(dir: string, signatureName: string | undefined, origin: string): Promise<ExecutableGraph> {
  try {
    return { ...(await freezeSignature(dir, signatureName ?? DEFAULT_SIGNATURE)), origin };
  } catch (error) {
    // Every step says what went wrong; this says with which model.
    throw new ModelLoadError(`${origin}: ${describeError(error)}`, { cause: error });
  }
}

async function freezeSignature(dir: string, name: string): Promise<Omit<ExecutableGraph, 'origin'>> {
  const metaGraph = await readServeMetaGraph(dir);
  const signature = pickSignature(metaGraph, name);
  const where = `signature "${name}"`;

  const graphDef = withDefaultAttrs(metaGraph.graph, metaGraph.attrDefaults);
  const graph = new WorkingGraph(graphDef.nodes, graphDef.functions);
  const inputs = [...signature.inputs].map(([key, info]) => ({ key, info: denseInfo(info, key, 'input', where) }));
  const outputs = [...signature.outputs].map(([key, info]) => ({ key, info: denseInfo(info, key, 'output', where) }));
  const roots = [...inputs, ...outputs].map(({ info }) => parseTensorRef(info.name).node);
  const missing = roots.filter((n) => !graph.nodes.has(n));
  if (missing.length > 0) throw new ModelLoadError(`${where} names tensors of nodes that are not in the graph: ${missing.join(', ')}`);
  graph.inlineFrom(roots, false);

  const fetches = outputs.map(({ info }) => info.name);
  const fed = exampleFeeds(graph, inputs, fetches, where) ?? {
    feeds: inputs.map(({ key, info }) => ({ key, tensor: info.name, dtype: info.dtype, shape: knownShape(info, graph) })),
  };
  const inputBindings: TensorBinding[] = fed.feeds.map((feed) => ({
    spec: tensorSpec(feed.key, feed.dtype, feed.shape, 'input', where),
    tensor: parseTensorRef(graph.resolve(feed.tensor)).node,
  }));
  const outputBindings: TensorBinding[] = outputs.map(({ key, info }) => ({
    spec: tensorSpec(key, info.dtype, info.shape, 'output', where),
    tensor: graph.resolve(info.name),
  }));

  const frozen = await freezeGraph(graph, fed.feeds, fetches, variableReader(dir, metaGraph, graph));
  const constants = new Map(frozen.flatMap((n) => (n.op === 'Const' && n.attr['value']?.kind === 'tensor' ? [[n.name, n.attr['value'].value.dtype] as const] : [])));
  const functions = controlFlowLibrary(frozen, graph.library, constants);
  const examples = fed.examples ? { examples: fed.examples.signature, notes: [fed.examples.note] } : {};
  const artifacts = toTfjsArtifacts(frozen, metaGraph.graph.producer, functions, graph.library);
  return { artifacts, inputs: inputBindings, outputs: outputBindings, ...examples };
}

interface KeyedFeed extends Feed {
  readonly key: string;
}

/**
 * A signature whose one input is serialized tf.Example: the parser's dense
 * features become the inputs (example-parser-feeds.ts). undefined for other signatures.
 */
function exampleFeeds(
  graph: WorkingGraph,
  inputs: readonly { key: string; info: TensorInfo }[],
  fetches: readonly string[],
  where: string,
): { feeds: KeyedFeed[]; examples?: { signature: ExampleSignature; note: string } } | undefined {
  const strings = inputs.filter(({ info }) => baseType(info.dtype) === DT.STRING);
  if (strings.length === 0) return undefined;
  if (inputs.length !== 1) {
    throw new ModelLoadError(`${where}: input "${strings[0]!.key}" is DT_STRING; tf.Example signatures are supported with a single input`);
  }
  const { key, info } = strings[0]!;
  const parsed = replaceExampleParser(graph, info.name, fetches, `${where}: input "${key}"`);
  const feeds = parsed.features.map((f) => ({ key: f.key, tensor: f.placeholder, dtype: f.dtype, shape: f.shape }));
  const defaults = Object.fromEntries(parsed.features.flatMap((f) => (f.defaultValue ? [[f.key, f.defaultValue]] : [])));
  const featureList = parsed.features.map((f) => `"${f.key}" ${dtypeName(f.dtype)} [${f.shape.dims!.slice(1).join(',')}]${f.defaultValue ? ' (optional)' : ''}`).join(', ');
  const rows = parsed.features.length === 1 ? ` or rows under "${key}"` : '';
  const note = `${where} takes serialized tf.Example ("${key}", parsed by ${parsed.parserOp}): records give the features ${featureList} as {"examples": [{...}, ...]}${rows}, fed to the parser's outputs directly`;
  return { feeds, examples: { signature: { input: key, defaults, ignored: parsed.otherKeys }, note } };
}

async function readServeMetaGraph(dir: string): Promise<MetaGraphDef> {
  const path = join(dir, 'saved_model.pb');
  let metaGraphs: MetaGraphDef[];
  try {
    metaGraphs = decodeSavedModel(await readFile(path));
  } catch (error) {
    throw new ModelLoadError(`cannot read ${path} as a SavedModel: ${describeError(error)}`, { cause: error });
  }
  const serving = metaGraphs.filter((m) => m.tags.includes(SERVE_TAG));
  // Prefer the plain `serve` graph over e.g. `serve,gpu` or `serve,tpu` variants.
  const chosen = serving.find((m) => m.tags.length === 1) ?? serving[0];
  if (!chosen) {
    const tagSets = metaGraphs.map((m) => `[${m.tags.join(',')}]`).join(' ') || 'none';
    throw new ModelLoadError(`the SavedModel has no MetaGraphDef tagged "${SERVE_TAG}" (tag sets: ${tagSets})`);
  }
  return chosen;
}

function pickSignature(metaGraph: MetaGraphDef, name: string): SignatureDef {
  const signature = metaGraph.signatures.get(name);
  if (signature && name !== INIT_OP_SIGNATURE) return signature;
  const available = [...metaGraph.signatures.keys()].filter((k) => k !== INIT_OP_SIGNATURE).sort();
  throw new ModelLoadError(
    `no signature "${name}"; available signatures: ${available.length > 0 ? available.join(', ') : 'none'} (choose one with "signature" in model-meta.json)`,
  );
}

function denseInfo(info: TensorInfo, key: string, role: string, where: string): TensorInfo {
  if (info.encoding !== 'dense') throw new ModelLoadError(`${where}: ${role} "${key}" is a ${info.encoding} tensor; only dense tensors are supported`);
  return info;
}

/** The signature's shape, or the placeholder's own when the signature left the rank unknown. */
function knownShape(info: TensorInfo, graph: WorkingGraph): TensorShape {
  if (info.shape.dims !== null) return info.shape;
  const node = graph.nodes.get(parseTensorRef(info.name).node);
  const shape = node?.attr['shape'];
  return shape?.kind === 'shape' ? shape.value : info.shape;
}

/** Opens the checkpoint and maps variables to keys only once a variable is actually needed. */
function variableReader(dir: string, metaGraph: MetaGraphDef, graph: WorkingGraph): VariableReader {
  let state: Promise<{ bundle: TensorBundle; keys: Map<string, string>; slices: Map<string, string> }> | undefined;
  const open = async (): Promise<{ bundle: TensorBundle; keys: Map<string, string>; slices: Map<string, string> }> => {
    const prefix = join(dir, 'variables', 'variables');
    try {
      await access(`${prefix}.index`);
    } catch (error) {
      throw new ModelLoadError(`the serving graph reads variables but ${prefix}.index is missing`, { cause: error });
    }
    let bundle: TensorBundle;
    try {
      bundle = await openTensorBundle(prefix);
    } catch (error) {
      throw new ModelLoadError(`cannot read the checkpoint ${prefix}.index: ${describeError(error)}`, { cause: error });
    }
    if (!metaGraph.saver) throw new ModelLoadError('the graph has variables but no SaverDef to say where their values are');
    try {
      const slices = new Map<string, string>();
      return { bundle, keys: checkpointKeysFromRestoreOp(graph, metaGraph.saver.restoreOpName, slices), slices };
    } catch (error) {
      throw new ModelLoadError(`cannot map variables to checkpoint keys: ${describeError(error)}`, { cause: error });
    }
  };
  return async (variable) => {
    state ??= open();
    const { bundle, keys, slices } = await state;
    const key = keys.get(variable);
    if (key === undefined) throw new ModelLoadError(`variable "${variable}" is not restored by the graph's restore op, so its value is unknown`);
    try {
      return await bundle.read(key, slices.get(variable));
    } catch (error) {
      throw new ModelLoadError(`cannot read variable "${variable}" (checkpoint key "${key}"): ${describeError(error)}`, { cause: error });
    }
  };
}
