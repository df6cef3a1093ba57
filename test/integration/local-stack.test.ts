/**
 * End to end on the embedded stack: the real embedded S3 and dynalite on 127.0.0.1,
 * real model files, records dropped with the AWS SDK (and the aws CLI),
 * outcomes read back from the target bucket and compared with onnxruntime.
 */
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStack } from '../../infra/local/local-stack.js';
import { parseDeploymentsManifest, type DeploymentSpec } from '../../infra/manifest/deployments-manifest.js';
import { INT64_PLUS_ONE, makeModelDir, makeOnnxModelDir, tempRoot } from '../support/model-dir.js';
import { LOCAL_CREDENTIALS } from '../../infra/local/auth/local-credentials.js';
import { drop, exists, outcomeOf, readSource, startTestStack } from '../support/local-stack-harness.js';
import { FIXTURES, MODELS_ROOT, REPO_ROOT } from '../support/paths.js';
import { TOLERANCE, maxRelativeError } from '../support/tensor-proto.js';

const MAX_RECORD_BYTES = 64 * 1024;
const root = tempRoot();
const modelsRoot = join(root, 'models');
let stack: LocalStack;
let specs: Record<string, DeploymentSpec>;

const img1Text = readFileSync(`${FIXTURES}/payloads/keras/img1.json`, 'utf8');
const img1Values: number[][][][] = JSON.parse(img1Text).values;

beforeAll(async () => {
  cpSync(join(MODELS_ROOT, 'mnist-cnn-onnx'), join(modelsRoot, 'mnist-cnn-onnx'), { recursive: true });
  makeModelDir(modelsRoot, 'mnist-sm', `${FIXTURES}/models/onnx/keras2onnx_mnist_sm/mnist-sm.onnx`);
  makeModelDir(modelsRoot, 'mnist-double', `${FIXTURES}/models/onnx/tf2onnx_mnist_double_input/mnist.onnx`);
  makeOnnxModelDir(modelsRoot, 'int64-plus-one', INT64_PLUS_ONE);
  makeModelDir(modelsRoot, 'broken', `${FIXTURES}/payloads/keras/img1.json`);
  makeModelDir(modelsRoot, 'wml-keras', `${FIXTURES}/models/keras_h5/wml_mnist_cnn_keras213/mnistCNN.h5`, 'keras');
  const lenet = `${FIXTURES}/models/caffe/lenet_mnist`;
  makeModelDir(modelsRoot, 'lenet', `${lenet}/lenet_iter_10000.caffemodel`, 'caffe', [`${lenet}/lenet.prototxt`]);
  const tfModel = `${FIXTURES}/models/tf_savedmodel/mnist_softmax_tf1_7_simple_save`;
  cpSync(tfModel, join(modelsRoot, 'tf-softmax'), { recursive: true });
  writeFileSync(join(modelsRoot, 'tf-softmax', 'model-meta.json'), JSON.stringify({ name: 'tf-softmax', framework: 'tensorflow', artifact: 'saved_model.pb' }));
  makeModelDir(modelsRoot, 'bad-keras', `${FIXTURES}/models/onnx/onnx_backend_single_relu/model.onnx`, 'keras');
  const manifest = parseDeploymentsManifest(
    {
      deployments: [
        { name: 'demo', model: 'mnist-cnn-onnx', source: { bucket: 'demo-in' }, target: { bucket: 'demo-out' } },
        { name: 'sm', model: 'mnist-sm', source: { bucket: 'shared-bucket', prefix: 'sm/in/' }, target: { bucket: 'shared-bucket', prefix: 'sm/out/' } },
        { name: 'double', model: 'mnist-double', source: { bucket: 'double-in' }, target: { bucket: 'double-out' } },
        { name: 'ints', model: 'int64-plus-one', source: { bucket: 'ints-in' }, target: { bucket: 'ints-out' } },
        { name: 'broken', model: 'broken', source: { bucket: 'broken-in' }, target: { bucket: 'broken-out' } },
        { name: 'keras', model: 'wml-keras', source: { bucket: 'keras-in' }, target: { bucket: 'keras-out' } },
        { name: 'tensorflow', model: 'tf-softmax', source: { bucket: 'tf-in' }, target: { bucket: 'tf-out' } },
        { name: 'caffe', model: 'lenet', source: { bucket: 'caffe-in' }, target: { bucket: 'caffe-out' } },
        { name: 'bad-keras', model: 'bad-keras', source: { bucket: 'bad-keras-in' }, target: { bucket: 'bad-keras-out' } },
        { name: 'overwrites', model: 'mnist-cnn-onnx', source: { bucket: 'overwrites-in' }, target: { bucket: 'overwrites-out' } },
      ],
    },
    'test manifest',
  );
  stack = await startTestStack({ dataDir: join(root, 'data'), modelsRoot, maxRecordBytes: MAX_RECORD_BYTES });
  specs = {};
  for (const spec of manifest.deployments) {
    specs[spec.name] = spec;
    await stack.deploy(spec);
  }
});

