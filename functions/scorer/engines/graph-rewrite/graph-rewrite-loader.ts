/**
 * Loads a model from its graph rewrite, for the TensorFlow.js graph executor;
 * a missing or stale rewrite (made from other files than the folder holds)
 * is refused rather than run.
 */
import { ModelLoadError } from '../../domain/errors.js';
import type { ModelArtifact } from '../../models/model-artifact.js';
import { loadGraphModelJson } from '../tensorflow/graph-model-loader.js';
import type { ExecutableGraph } from '../tensorflow/tfjs-executor.js';
import { graphRewritePath, isCurrentRewrite, readRewriteSource, type GraphRewrite } from './graph-rewrite-files.js';

export async function loadGraphRewrite(artifact: ModelArtifact, rewrite: GraphRewrite): Promise<ExecutableGraph> {
  const origin = `model "${artifact.meta.name}"`;
  const source = await readRewriteSource(artifact.dir, rewrite);
  const remake = '(`dropscore models add` makes it; tools/graph-rewrite.ts for a folder changed by hand)';
  if (!source) throw new ModelLoadError(`${origin}: no graph rewrite of ${artifact.meta.artifact} in ${rewrite.dir}/ ${remake}`);
  if (!isCurrentRewrite(source, artifact.dir, rewrite, artifact.meta.artifact, artifact.sha256)) {
    throw new ModelLoadError(`${origin}: ${rewrite.dir}/ was made from other files than the folder holds; make it again ${remake}`);
  }
  const graph = await loadGraphModelJson(graphRewritePath(artifact.dir, rewrite), origin);
  return { ...graph, notes: [`runs from its graph rewrite (${rewrite.dir}/, made from ${source.artifact}) on the TensorFlow.js graph executor`] };
}
