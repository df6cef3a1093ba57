/**
 * What each fixture's PROVENANCE.md says it computes (y = 0.5x + 2 and friends,
 * documented outputs), the other signatures of the half_plus_two models, and the
 * variable → checkpoint key mapping against the table in each expected/README.md.
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkpointKeysFromRestoreOp } from '../../../functions/scorer/engines/tensorflow/checkpoint-keys.js';
import { withDefaultAttrs } from '../../../functions/scorer/engines/tensorflow/default-attrs.js';
import { WorkingGraph } from '../../../functions/scorer/engines/tensorflow/function-inliner.js';
import { decodeSavedModel } from '../../../functions/scorer/engines/tensorflow/saved-model-decoder.js';
import { openTensorBundle } from '../../../functions/scorer/engines/tensorflow/tensor-bundle.js';
import { tensorflowFormat } from '../../../functions/scorer/formats/tensorflow-format.js';
import { tempRoot } from '../../support/model-dir.js';
import { GRAPH_MODELS, SAVED_MODELS, linkModelFolder, loadFolder } from './model-folders.js';

const root = tempRoot('dropscore-tf-prov-');
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function score(dir: string, record: Record<string, unknown>): Promise<unknown> {
  const model = await loadFolder(dir);
  const outputs = await model.predict(tensorflowFormat.decode(record, model.signature));
  return (tensorflowFormat.encode('case.json', outputs, model.signature) as Record<string, unknown>[])[0];
}

describe('half_plus_two (TF1, SavedModelBuilder)', () => {
  const source = join(SAVED_MODELS, 'half_plus_two_cpu_tf1');

  it('serving_default: y = 0.5x + 2 on the TF Serving README example', async () => {
    const result = await score(linkModelFolder(root, 'hp2-tf1', source), { x: [[1], [2], [5]] });
    expect(result).toEqual({ filename: 'case.json', y: [[2.5], [3], [4.5]] });
  });

  it('regress_x2_to_y3: y3 = 0.5 x2 + 3, its input key being "inputs"', async () => {
    const result = await score(linkModelFolder(root, 'hp2-tf1-y3', source, { signature: 'regress_x2_to_y3' }), { inputs: [[1], [-4]] });
    expect(result).toEqual({ filename: 'case.json', outputs: [[3.5], [1]] });
  });

  // regress_x_to_y and classify_x_to_y (serialized tf.Example): tensorflow-examples.test.ts.
});

describe('half_plus_two (TF2, tf.saved_model.save)', () => {
  const source = join(SAVED_MODELS, 'half_plus_two_tf2_cpu');

  it.each([[1, 2.5], [2, 3], [5, 4.5], [-3.5, 0.25]])('serving_default: x=[%d] gives y=[%d]', async (x, y) => {
    const result = await score(linkModelFolder(root, `hp2-tf2-${x}`, source), { x: [x] });
    expect(result).toEqual({ filename: 'case.json', y: [y] });
  });

  it('regress_x2_to_y3 and classify_x2_to_y3: 0.5x + 3 through other functions of the library', async () => {
    expect(await score(linkModelFolder(root, 'hp2-tf2-r', source, { signature: 'regress_x2_to_y3' }), { inputs: [4] })).toEqual({ filename: 'case.json', outputs: [5] });
    expect(await score(linkModelFolder(root, 'hp2-tf2-c', source, { signature: 'classify_x2_to_y3' }), { inputs: [4] })).toEqual({ filename: 'case.json', scores: [5] });
  });
});

describe('documented outputs', () => {
  it('matrix_half_plus_two_novars (no variables/ folder): the generator docstring example', async () => {
    const result = await score(linkModelFolder(root, 'matrix', join(SAVED_MODELS, 'matrix_half_plus_two_novars')), { x: [[[1, 2, 3], [4, 5, 6], [7, 8, 9]]] });
    expect(result).toEqual({ filename: 'case.json', y: [[[2.5, 3, 3.5], [4, 4.5, 5], [5.5, 6, 6.5]]] });
  });

  it('mnist_softmax_tf1_7 on zeros gives the bias Variable_1 as stored in variables.data', async () => {
    const source = join(SAVED_MODELS, 'mnist_softmax_tf1_7_simple_save');
    const bias = await (await openTensorBundle(join(source, 'variables', 'variables'))).read('Variable_1');
    const result = (await score(linkModelFolder(root, 'softmax-zeros', source), { x: [new Array(784).fill(0)] })) as { y: number[][] };
    expect(result.y[0]).toEqual(Array.from(new Float32Array(bias.content.buffer)));
  });

  it.each(['model.json', 'model_new.json'])('tfjs_e2e_matmul_2x2 (%s): the tfjs e2e test values', async (artifact) => {
    const dir = linkModelFolder(root, `matmul-${artifact}`, join(GRAPH_MODELS, 'tfjs_e2e_matmul_2x2'), { artifact });
    const result = (await score(dir, { Placeholder: [[1, 1], [1, 1]] })) as { MatMul: number[][] };
    expect(result.MatMul.flat()).toEqual([0.7567615509033203, -0.18349379301071167, 0.7567615509033203, -0.18349379301071167]);
  });
});

describe('variables map to checkpoint keys through the restore op', () => {
  it.each(['half_plus_two_cpu_tf1', 'half_plus_two_tf2_cpu', 'mnist_cnn_bn_keras_tf2_10', 'mnist_mlp_keras_tf2_2_two_shards', 'mnist_softmax_tf1_7_simple_save'])(
    '%s agrees with the reference table',
    (name) => {
      const source = join(SAVED_MODELS, name);
      const readme = readFileSync(join(source, 'expected', 'README.md'), 'utf8');
      const reference = [...readme.matchAll(/^- `([^`]+)` <- checkpoint key `([^`]+)`/gm)].map((m) => [m[1], m[2]]);
      expect(reference.length).toBeGreaterThan(0);
      const metaGraph = decodeSavedModel(readFileSync(join(source, 'saved_model.pb')))[0]!;
      const graphDef = withDefaultAttrs(metaGraph.graph, metaGraph.attrDefaults);
      const keys = checkpointKeysFromRestoreOp(new WorkingGraph(graphDef.nodes, graphDef.functions), metaGraph.saver!.restoreOpName);
      for (const [variable, key] of reference) expect(keys.get(variable!), variable).toBe(key);
    },
  );
});
