import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { main } from '../../cli/main.js';
import { MODELS_ROOT, REPO_ROOT } from '../support/paths.js';

function capture() {
  let text = '';
  const stream = new Writable({ write: (chunk, _enc, done) => ((text += chunk), done()) });
  return { stream, text: () => text };
}

async function run(...argv: string[]) {
  const out = capture();
  const err = capture();
  const code = await main(argv, out.stream, err.stream);
  return { code, out: out.text(), err: err.text() };
}

describe('dropscore command line', () => {
  it('prints usage for help and an unknown command, with exit codes 0 and 2', async () => {
    expect((await run('help')).out).toContain('predict <model-dir> <record.json>');
    const unknown = await run('frobnicate');
    expect([unknown.code, unknown.err.split('\n')[0]]).toEqual([2, 'dropscore: unknown command "frobnicate"']);
    expect((await run('--help')).code).toBe(0);
    expect((await run()).code).toBe(2);
  });

  it.each([[['predict']], [['predict', 'only-one']], [['predict', 'a', 'b', 'c']], [['predict', 'a', 'b', '--max-bytes', 'lots']]])(
    'rejects bad predict arguments %j with exit code 2',
    async (argv) => {
      const result = await run(...argv);
      expect(result.code).toBe(2);
      expect(result.err).toMatch(/^dropscore predict: /);
    },
  );

  it.each([
    [['--nope'], /^dropscore: Unknown option '--nope'/],
    [['models'], /^dropscore: unknown command "models"/],
    [['deployments', 'frobnicate'], /^dropscore: unknown command "deployments frobnicate"/],
    [['models', 'add', 'x.onnx'], /^dropscore models add: --framework is required/],
    [['models', 'show'], /^dropscore models show: missing <name>/],
    [['constructor'], /^dropscore: unknown command "constructor"/],
  ])('rejects %j with a message and exit code 2', async (argv, message) => {
    const result = await run(...argv);
    expect(result.code).toBe(2);
    expect(result.err).toMatch(message);
  });

  it('explains an unknown model, listing the known ones (exit code 1)', async () => {
    const result = await run('models', 'show', 'nope', '--models', MODELS_ROOT);
    expect(result.code).toBe(1);
    expect(result.err).toMatch(/^dropscore models show: no model named "nope"; models: lenet-caffe, mnist-cnn-onnx, mnist-keras, mnist-tensorflow/);
  });

  it('lists models as a table, or as JSON', async () => {
    const human = await run('models', 'list', '--models', MODELS_ROOT);
    expect(human.out.split('\n')[0]).toMatch(/^NAME\s+FRAMEWORK\s+VERSION\s+CREATED$/);
    expect(human.out).toMatch(/^mnist-keras\s+keras\s+1\s+\d{4}-/m);
    const json = JSON.parse((await run('models', 'list', '--json', '--models', MODELS_ROOT)).out);
    expect(json.map((m: { name: string }) => m.name)).toEqual(['lenet-caffe', 'mnist-cnn-onnx', 'mnist-keras', 'mnist-tensorflow']);
  });

  it('scores a record and applies --max-bytes', async () => {
    const ok = await run('predict', `${MODELS_ROOT}/mnist-cnn-onnx`, `${REPO_ROOT}samples/mnist-onnx/seven-drawn.json`);
    expect(ok.code).toBe(0);
    const probabilities: number[] = JSON.parse(ok.out)['seven-drawn.json'].dense[0];
    expect(probabilities.indexOf(Math.max(...probabilities))).toBe(7);
    const small = await run('predict', `${MODELS_ROOT}/mnist-cnn-onnx`, `${REPO_ROOT}samples/mnist-onnx/seven-drawn.json`, '--max-bytes', '100');
    expect([small.code, JSON.parse(small.out).error.code]).toEqual([1, 'RECORD_TOO_LARGE']);
  });

  it('scores a Keras model offline in the Keras output format', async () => {
    const result = await run('predict', `${MODELS_ROOT}/mnist-keras`, `${REPO_ROOT}samples/mnist-keras/seven-drawn.json`);
    expect(result.code).toBe(0);
    const { fields, values } = JSON.parse(result.out)['seven-drawn.json'];
    expect([fields, values[1]]).toEqual([['prediction', 'prediction_classes', 'probability'], 7]);
  });

  it('gives an error record for a missing record file', async () => {
    const missing = await run('predict', `${MODELS_ROOT}/mnist-cnn-onnx`, '/no/such/record.json');
    expect(missing.code).toBe(1);
    expect(JSON.parse(missing.out).error).toMatchObject({ code: 'UNREADABLE_RECORD', input: { file: '/no/such/record.json' }, model: { name: 'mnist-cnn-onnx' } });
  });
});
