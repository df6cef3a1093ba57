import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ModelLoadError } from '../../../functions/scorer/domain/errors.js';
import { caffeEngine, type CaffeModel } from '../../../functions/scorer/engines/caffe/caffe-engine.js';
import { readModelArtifact } from '../../../functions/scorer/models/model-artifact.js';
import { tempRoot } from '../../support/model-dir.js';
import { CAFFE_FIXTURES, caffemodelBytes, expectClose, loadNet, makeCaffeModelDir, run, tensor } from './caffe-test-kit.js';

const root = tempRoot('dropscore-caffe-engine-');
afterAll(() => rmSync(root, { recursive: true, force: true }));

const LENET_PROTOTXT = readFileSync(`${CAFFE_FIXTURES}lenet_mnist/lenet.prototxt`, 'utf8');

async function load(dir: string): Promise<CaffeModel> {
  return (await caffeEngine.load(await readModelArtifact(dir))) as CaffeModel;
}

function deploymentMeta(fields: Record<string, unknown>): string {
  return JSON.stringify({ network_definitions_file_name: 'lenet.prototxt', weights_file_name: 'lenet_iter_10000.caffemodel', ...fields });
}

describe('Caffe engine: deployment-meta.json', () => {
  it('uses the layers it names, without inferring', async () => {
    const dir = makeCaffeModelDir(root, 'with-meta', 'lenet_mnist', { 'deployment-meta.json': deploymentMeta({ input_layers: ['data'], output_layers: ['prob'] }) });
    const model = await load(dir);
    expect(model.caffe.inferred).toEqual({ inputs: false, outputs: false });
    expect(model.caffe.notes.some((n) => n.includes('inferred'))).toBe(false);
    expect(model.signature.outputs.map((o) => o.name)).toEqual(['prob']);
  });

  it('returns other blobs by blob or layer name: ip1 after its in-place ReLU, and the ip2 logits', async () => {
    const dir = makeCaffeModelDir(root, 'logits', 'lenet_mnist', { 'deployment-meta.json': deploymentMeta({ input_layers: 'data', output_layers: ['ip2', 'relu1', 'prob'] }) });
    const model = await load(dir);
    // relu1 is a layer whose top is ip1; it rewrote ip1 in place, so the returned ip1 is after the ReLU.
    expect(model.signature.outputs.map((o) => [o.name, o.shape])).toEqual([
      ['ip2', [null, 10]],
      ['ip1', [null, 500]],
      ['prob', [null, 10]],
    ]);
    const input = JSON.parse(readFileSync(`${CAFFE_FIXTURES}lenet_mnist/expected/rng1.input.json`, 'utf8')).data.flat(Infinity) as number[];
    const out = await run(model, { data: tensor([1, 1, 28, 28], input) });
    expect(Math.min(...out['ip1']!.values)).toBe(0);
    expect(Math.max(...out['ip1']!.values)).toBeGreaterThan(0);
    const exps = out['ip2']!.values.map(Math.exp);
    expectClose(out['prob']!.values, exps.map((e) => e / exps.reduce((a, b) => a + b, 0)));
  });

  it('infers what it does not name', async () => {
    const dir = makeCaffeModelDir(root, 'partial-meta', 'lenet_mnist', { 'deployment-meta.json': JSON.stringify({ input_layers: ['data'] }) });
    const model = await load(dir);
    expect(model.caffe.inferred).toEqual({ inputs: false, outputs: true });
    expect(model.caffe.notes).toContain('deployment-meta.json does not name them: inferred output layers [prob] from lenet.prototxt');
  });

  const invalid: [string, Record<string, unknown> | string, RegExp][] = [
    ['an unknown input layer', { input_layers: ['image'], output_layers: ['prob'] }, /input layer "image" is not an input of .*lenet\.prototxt; the net's inputs are: data/],
    [
      'an unknown output layer',
      { input_layers: ['data'], output_layers: ['softmax'] },
      /output layer "softmax" is neither a blob nor a layer of the net \(.*lenet\.prototxt\); the net's outputs are: prob; other blobs that can be returned: conv1, pool1, conv2, pool2, ip1, ip2/,
    ],
    ['an input as output', { output_layers: ['data'] }, /output layer "data" is an input of the net, not an output/],
    ['a weights file other than the artifact', { weights_file_name: 'other.caffemodel' }, /weights_file_name "other\.caffemodel" differs from the artifact "lenet_iter_10000\.caffemodel"/],
    ['a missing prototxt', { network_definitions_file_name: 'deploy.prototxt' }, /cannot read the net definition .*deploy\.prototxt/],
    ['a path outside the folder', { network_definitions_file_name: '../lenet.prototxt' }, /"network_definitions_file_name" must name a file inside the model folder/],
    ['an empty list', { output_layers: [] }, /"output_layers" must be a non-empty list of layer names/],
    ['invalid JSON', '{"input_layers": [', /deployment-meta\.json is not valid JSON/],
  ];
  it.each(invalid)('fails at load on %s, saying what the net has', async (name, meta, message) => {
    const dir = makeCaffeModelDir(root, `bad-meta-${name.replace(/\W+/g, '-')}`, 'lenet_mnist', {
      'deployment-meta.json': typeof meta === 'string' ? meta : deploymentMeta(meta),
    });
    const loading = load(dir);
    await expect(loading).rejects.toThrow(ModelLoadError);
    await expect(loading).rejects.toThrow(message);
  });

  it('requires every net input to be listed', async () => {
    const text = 'input: "a" input_shape { dim: 1 dim: 2 } input: "b" input_shape { dim: 1 dim: 2 } layer { name: "s" type: "Eltwise" bottom: "a" bottom: "b" top: "s" }';
    await expect(loadNet(text, [], { inputLayers: ['a'] })).rejects.toThrow('input_layers must list every input of test.prototxt, since each must be fed; missing: b');
  });
});

describe('Caffe engine: model folders', () => {
  it('finds the single .prototxt when there is no deployment-meta.json', async () => {
    const model = await load(makeCaffeModelDir(root, 'plain', 'lenet_mnist_inputdim'));
    expect(model.caffe.prototxtPath).toBe(join(root, 'plain', 'lenet.prototxt'));
  });

  it('names the candidates when several .prototxt files are present, and picks the one deployment-meta.json names', async () => {
    const dir = makeCaffeModelDir(root, 'two-nets', 'lenet_mnist', { 'lenet_train_test.prototxt': LENET_PROTOTXT });
    await expect(load(dir)).rejects.toThrow(
      /has several \.prototxt files \(lenet\.prototxt, lenet_train_test\.prototxt\); add deployment-meta\.json with "network_definitions_file_name"/,
    );
    writeFileSync(join(dir, 'deployment-meta.json'), JSON.stringify({ network_definitions_file_name: 'lenet_train_test.prototxt' }));
    expect((await load(dir)).caffe.prototxtPath).toBe(join(dir, 'lenet_train_test.prototxt'));
  });

  it('explains a folder without a .prototxt', async () => {
    const dir = makeCaffeModelDir(root, 'no-net', 'lenet_mnist');
    rmSync(join(dir, 'lenet.prototxt'));
    await expect(load(dir)).rejects.toThrow(/no-net has no \.prototxt net definition/);
  });

  it('rejects a prototxt named as the artifact', async () => {
    const dir = makeCaffeModelDir(root, 'wrong-artifact', 'lenet_mnist');
    writeFileSync(join(dir, 'model-meta.json'), JSON.stringify({ name: 'w', framework: 'caffe', artifact: 'lenet.prototxt' }));
    await expect(load(dir)).rejects.toThrow('"artifact" in model-meta.json must name the .caffemodel weights, not lenet.prototxt');
  });

  it('rejects a corrupt weights file, naming it', async () => {
    const dir = makeCaffeModelDir(root, 'corrupt', 'lenet_mnist');
    writeFileSync(join(dir, 'lenet_iter_10000.caffemodel'), readFileSync(join(dir, 'lenet_iter_10000.caffemodel')).subarray(0, 100_000));
    await expect(load(dir)).rejects.toThrow(/lenet_iter_10000\.caffemodel is not a readable \.caffemodel/);
  });
});

describe('Caffe engine: nets it must refuse or trim', () => {
  const input = 'input: "data" input_shape { dim: 1 dim: 3 dim: 8 dim: 8 }\n';

  it('fails at load on an unsupported layer type, naming type, layer and file', async () => {
    const text = `${input}layer { name: "crop1" type: "Crop" bottom: "data" bottom: "data" top: "c" }`;
    const loading = loadNet(text);
    await expect(loading).rejects.toThrow(ModelLoadError);
    await expect(loading).rejects.toThrow(/^test\.prototxt: layer "crop1" \(Crop\): layer type "Crop" is not supported \(supported: AbsVal, BatchNorm, .*Input.*\)$/);
  });

  it('explains training layers left in a prototxt', async () => {
    const text = `${input}layer { name: "acc" type: "Accuracy" bottom: "data" bottom: "label" top: "accuracy" }`;
    await expect(loadNet(text)).rejects.toThrow(/layer "acc" \(Accuracy\): layer type "Accuracy" is a training \(data or loss\) layer: score with the deploy prototxt/);
  });

  it('skips layers outside the TEST phase (include TRAIN, exclude TEST, stages)', async () => {
    const text = `${input}
      layer { name: "train_only" type: "Data" top: "data" top: "label" include { phase: TRAIN } }
      layer { name: "not_in_test" type: "Accuracy" bottom: "data" top: "a" exclude { phase: TEST } }
      layer { name: "staged" type: "Bogus" bottom: "data" top: "b" include { stage: "deploy_extra" } }
      layer { name: "relu" type: "ReLU" bottom: "data" top: "out" include { phase: TEST } }`;
    const model = await loadNet(text);
    expect(model.caffe.notes).toContain('skipped 3 layer(s) outside the TEST phase: train_only (Data), not_in_test (Accuracy), staged (Bogus)');
    expect(model.signature.outputs.map((o) => o.name)).toEqual(['out']);
  });

  it('names an undefined bottom and a top produced twice', async () => {
    await expect(loadNet(`${input}layer { name: "r" type: "ReLU" bottom: "missing" top: "r" }`)).rejects.toThrow(
      'test.prototxt: layer "r" (ReLU): bottom "missing" is not produced by any earlier layer or input',
    );
    const twice = `${input}layer { name: "a" type: "ReLU" bottom: "data" top: "t" } layer { name: "b" type: "Sigmoid" bottom: "data" top: "t" }`;
    await expect(loadNet(twice)).rejects.toThrow('layer "b" (Sigmoid): top "t" is already produced by an earlier layer or input');
  });

  it('refuses nets without declared input shapes', async () => {
    await expect(loadNet('layer { name: "r" type: "ReLU" bottom: "x" top: "y" }')).rejects.toThrow(/declares no inputs/);
    await expect(loadNet('input: "x" layer { name: "r" type: "ReLU" bottom: "x" top: "y" }')).rejects.toThrow(
      'declares 1 input(s), so "input_dim" must appear 4 times (N, C, H, W per input); found 0',
    );
    await expect(loadNet('layer { name: "in" type: "Input" top: "x" } layer { name: "r" type: "ReLU" bottom: "x" top: "y" }')).rejects.toThrow(
      'layer "in" (Input): has no input_param { shape { dim: ... } }',
    );
  });

  it('explains an output that is the net input rewritten in place', async () => {
    await expect(loadNet(`${input}layer { name: "r" type: "ReLU" bottom: "data" top: "data" }`)).rejects.toThrow(
      '"data" is an input of the net and cannot also be an output; if layers rewrite it in place, give the last of them its own top',
    );
  });

  it('keeps weights of layers the net does not use out of the graph, and reports them', async () => {
    const weights = caffemodelBytes([{ name: 'unused_fc', type: 'InnerProduct', blobs: [{ shape: [1], data: [1] }] }]);
    const { buildCaffeModel } = await import('../../../functions/scorer/engines/caffe/caffe-engine.js');
    const model = await buildCaffeModel({ prototxt: `${input}layer { name: "r" type: "ReLU" bottom: "data" top: "out" }`, prototxtPath: 'n.prototxt', weights, weightsPath: 'w.caffemodel' });
    expect(model.caffe.notes).toContain('ignored 1 layer(s) of w.caffemodel that n.prototxt does not use: unused_fc (InnerProduct)');
  });
});