afterAll(async () => {
  await stack?.close();
  rmSync(root, { recursive: true, force: true });
});

async function direct(modelFile: string, feeds: Record<string, ort.Tensor>): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(modelFile);
  const result = await session.run(feeds);
  return result[session.outputNames[0]!]!.data as Float32Array;
}

describe('deploying', () => {
  it('records each deployment with its model, bindings and status in the table', async () => {
    const demo = await stack.deployments.get(specs['demo']!.id);
    expect(demo).toMatchObject({ name: 'demo', model: 'mnist-cnn-onnx', framework: 'onnx', status: 'DEPLOY_SUCCESS', source: { bucket: 'demo-in', prefix: '' }, target: { bucket: 'demo-out', prefix: '' } });
    expect(Date.parse(demo!.createdAt)).toBeGreaterThan(0);
  });

  it('marks a deployment whose model cannot load FAILED with the reason', async () => {
    const broken = await stack.deployments.get(specs['broken']!.id);
    expect(broken!.status).toBe('FAILED');
    expect(broken!.statusDetails).toMatch(/onnxruntime cannot load .*img1\.json/);
  });
});

describe('scoring dropped records', () => {
  it('scores the real Keras-guide payload like onnxruntime does, in one bucket with prefixes', async () => {
    await drop(stack, 'shared-bucket', 'sm/in/img1.json', img1Text);
    const outcome = await outcomeOf(stack, 'shared-bucket', 'sm/out/img1.json');
    const expected = await direct(`${modelsRoot}/mnist-sm/mnist-sm.onnx`, { conv2d_5_input: new ort.Tensor('float32', Float32Array.from(img1Values.flat(3)), [1, 28, 28, 1]) });
    const actual = outcome.json['img1.json']['dense_6/Softmax:0'];
    expect(maxRelativeError(actual.flat(), expected)).toBeLessThanOrEqual(TOLERANCE);
    expect(outcome.metadata).toMatchObject({ 'dropscore-outcome': 'result', 'dropscore-deployment': 'sm', 'dropscore-model': 'mnist-sm' });
  });

  it('scores a batch of records in one file, one row each', async () => {
    const batch = [img1Values[0]!, img1Values[0]!.map((row) => row.map(() => [0.5]))];
    await drop(stack, 'demo-in', 'batch.json', JSON.stringify({ input_1: batch }));
    const outcome = await outcomeOf(stack, 'demo-out', 'batch.json');
    const expected = await direct(`${modelsRoot}/mnist-cnn-onnx/mnist-cnn.onnx`, { input_1: new ort.Tensor('float32', Float32Array.from(batch.flat(3)), [2, 28, 28, 1]) });
    expect(outcome.json['batch.json'].dense).toHaveLength(2);
    expect(maxRelativeError(outcome.json['batch.json'].dense.flat(), expected)).toBeLessThanOrEqual(TOLERANCE);
  });

  it('feeds a float64 input with a fixed batch of 1', async () => {
    const image = img1Values[0]!.map((row) => row.map((px) => px[0]!));
    await drop(stack, 'double-in', 'digit.json', JSON.stringify({ x: [image] }));
    const outcome = await outcomeOf(stack, 'double-out', 'digit.json');
    const expected = await direct(`${modelsRoot}/mnist-double/mnist.onnx`, { x: new ort.Tensor('float64', Float64Array.from(image.flat()), [1, 28, 28]) });
    expect(maxRelativeError(outcome.json['digit.json'].dense_1.flat(), expected)).toBeLessThanOrEqual(TOLERANCE);
  });

  it.each([
    ['spaces.json', 'with spaces in it.json'],
    ['plus', 'a+b=c.json'],
    ['percent', '100% sure.json'],
    ['unicode', 'chiffres/été ✓ 七.json'],
    ['nested prefixes', 'a/b/c/d/record.json'],
  ])('keeps the key (%s) in the outcome key', async (_label, key) => {
    await drop(stack, 'demo-in', key, img1Text);
    const outcome = await outcomeOf(stack, 'demo-out', key);
    expect(Object.keys(outcome.json)).toEqual([key.slice(key.lastIndexOf('/') + 1)]);
    expect(outcome.metadata['dropscore-outcome']).toBe('result');
  });
});

