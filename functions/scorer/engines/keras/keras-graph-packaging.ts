/**
 * Packaging step for Keras models (`dropscore models add`, tools/graph-rewrite.ts):
 * rewrite the model as a TensorFlow graph into keras-graph/ of its folder,
 * then check the rewrite against the Keras engine on a probe batch before
 * keeping it. A model the rewrite cannot express (or whose rewrite disagrees)
 * keeps no keras-graph/ and is scored by the Keras engine, as before; the
 * reason is returned for the caller to show.
 */
import { ModelLoadError, describeError } from '../../domain/errors.js';
import { readModelArtifact } from '../../models/model-artifact.js';
import { KERAS_GRAPH } from '../graph-rewrite/graph-rewrite-files.js';
import { removeGraphRewrite, writeGraphRewrite, type GraphRewriteOutcome, type SignatureEntry } from '../graph-rewrite/graph-rewrite-writer.js';
import { probeDisagreement, REWRITE_TOLERANCE } from '../graph-rewrite/probe-agreement.js';
import { kerasEngine, buildLayersModel } from './keras-engine.js';
import { convertKerasModel, KerasConversionError, type GraphEndpoint } from './keras-graph-converter.js';
import { kerasGraphEngine } from './keras-graph-engine.js';

export async function packageKerasGraph(modelDir: string): Promise<GraphRewriteOutcome> {
  const artifact = await readModelArtifact(modelDir);
  if (artifact.meta.framework !== 'keras') throw new ModelLoadError(`model "${artifact.meta.name}" is a ${artifact.meta.framework} model, not keras`);
  removeGraphRewrite(modelDir, KERAS_GRAPH);
  let graph;
  try {
    graph = convertKerasModel(await buildLayersModel(artifact.artifactPath), artifact.meta.artifact);
  } catch (error) {
    if (error instanceof KerasConversionError) return { rewritten: false, reason: error.message };
    throw error;
  }
  const endpoints = (list: readonly GraphEndpoint[]): Record<string, SignatureEntry> =>
    Object.fromEntries(list.map((e) => [e.key, { name: `${e.node}:0`, dtype: 'DT_FLOAT', tensorShape: { dim: e.shape.map((d) => ({ size: String(d ?? -1) })) } }]));
  writeGraphRewrite(modelDir, KERAS_GRAPH, {
    artifacts: graph.artifacts,
    inputs: endpoints(graph.inputs),
    outputs: endpoints(graph.outputs),
    generatedBy: 'dropscore keras-graph-converter',
  }, { artifact: artifact.meta.artifact, sha256: artifact.sha256 });

  let error: number;
  try {
    error = await probeDisagreement(await kerasEngine.load(artifact), await kerasGraphEngine.load(artifact));
  } catch (failure) {
    removeGraphRewrite(modelDir, KERAS_GRAPH);
    return { rewritten: false, reason: `${artifact.meta.artifact}: the graph rewrite does not run: ${describeError(failure)}` };
  }
  if (!(error <= REWRITE_TOLERANCE)) {
    removeGraphRewrite(modelDir, KERAS_GRAPH);
    return { rewritten: false, reason: `${artifact.meta.artifact}: the graph rewrite differs from the Keras engine by ${error.toExponential(2)} (relative) on a probe batch` };
  }
  return { rewritten: true, maxRelativeError: error };
}
