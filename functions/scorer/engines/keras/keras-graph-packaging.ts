/**
 * Packaging step for Keras models (`dropscore models add`, tools/keras-graph.ts):
 * rewrite the model as a TensorFlow graph into keras-graph/ of its folder,
 * then check the rewrite against the Keras engine on a probe batch before
 * keeping it. A model the rewrite cannot express (or whose rewrite disagrees)
 * keeps no keras-graph/ and is scored by the Keras engine, as before; the
 * reason is returned for the caller to show.
 */
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ModelLoadError, describeError } from '../../domain/errors.js';
import { readModelArtifact } from '../../models/model-artifact.js';
import type { Model, TensorMap } from '../engine.js';
import { kerasEngine, buildLayersModel } from './keras-engine.js';
import { convertKerasModel, KerasConversionError, type GraphEndpoint } from './keras-graph-converter.js';
import { KERAS_GRAPH_DIR, KERAS_GRAPH_MODEL, KERAS_GRAPH_WEIGHTS, type KerasGraphSource } from './keras-graph-files.js';
import { kerasGraphEngine } from './keras-graph-engine.js';

export type KerasGraphOutcome = { readonly rewritten: true; readonly maxRelativeError: number } | { readonly rewritten: false; readonly reason: string };

/** Agreement the probe asks of the rewrite: the Keras tests' tolerance, |a − b| ≤ 1e-5 · max(1, |b|). */
const TOLERANCE = 1e-5;
/** Size of a free (non-batch) dimension in the probe batch. */
const FREE_DIM = 16;

export async function packageKerasGraph(modelDir: string): Promise<KerasGraphOutcome> {
  const artifact = await readModelArtifact(modelDir);
  if (artifact.meta.framework !== 'keras') throw new ModelLoadError(`model "${artifact.meta.name}" is a ${artifact.meta.framework} model, not keras`);
  const target = join(modelDir, KERAS_GRAPH_DIR);
  rmSync(target, { recursive: true, force: true });
  let graph;
  try {
    graph = convertKerasModel(await buildLayersModel(artifact.artifactPath), artifact.meta.artifact);
  } catch (error) {
    if (error instanceof KerasConversionError) return { rewritten: false, reason: error.message };
    throw error;
  }
  const source: KerasGraphSource = { artifact: artifact.meta.artifact, sha256: artifact.sha256 };
  const staging = `${target}.tmp-${process.pid}`;
  mkdirSync(staging, { recursive: true });
  const endpoints = (list: readonly GraphEndpoint[]) =>
    Object.fromEntries(list.map((e) => [e.key, { name: `${e.node}:0`, dtype: 'DT_FLOAT', tensorShape: { dim: e.shape.map((d) => ({ size: String(d ?? -1) })) } }]));
  const modelJson = {
    format: 'graph-model',
    generatedBy: 'dropscore keras-graph-converter',
    modelTopology: graph.artifacts.modelTopology,
    weightsManifest: [{ paths: [KERAS_GRAPH_WEIGHTS], weights: graph.artifacts.weightSpecs }],
    signature: { inputs: endpoints(graph.inputs), outputs: endpoints(graph.outputs) },
    userDefinedMetadata: { dropscoreKerasSource: source },
  };
  writeFileSync(join(staging, KERAS_GRAPH_MODEL), JSON.stringify(modelJson));
  writeFileSync(join(staging, KERAS_GRAPH_WEIGHTS), new Uint8Array(graph.artifacts.weightData));
  renameSync(staging, target);

  let error: number;
  try {
    error = await compareOnProbe(await kerasEngine.load(artifact), await kerasGraphEngine.load(artifact));
  } catch (failure) {
    rmSync(target, { recursive: true, force: true });
    return { rewritten: false, reason: `${artifact.meta.artifact}: the graph rewrite does not run: ${describeError(failure)}` };
  }
  if (!(error <= TOLERANCE)) {
    rmSync(target, { recursive: true, force: true });
    return { rewritten: false, reason: `${artifact.meta.artifact}: the graph rewrite differs from the Keras engine by ${error.toExponential(2)} (relative) on a probe batch` };
  }
  return { rewritten: true, maxRelativeError: error };
}

/** Both models on the same seeded batch of two: the largest |a − b| / max(1, |b|) over every output. */
async function compareOnProbe(keras: Model, graph: Model): Promise<number> {
  let seed = 1;
  const next = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const inputs: TensorMap = Object.fromEntries(keras.signature.inputs.map((spec) => {
    const shape = spec.shape.map((d, i) => (i === 0 ? 2 : d ?? FREE_DIM));
    const data = Float32Array.from({ length: shape.reduce((n, d) => n * d, 1) }, next);
    return [spec.name, { dtype: 'float32' as const, shape, data }];
  }));
  const [expected, actual] = [await keras.predict(inputs), await graph.predict(inputs)];
  let worst = 0;
  for (const spec of keras.signature.outputs) {
    const want = expected[spec.name]!.data as Float32Array;
    const got = actual[spec.name]?.data as Float32Array | undefined;
    if (!got || got.length !== want.length) return Number.POSITIVE_INFINITY;
    for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!) / Math.max(1, Math.abs(want[i]!)));
  }
  return worst;
}