describe('Keras deployments', () => {
  it('score the guide\'s img1.json into the guide\'s Keras output, matching real reference outputs', async () => {
    await drop(stack, 'keras-in', 'img1.json', img1Text);
    const outcome = await outcomeOf(stack, 'keras-out', 'img1.json');
    const expected = JSON.parse(readFileSync(`${FIXTURES}/models/keras_h5/wml_mnist_cnn_keras213/expected/img1.output.json`, 'utf8'));
    const expectedRow: number[] = (Object.values(expected)[0] as number[][])[0]!;
    const { fields, values } = outcome.json['img1.json'];
    expect(fields).toEqual(['prediction', 'prediction_classes', 'probability']);
    const [prediction, predictedClass, probability] = values;
    expect(maxRelativeError(prediction, expectedRow)).toBeLessThanOrEqual(TOLERANCE);
    expect(probability).toEqual(prediction);
    expect(predictedClass).toBe(expectedRow.indexOf(Math.max(...expectedRow)));
  });

  it('name expected and received shapes for a record of the wrong shape', async () => {
    await drop(stack, 'keras-in', 'flat.json', readFileSync(`${FIXTURES}/payloads/tensorflow/num_3.json`, 'utf8').replace('"inputs"', '"values"'));
    const outcome = await outcomeOf(stack, 'keras-out', 'flat.json');
    expect(outcome.json.error).toMatchObject({ code: 'SHAPE_MISMATCH', message: 'input "values": expected shape [N,28,28,1], received [1,784]' });
  });

  it('go to FAILED with the reason when the file is not a Keras model', async () => {
    const record = await stack.deployments.get(specs['bad-keras']!.id);
    expect(record!.status).toBe('FAILED');
    expect(record!.statusDetails).toMatch(/a Keras model must be a \.h5, \.hdf5, \.keras or TF\.js model\.json file/);
  });
});

describe('TensorFlow deployments', () => {
  it('score the guide\'s num_3.json into [{"filename": "num_3.json", "y": [...]}], matching the reference', async () => {
    await drop(stack, 'tf-in', 'num_3.json', readFileSync(`${FIXTURES}/payloads/tensorflow/num_3.json`, 'utf8'));
    const outcome = await outcomeOf(stack, 'tf-out', 'num_3.json');
    const expected = JSON.parse(readFileSync(`${FIXTURES}/models/tf_savedmodel/mnist_softmax_tf1_7_simple_save/expected/num_3.output.json`, 'utf8'));
    expect(outcome.json).toHaveLength(1);
    expect(Object.keys(outcome.json[0])).toEqual(['filename', 'y']);
    expect(outcome.json[0].filename).toBe('num_3.json');
    expect(maxRelativeError(outcome.json[0].y.flat(), expected.y.flat())).toBeLessThanOrEqual(TOLERANCE);
  });
});

describe('Caffe deployments', () => {
  it('score the guide\'s mnist_1.json into {"mnist_1.json": {"prob": [...]}}, matching the reference', async () => {
    await drop(stack, 'caffe-in', 'mnist_1.json', readFileSync(`${FIXTURES}/payloads/caffe/mnist_1.json`, 'utf8'));
    const outcome = await outcomeOf(stack, 'caffe-out', 'mnist_1.json');
    const expected = JSON.parse(readFileSync(`${FIXTURES}/models/caffe/lenet_mnist/expected/mnist_1.output.json`, 'utf8'));
    expect(Object.keys(outcome.json)).toEqual(['mnist_1.json']);
    expect(Object.keys(outcome.json['mnist_1.json'])).toEqual(['prob']);
    expect(maxRelativeError(outcome.json['mnist_1.json'].prob.flat(), expected.prob.flat())).toBeLessThanOrEqual(TOLERANCE);
    expect(outcome.metadata['dropscore-model']).toBe('lenet');
  });
});

