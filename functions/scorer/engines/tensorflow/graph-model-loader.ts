/**
 * A TensorFlow.js graph model (`model.json` with `"format": "graph-model"` +
 * binary weight shards) is already a frozen, inlined GraphDef: it goes to the
 * executor as it is, with the weights read from the model folder. Records are
 * keyed by the signature's keys with the `:0` of the first output dropped
 * (`input_1:0` → `input_1`), i.e. by node name as `GraphModel.execute` takes it.
 */
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, normalize } from 'node:path';
import { ModelLoadError, describeError } from '../../domain/errors.js';
import { tf } from '../tfjs-runtime.js';
import { dtypeFromName, tensorSpec } from './tensor-specs.js';
import { DT, type TensorShape } from './tf-graph.js';
import type { ExecutableGraph, TensorBinding } from './tfjs-executor.js';

interface JsonTensorInfo {
  readonly name?: string;
  readonly dtype?: string;
  readonly tensorShape?: { readonly dim?: readonly { readonly size?: string | number }[]; readonly unknownRank?: boolean };
}

interface JsonSignature {
  readonly inputs?: Readonly<Record<string, JsonTensorInfo>>;
  readonly outputs?: Readonly<Record<string, JsonTensorInfo>>;
}

interface JsonNode {
  readonly name: string;
  readonly op: string;
  readonly input?: readonly string[];
  readonly attr?: Readonly<Record<string, { type?: string | number; shape?: JsonTensorInfo['tensorShape'] }>>;
}

/** Whether a model.json is a graph model (this engine) rather than a layers model (the Keras engine). */
export async function isGraphModelJson(path: string): Promise<boolean> {
  try {
    const json = JSON.parse(await readFile(path, 'utf8')) as { format?: string; modelTopology?: { node?: unknown } };
    return json.format === 'graph-model' || Array.isArray(json.modelTopology?.node);
  } catch {
    return false;
  }
}

export async function loadGraphModelJson(path: string, origin: string): Promise<ExecutableGraph> {
  let json: tf.io.ModelJSON & { signature?: JsonSignature; userDefinedMetadata?: { signature?: JsonSignature } };
  try {
    json = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new ModelLoadError(`${origin}: cannot read ${path} as JSON: ${describeError(error)}`, { cause: error });
  }
  const topology = json.modelTopology as { node?: JsonNode[] } | undefined;
  if (json.format !== 'graph-model' && !Array.isArray(topology?.node)) {
    throw new ModelLoadError(`${origin}: ${path} is a TensorFlow.js "${json.format ?? 'layers-model'}", not a "graph-model"; only graph models run on this engine`);
  }
  const nodes = topology?.node ?? [];
  const dir = dirname(path);
  let artifacts: tf.io.ModelArtifacts;
  try {
    artifacts = await tf.io.getModelArtifactsForJSON(json, (manifest) => readWeights(dir, manifest));
  } catch (error) {
    throw error instanceof ModelLoadError ? error : new ModelLoadError(`${origin}: cannot read the weights of ${path}: ${describeError(error)}`, { cause: error });
  }
  const where = `${origin} (${path})`;
  const signature = json.signature ?? json.userDefinedMetadata?.signature;
  const inputs = signature?.inputs ? fromSignature(signature.inputs, 'input', where) : fromPlaceholders(nodes, where);
  const outputs = signature?.outputs ? fromSignature(signature.outputs, 'output', where) : fromLeaves(nodes, where);
  return { artifacts, inputs, outputs, origin };
}

async function readWeights(dir: string, manifest: tf.io.WeightsManifestConfig): Promise<[tf.io.WeightsManifestEntry[], ArrayBuffer]> {
  const chunks: Uint8Array[] = [];
  for (const group of manifest) {
    for (const path of group.paths) {
      if (isAbsolute(path) || normalize(path).startsWith('..')) throw new ModelLoadError(`weight file "${path}" must stay inside the model folder`);
      chunks.push(await readFile(join(dir, path)));
    }
  }
  const data = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    data.set(c, at);
    at += c.length;
  }
  return [tf.io.getWeightSpecs(manifest), data.buffer];
}

function fromSignature(entries: Readonly<Record<string, JsonTensorInfo>>, role: 'input' | 'output', where: string): TensorBinding[] {
  return Object.entries(entries).map(([key, info]) => {
    const tensor = stripFirstOutput(info.name ?? key);
    const dtype = info.dtype === undefined ? DT.FLOAT : dtypeFromName(info.dtype);
    if (dtype === undefined) throw new ModelLoadError(`${where}: ${role} "${key}" has unknown dtype ${info.dtype}`);
    return { spec: tensorSpec(stripFirstOutput(key), dtype, jsonShape(info.tensorShape), role, where), tensor };
  });
}

/** Without a signature, TensorFlow.js feeds the placeholders... */
function fromPlaceholders(nodes: readonly JsonNode[], where: string): TensorBinding[] {
  return nodes
    .filter((n) => n.op === 'Placeholder')
    .map((n) => ({ spec: tensorSpec(n.name, attrDtype(n, 'dtype'), jsonShape(n.attr?.['shape']?.shape), 'input', where), tensor: n.name }));
}

/** ...and fetches the nodes nothing consumes. */
function fromLeaves(nodes: readonly JsonNode[], where: string): TensorBinding[] {
  const consumed = new Set(nodes.flatMap((n) => (n.input ?? []).map((i) => i.replace(/^\^/, '').replace(/:\d+$/, ''))));
  return nodes
    .filter((n) => !consumed.has(n.name) && n.op !== 'NoOp' && n.op !== 'Const')
    .map((n) => ({ spec: tensorSpec(n.name, attrDtype(n, 'T'), { dims: null }, 'output', where), tensor: n.name }));
}

function attrDtype(node: JsonNode, attr: string): number {
  const type = node.attr?.[attr]?.type ?? node.attr?.['dtype']?.type;
  if (typeof type === 'number') return type;
  return dtypeFromName(type ?? '') ?? DT.FLOAT;
}

function jsonShape(shape: JsonTensorInfo['tensorShape']): TensorShape {
  if (!shape || shape.unknownRank) return { dims: null };
  return { dims: (shape.dim ?? []).map((d) => Number(d.size ?? -1)) };
}

function stripFirstOutput(name: string): string {
  return name.endsWith(':0') ? name.slice(0, -2) : name;
}
