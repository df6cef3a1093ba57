/**
 * Packaging step for SavedModels (`dropscore models add`, tools/graph-rewrite.ts):
 * freeze the signature's graph as the TensorFlow engine does at load, store
 * it in tf-graph/ of the model folder, and keep it only if it answers as the
 * SavedModel does on a probe batch. A signature that parses tf.Example
 * records, or takes other than float inputs, keeps no rewrite.
 */
import { basename, dirname } from 'node:path';
import { ModelLoadError, describeError } from '../../domain/errors.js';
import { readModelArtifact } from '../../models/model-artifact.js';
import type { DType } from '../engine.js';
import { SAVED_MODEL_GRAPH, sourceDigest } from '../graph-rewrite/graph-rewrite-files.js';
import { removeGraphRewrite, writeGraphRewrite, type GraphRewriteOutcome, type SignatureEntry } from '../graph-rewrite/graph-rewrite-writer.js';
import { probeable, probeDisagreement, REWRITE_TOLERANCE } from '../graph-rewrite/probe-agreement.js';
import { savedModelGraphEngine } from './saved-model-graph-engine.js';
import { loadSavedModelGraph } from './saved-model-loader.js';
import { tensorflowEngine } from './tensorflow-engine.js';
import type { TensorBinding } from './tfjs-executor.js';

const SAVED_MODEL_FILE = 'saved_model.pb';
const DT_NAMES: Readonly<Record<DType, string>> = { float32: 'DT_FLOAT', float64: 'DT_DOUBLE', int32: 'DT_INT32', int64: 'DT_INT64', uint8: 'DT_UINT8', bool: 'DT_BOOL' };

export async function packageSavedModelGraph(modelDir: string): Promise<GraphRewriteOutcome> {
  const artifact = await readModelArtifact(modelDir);
  if (artifact.meta.framework !== 'tensorflow') throw new ModelLoadError(`model "${artifact.meta.name}" is a ${artifact.meta.framework} model, not tensorflow`);
  removeGraphRewrite(modelDir, SAVED_MODEL_GRAPH);
  if (basename(artifact.artifactPath) !== SAVED_MODEL_FILE) return { rewritten: false, reason: `${artifact.meta.artifact} is a graph model already` };
  const graph = await loadSavedModelGraph(dirname(artifact.artifactPath), artifact.meta.signature, `model "${artifact.meta.name}"`);
  if (graph.examples) return { rewritten: false, reason: 'its signature parses tf.Example records, which the frozen graph alone does not' };
  const source = await tensorflowEngine.load(artifact);
  if (!probeable(source)) return { rewritten: false, reason: 'only signatures of float inputs of known rank are checked against a probe batch' };
  writeGraphRewrite(modelDir, SAVED_MODEL_GRAPH, {
    artifacts: graph.artifacts,
    inputs: entries(graph.inputs),
    outputs: entries(graph.outputs),
    generatedBy: 'dropscore saved-model-loader (frozen signature)',
  }, { artifact: artifact.meta.artifact, sha256: sourceDigest(modelDir, SAVED_MODEL_GRAPH, artifact.sha256) });

  let error: number;
  try {
    error = await probeDisagreement(source, await savedModelGraphEngine.load(artifact));
  } catch (failure) {
    removeGraphRewrite(modelDir, SAVED_MODEL_GRAPH);
    return { rewritten: false, reason: `the frozen graph does not run from tf-graph/: ${describeError(failure)}` };
  }
  if (!(error <= REWRITE_TOLERANCE)) {
    removeGraphRewrite(modelDir, SAVED_MODEL_GRAPH);
    return { rewritten: false, reason: `the frozen graph differs from the SavedModel by ${error.toExponential(2)} (relative) on a probe batch` };
  }
  return { rewritten: true, maxRelativeError: error };
}

function entries(bindings: readonly TensorBinding[]): Record<string, SignatureEntry> {
  return Object.fromEntries(bindings.map(({ spec, tensor }) => [spec.name, {
    name: tensor.includes(':') ? tensor : `${tensor}:0`,
    dtype: DT_NAMES[spec.dtype],
    tensorShape: spec.unknownRank ? { unknownRank: true } : { dim: spec.shape.map((d) => ({ size: String(d ?? -1) })) },
  }]));
}