describe('bad input ends in an error record, never a lost file', () => {
  const binary = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0xff, 0xfe]);
  it.each([
    ['invalid JSON', 'bad-json.json', '{"values": [[', 'INVALID_JSON'],
    ['an empty file', 'empty.json', '', 'EMPTY_RECORD'],
    ['a binary file', 'picture.png', binary, 'NOT_TEXT'],
    ['the Caffe payload (wrong input key)', 'caffe.json', readFileSync(`${FIXTURES}/payloads/caffe/mnist_1.json`, 'utf8'), 'UNEXPECTED_INPUT'],
    ['the TensorFlow payload (wrong input key)', 'tf.json', readFileSync(`${FIXTURES}/payloads/tensorflow/num_3.json`, 'utf8'), 'UNEXPECTED_INPUT'],
    ['no input at all', 'no-input.json', '{}', 'MISSING_INPUT'],
    ['a wrong shape', 'shape.json', '{"values": [[1, 2, 3]]}', 'SHAPE_MISMATCH'],
    ['strings and NaN inside arrays', 'nan.json', JSON.stringify({ values: [img1Values[0]!.map((row, r) => row.map((px, c) => (r === 3 && c === 4 ? ['NaN'] : px)))] }), 'INVALID_VALUE'],
    ['an over-size file', 'huge.json', JSON.stringify({ values: [img1Values[0]!.map((row) => row.map(() => [0.123456789012345]))] }).padEnd(MAX_RECORD_BYTES + 1, ' '), 'RECORD_TOO_LARGE'],
  ])('%s', async (_label, key, body, code) => {
    const eTag = await drop(stack, 'demo-in', key, body);
    const outcome = await outcomeOf(stack, 'demo-out', key);
    expect(outcome.metadata['dropscore-outcome']).toBe('error');
    expect(outcome.json.error).toMatchObject({ code, input: { bucket: 'demo-in', key, eTag }, deployment: { name: 'demo' }, model: { name: 'mnist-cnn-onnx' } });
    expect(outcome.json.error.message.length).toBeGreaterThan(10);
  });

  it('names the position of a NaN string', async () => {
    const outcome = await outcomeOf(stack, 'demo-out', 'nan.json');
    expect(outcome.json.error.message).toBe('input "values" at [0][3][4][0]: expected a finite number, got string "NaN"');
  });

  it('a fraction for an int64 input is a dtype error', async () => {
    await drop(stack, 'ints-in', 'frac.json', '{"x": [[1, 2.5, 3]]}');
    const outcome = await outcomeOf(stack, 'ints-out', 'frac.json');
    expect(outcome.json.error).toMatchObject({ code: 'DTYPE_MISMATCH', message: 'input "x" at [0][1]: 2.5 is not a valid int64 (model input dtype is int64)' });
    await drop(stack, 'ints-in', 'ok.json', '{"x": [[1, 2, 3]]}');
    expect((await outcomeOf(stack, 'ints-out', 'ok.json')).json).toEqual({ 'ok.json': { y: [[2, 3, 4]] } });
  });

  it('a deployment whose model failed gives each input an error outcome with the reason', async () => {
    await drop(stack, 'broken-in', 'r.json', img1Text);
    const outcome = await outcomeOf(stack, 'broken-out', 'r.json');
    expect(outcome.json.error.code).toBe('MODEL_LOAD_FAILED');
    expect(outcome.json.error.message).toMatch(/onnxruntime cannot load/);
  });

  it('a file in a bucket no deployment watches is left alone', async () => {
    const { ensureBucket } = await import('../../infra/local/provision.js');
    await ensureBucket(stack.s3, 'nobody-watches');
    await drop(stack, 'nobody-watches', 'lonely.json', img1Text);
    await stack.idle();
    expect(await exists(stack, 'demo-out', 'lonely.json')).toBe(false);
    expect(await exists(stack, 'nobody-watches', 'lonely.json')).toBe(true);
  });
});

