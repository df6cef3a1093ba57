/**
 * SavedModels packaged with their frozen graph (tf-graph/): every shared
 * SavedModel whose signature can be rewritten scores its `expected/` cases
 * through the graph alone, with the same signature as the SavedModel; one the
 * rewrite cannot carry keeps none, saying why; a rewrite of other files than
 * the folder holds is never used, by synth or by a scorer.
 */
import { copyFileSync, cpSync, existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ModelLoadError } from '../../../functions/scorer/domain/errors.js';
import { createModelLoader } from '../../../functions/scorer/engines/engine-registry.js';
import { loadModel, tensorflowGraphSupport } from '../../../functions/scorer/engines/framework-engines.js';
import { hasCurrentRewriteSync, SAVED_MODEL_GRAPH } from '../../../functions/scorer/engines/graph-rewrite/graph-rewrite-files.js';
import { packageSavedModelGraph } from '../../../functions/scorer/engines/tensorflow/saved-model-graph-packaging.js';
import { tensorflowFormat } from '../../../functions/scorer/formats/tensorflow-format.js';
import { scorerPackageFor } from '../../../infra/lib/scorer-package.js';
import { addModel } from '../../../manage/model-catalog.js';
import { tempRoot } from '../../support/model-dir.js';
import { TOLERANCE, maxRelativeError } from '../../support/tensor-proto.js';
import { SAVED_MODELS, expectedCases, flatNumbers, loadFolder, nestedShape, writeMeta } from './model-folders.js';

const root = tempRoot('dropscore-tf-graph-');
afterAll(() => rmSync(root, { recursive: true, force: true }));
const loadGraphOnly = createModelLoader({ tensorflow: tensorflowGraphSupport });

/** A copy of a fixture (the rewrite is written into the folder; fixtures are never changed). */
function modelFolder(name: string, fixture: string, signature?: string): string {
  const dir = join(root, name);
  cpSync(join(SAVED_MODELS, fixture), dir, { recursive: true });
  rmSync(join(dir, 'expected'), { recursive: true, force: true });
  writeMeta(dir, name, signature ? { signature } : {});
  return dir;
}

const REWRITTEN = ['half_plus_two_cpu_tf1', 'half_plus_two_tf2_cpu', 'matrix_half_plus_two_novars', 'mnist_cnn_bn_keras_tf2_10', 'mnist_mlp_keras_tf2_2_two_shards', 'mnist_softmax_tf1_7_simple_save'];

describe.each(REWRITTEN)('the frozen graph of %s', (fixture) => {
  const dir = modelFolder(fixture, fixture);
  const packaged = packageSavedModelGraph(dir);

  it('is kept, agreeing with the SavedModel on the probe batch, and chosen by synth', async () => {
    expect(await packaged).toMatchObject({ rewritten: true, maxRelativeError: expect.any(Number) });
    expect((await packaged as { maxRelativeError: number }).maxRelativeError).toBeLessThanOrEqual(1e-5);
    expect(hasCurrentRewriteSync(dir, SAVED_MODEL_GRAPH)).toBe(true);
    expect(scorerPackageFor('tensorflow', dir).entry).toBe('functions/scorer/lambda/tensorflow-graph-scorer.ts');
  });

  it.each(expectedCases(join(SAVED_MODELS, fixture)))('scores $name through the graph alone, as the SavedModel signature says', async ({ input, output }) => {
    await packaged;
    const { model } = await loadGraphOnly(dir);
    expect(model.signature).toEqual((await loadFolder(dir)).signature);
    const outputs = await model.predict(tensorflowFormat.decode(input, model.signature));
    for (const [key, expected] of Object.entries(output)) {
      expect(outputs[key]!.shape, key).toEqual(nestedShape(expected));
      expect(maxRelativeError(Array.from(outputs[key]!.data as Float32Array), flatNumbers(expected)), key).toBeLessThanOrEqual(TOLERANCE);
    }
  });
});

describe('a signature the frozen graph cannot carry', () => {
  it('keeps no rewrite when it parses tf.Example records, and says so', async () => {
    const dir = modelFolder('examples', 'half_plus_two_cpu_tf1', 'regress_x_to_y');
    expect(await packageSavedModelGraph(dir)).toEqual({ rewritten: false, reason: 'its signature parses tf.Example records, which the frozen graph alone does not' });
    expect(existsSync(join(dir, SAVED_MODEL_GRAPH.dir))).toBe(false);
    expect(scorerPackageFor('tensorflow', dir).entry).toBe('functions/scorer/lambda/tensorflow-scorer.ts');
  });
});

describe('a rewrite of other files than the folder holds', () => {
  it('is never used: synth and the scorer take the SavedModel, the graph-only scorer refuses it', async () => {
    const dir = modelFolder('stale', 'mnist_softmax_tf1_7_simple_save');
    expect(await packageSavedModelGraph(dir)).toMatchObject({ rewritten: true });
    // The user retrains and replaces the weights by hand: saved_model.pb is unchanged, variables/ is not.
    const index = join(dir, 'variables/variables.index');
    copyFileSync(index, `${index}.orig`);
    writeFileSync(index, new Uint8Array([0]));
    expect(hasCurrentRewriteSync(dir, SAVED_MODEL_GRAPH)).toBe(false);
    expect(scorerPackageFor('tensorflow', dir).entry).toBe('functions/scorer/lambda/tensorflow-scorer.ts');
    const refused = await loadGraphOnly(dir).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ModelLoadError);
    expect((refused as Error).message).toBe('model "stale": tf-graph/ was made from other files than the folder holds; make it again (`dropscore models add` makes it; tools/graph-rewrite.ts for a folder changed by hand)');
    // Back as it was: the rewrite is current again.
    copyFileSync(`${index}.orig`, index);
    expect((await loadModel(dir)).model.notes).toEqual([expect.stringContaining('runs from its graph rewrite (tf-graph/')]);
  });
});

describe('dropscore models add', () => {
  it('packages a SavedModel with its frozen graph', async () => {
    const modelsRoot = join(root, 'catalog');
    const added = await addModel(modelsRoot, join(SAVED_MODELS, 'mnist_cnn_bn_keras_tf2_10'), { framework: 'tensorflow', name: 'digits' });
    expect(added.notes).toEqual(['packaged with its frozen graph (tf-graph/): deployments of it start without decoding and freezing the SavedModel']);
    expect(hasCurrentRewriteSync(join(modelsRoot, 'digits'), SAVED_MODEL_GRAPH)).toBe(true);
  });
});
