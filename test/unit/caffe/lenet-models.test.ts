import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { caffeEngine, describeCaffeModel, type CaffeModel } from '../../../functions/scorer/engines/caffe/caffe-engine.js';
import { namedTensorsFormat } from '../../../functions/scorer/formats/named-tensors-format.js';
import { decodeTensor } from '../../../functions/scorer/formats/tensor-json.js';
import { readModelArtifact } from '../../../functions/scorer/models/model-artifact.js';
import { tempRoot } from '../../support/model-dir.js';
import { FIXTURES } from '../../support/paths.js';
import { TOLERANCE, maxRelativeError } from '../../support/tensor-proto.js';
import { CAFFE_FIXTURES, makeCaffeModelDir } from './caffe-test-kit.js';

const root = tempRoot('dropscore-caffe-');
afterAll(() => rmSync(root, { recursive: true, force: true }));

// lenet_mnist declares its input with an Input layer, lenet_mnist_inputdim with net-level input/input_dim.
const FIXTURE_NAMES = ['lenet_mnist', 'lenet_mnist_inputdim'] as const;

function expectedCases(fixture: string): string[] {
  return readdirSync(`${CAFFE_FIXTURES}${fixture}/expected`)
    .filter((f) => f.endsWith('.input.json'))
    .map((f) => f.replace('.input.json', ''));
}

function readCase(fixture: string, name: string): { input: unknown; expected: number[][] } {
  const dir = `${CAFFE_FIXTURES}${fixture}/expected`;
  return {
    input: JSON.parse(readFileSync(`${dir}/${name}.input.json`, 'utf8')).data,
    expected: JSON.parse(readFileSync(`${dir}/${name}.output.json`, 'utf8')).prob,
  };
}

describe.each(FIXTURE_NAMES)('Caffe LeNet %s', (fixture) => {
  let model: CaffeModel;
  beforeAll(async () => {
    model = (await caffeEngine.load(await readModelArtifact(makeCaffeModelDir(root, fixture, fixture)))) as CaffeModel;
  });

  it('has the blob names as signature, with the declared batch of 64 left free', () => {
    expect(model.signature).toEqual({
      inputs: [{ name: 'data', dtype: 'float32', shape: [null, 1, 28, 28] }],
      outputs: [{ name: 'prob', dtype: 'float32', shape: [null, 10] }],
    });
  });

  it('reports what it inferred without deployment-meta.json', () => {
    expect(model.caffe.inferred).toEqual({ inputs: true, outputs: true });
    expect(model.caffe.inputs).toEqual(['data[N,1,28,28]']);
    expect(model.caffe.outputs).toEqual(['prob[N,10]']);
    expect(model.caffe.notes).toContain('no deployment-meta.json: inferred input layers [data] and output layers [prob] from lenet.prototxt');
    expect(model.caffe.notes).toContain('ignored 2 layer(s) of lenet_iter_10000.caffemodel that lenet.prototxt does not use: mnist (Data), loss (SoftmaxWithLoss)');
    expect(model.notes).toBe(model.caffe.notes);
    expect(describeCaffeModel(model.caffe)).toMatch(/^caffe net "LeNet" from lenet\.prototxt \+ lenet_iter_10000\.caffemodel: inputs data\[N,1,28,28\] \(inferred\); outputs prob\[N,10\] \(inferred\)/);
  });

  it.each(expectedCases(fixture))('matches the independent numpy reference on %s', async (name) => {
    const { input, expected } = readCase(fixture, name);
    const outputs = await model.predict({ data: decodeTensor(input, model.signature.inputs[0]!, 'data') });
    expect(outputs['prob']!.shape).toEqual([expected.length, 10]);
    expect(maxRelativeError(outputs['prob']!.data as Float32Array, expected.flat())).toBeLessThanOrEqual(TOLERANCE);
  });

  it('scores a batch of 3 records in one call, each as if alone', async () => {
    const cases = ['rng1', 'img1', 'mnist_1'].map((name) => readCase(fixture, name));
    const batch = cases.map((c) => (c.input as unknown[])[0]);
    const outputs = await model.predict({ data: decodeTensor(batch, model.signature.inputs[0]!, 'data') });
    expect(outputs['prob']!.shape).toEqual([3, 10]);
    const rows = outputs['prob']!.data as Float32Array;
    cases.forEach((c, i) => expect(maxRelativeError(rows.subarray(i * 10, i * 10 + 10), c.expected[0]!)).toBeLessThanOrEqual(TOLERANCE));
  });

  it('scores the shared example record through the Caffe record format', async () => {
    const record = JSON.parse(readFileSync(`${FIXTURES}/payloads/caffe/mnist_1.json`, 'utf8'));
    const outputs = await model.predict(namedTensorsFormat.decode(record, model.signature));
    const result = namedTensorsFormat.encode('mnist_1.json', outputs, model.signature) as Record<string, { prob: number[][] }>;
    expect(maxRelativeError(result['mnist_1.json']!.prob.flat(), readCase(fixture, 'mnist_1').expected.flat())).toBeLessThanOrEqual(TOLERANCE);
  });
});