describe('delivery semantics', () => {
  it('a redelivered event changes neither the outcome nor the counters', async () => {
    await drop(stack, 'demo-in', 'twice.json', img1Text);
    const first = await outcomeOf(stack, 'demo-out', 'twice.json');
    const before = (await stack.deployments.get(specs['demo']!.id))!.counters;
    await stack.catchUp('demo'); // re-sends an ObjectCreated event for every object in the source
    const second = await outcomeOf(stack, 'demo-out', 'twice.json');
    expect(second.eTag).toBe(first.eTag);
    expect(second.body).toBe(first.body);
    expect((await stack.deployments.get(specs['demo']!.id))!.counters).toEqual(before);
  });

  it('two quick puts of one key end with the newer object\'s outcome', async () => {
    await drop(stack, 'demo-in', 'race.json', '{"values": [[1]]}');
    const newer = await drop(stack, 'demo-in', 'race.json', img1Text);
    const outcome = await outcomeOf(stack, 'demo-out', 'race.json');
    expect(outcome.metadata['dropscore-input-etag']).toBe(newer);
    expect(outcome.metadata['dropscore-outcome']).toBe('result');
  });

  it('many keys, each overwritten in quick succession, all end with their newest object\'s outcome', async () => {
    const keys = Array.from({ length: 24 }, (_, i) => `k-${i}.json`);
    const newest = new Map<string, string>();
    await Promise.all(keys.map(async (key) => {
      await drop(stack, 'overwrites-in', key, '{"values": [[1]]}');
      await drop(stack, 'overwrites-in', key, '{"values": [[2]]}');
      newest.set(key, await drop(stack, 'overwrites-in', key, img1Text));
    }));
    for (const key of keys) {
      const outcome = await outcomeOf(stack, 'overwrites-out', key);
      expect(outcome.metadata['dropscore-input-etag'], key).toBe(newest.get(key));
      expect(outcome.metadata['dropscore-outcome'], key).toBe('result');
    }
    const { counters } = (await stack.deployments.get(specs['overwrites']!.id))!;
    expect(counters.scored).toBe(keys.length);
    expect(counters.received).toBe(counters.scored + counters.failed);
  });

  it('counts every input exactly once', async () => {
    await stack.idle();
    const { counters } = (await stack.deployments.get(specs['demo']!.id))!;
    expect(counters.received).toBe(counters.scored + counters.failed);
    // Results: 1 batch + 5 odd keys + twice + the newer race object = 8. Errors: 9 bad records,
    // plus the older race object when its event read it before it was overwritten.
    expect(counters.scored).toBe(8);
    expect([9, 10]).toContain(counters.failed);
  });
});

describe('online scoring', () => {
  it('goes to the running scorer, and counts its rows as predictions', async () => {
    const before = (await stack.usage.read()).predictions;
    const rows = JSON.parse(img1Text).values;
    const outcome = await stack.scoreOnline('demo', new TextEncoder().encode(JSON.stringify({ values: [rows[0], rows[0]] })));
    expect(outcome.kind).toBe('result');
    expect((await stack.usage.read()).predictions).toBe(before + 2);
    await expect(stack.scoreOnline('nope', new Uint8Array())).rejects.toThrow('no deployment named "nope" is running on this stack');
  });
});

describe('dropscore predict', () => {
  it('prints, offline, exactly the bytes the pipeline wrote for the same record', async () => {
    const file = join(root, 'batch.json');
    const piped = await outcomeOf(stack, 'demo-out', 'batch.json');
    writeFileSync(file, await readSource(stack, 'demo-in', 'batch.json'));
    const { stdout } = await promisify(execFile)('node', ['bin/dropscore.js', 'predict', join(modelsRoot, 'mnist-cnn-onnx'), file], { cwd: REPO_ROOT, timeout: 60_000 });
    expect(stdout).toBe(`${piped.body}\n`);
  });

  it('exits 1 with the error record for a bad record', async () => {
    const file = join(root, 'bad.json');
    writeFileSync(file, '{"values": [[1, 2, 3]]}');
    const run = promisify(execFile)('node', ['bin/dropscore.js', 'predict', join(modelsRoot, 'mnist-cnn-onnx'), file], { cwd: REPO_ROOT, timeout: 60_000 });
    await expect(run).rejects.toMatchObject({ code: 1, stdout: expect.stringContaining('"code":"SHAPE_MISMATCH"') });
  });
});

const awsCli = spawnSync('aws', ['--version']).status === 0;

describe('any S3 client works against the local endpoint', () => {
  it.skipIf(!awsCli)('the aws CLI drops a file and reads its outcome back (skipped only where no aws CLI is installed; .ci/run installs it)', async () => {
    const file = join(root, 'cli record.json');
    writeFileSync(file, img1Text);
    const env = { ...process.env, AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey, AWS_DEFAULT_REGION: 'us-east-1', AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null', AWS_EC2_METADATA_DISABLED: 'true' };
    // Asynchronously: the servers live in this process and must keep answering.
    const aws = (...args: string[]) => promisify(execFile)('aws', ['--endpoint-url', stack.endpoint, '--cli-read-timeout', '20', ...args], { env, timeout: 60_000 });
    await aws('s3', 'cp', file, 's3://demo-in/from cli/record.json');
    await stack.idle();
    const out = (await aws('s3', 'cp', 's3://demo-out/from cli/record.json', '-')).stdout;
    expect(Object.keys(JSON.parse(out))).toEqual(['record.json']);
  });
});
