import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
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
  it('prints the global help on help, --help and no command (exit 0), and names the commands', async () => {
    for (const argv of [['help'], ['--help'], ['-h'], []]) {
      const result = await run(...argv);
      expect(result.code).toBe(0);
      expect(result.out).toMatch(/^Usage: dropscore /);
      for (const group of ['models', 'deployments', 'deploy', 'batch', 'outcomes', 'completion']) expect(result.out).toContain(`  ${group}`);
      expect(result.out).toContain('Exit codes:');
    }
  });

  it.each([[['models']], [['models', '--help']], [['help', 'models']], [['models', '-h']]])('%j prints the models group\'s own help', async (...argv) => {
    const result = await run(...argv.flat());
    expect(result.code).toBe(0);
    expect(result.out).toMatch(/^Usage: dropscore models /);
    expect(result.out).toMatch(/^ {2}list\b/m);
    expect(result.out).toMatch(/^ {2}add \[options\] <path>/m);
    expect(result.out).not.toContain('deployments list');
  });

  it('prints a command\'s own options for `<command> --help`', async () => {
    const result = await run('batch', '--help');
    expect(result.out).toMatch(/^Usage: dropscore batch \[options\] <deployment> <paths\.\.\.>/);
    expect(result.out).toContain('--out <dir>');
    expect(result.out).not.toContain('--framework');
  });

  it('prints the package version for --version and -V', async () => {
    const { version } = JSON.parse(readFileSync(`${REPO_ROOT}package.json`, 'utf8'));
    for (const flag of ['--version', '-V']) expect(await run(flag)).toMatchObject({ code: 0, out: `${version}\n` });
  });

  it('suggests the command meant by a typo, in one line and a pointer to help (exit 2)', async () => {
    const result = await run('deploymnets');
    expect(result.code).toBe(2);
    expect(result.err).toContain('(Did you mean deployments?)');
    expect(result.err).toContain("run 'dropscore <command> --help' for usage");
    expect(result.err).not.toContain('Usage:');
    expect((await run('models', 'shwo')).err).toContain('(Did you mean show?)');
  });

  it.each([
    [['--nope'], /^dropscore: unknown option '--nope'/],
    [['deployments', 'frobnicate'], /^dropscore deployments: unknown command 'frobnicate'/],
    [['models', 'add', 'x.onnx'], /^dropscore models add: required option '--framework <framework>' not specified/],
    [['models', 'add', 'x.onnx', '--framework', 'pytorch'], /^dropscore models add: option '--framework <framework>' argument 'pytorch' is invalid/],
    [['models', 'show'], /^dropscore models show: missing required argument 'name'/],
    [['constructor'], /^dropscore: unknown command 'constructor'/],
    [['predict'], /^dropscore predict: missing required argument 'model'/],
    [['predict', 'a', 'b', 'c'], /^dropscore predict: too many arguments/],
    [['predict', 'a', 'b', '--max-bytes', 'lots'], /^dropscore predict: --max-bytes must be a positive integer, got "lots"/],
    [['completion', 'fish'], /^dropscore completion: unknown shell "fish"/],
  ])('rejects %j with one line, a pointer to help and exit code 2', async (argv, message) => {
    const result = await run(...argv);
    expect(result.code).toBe(2);
    expect(result.err).toMatch(message);
    expect(result.err.trim().split('\n')).toHaveLength(2);
  });

  it('writes errors as JSON on stdout under --json, usage errors and failures alike', async () => {
    const usage = await run('models', 'add', 'x.onnx', '--framework', 'pytorch', '--json');
    expect([usage.code, usage.err, JSON.parse(usage.out).error.code]).toEqual([2, '', 'USAGE_ERROR']);
    const failure = await run('models', 'show', 'nope', '--json', '--models', MODELS_ROOT);
    expect([failure.code, failure.err, JSON.parse(failure.out).error]).toEqual([1, '', { code: 'CONFIG_INVALID', message: expect.stringContaining('no model named "nope"') }]);
  });

  it('prints bash and zsh completion scripts that complete commands, subcommands and options', async () => {
    const bash = await run('completion', 'bash');
    expect(bash.code).toBe(0);
    const complete = (words: string[]) =>
      execFileSync('bash', ['-c', `${bash.out}\nCOMP_WORDS=(${words.map((w) => `"${w}"`).join(' ')}); COMP_CWORD=${words.length - 1}; _dropscore_complete; echo "\${COMPREPLY[@]}"`], { encoding: 'utf8' }).trim();
    expect(complete(['dropscore', 'dep'])).toBe('deployments deploy');
    expect(complete(['dropscore', 'models', ''])).toMatch(/^list show add /);
    expect(complete(['dropscore', 'models', 'add', 'x.onnx', '--fr'])).toBe('--framework');
    expect(complete(['dropscore', 'outcomes', 'get', 'd', '--a'])).toBe('--all --aws');
    const zsh = await run('completion', 'zsh');
    expect(zsh.out).toMatch(/^#compdef dropscore\n/);
    expect(zsh.out).toContain('complete -F _dropscore_complete dropscore');
  });

  it('accepts a model name where predict wants a model, as well as a folder', async () => {
    const byName = await run('predict', 'mnist-cnn-onnx', `${REPO_ROOT}samples/mnist-onnx/seven-drawn.json`, '--models', MODELS_ROOT);
    const byFolder = await run('predict', `${MODELS_ROOT}/mnist-cnn-onnx`, `${REPO_ROOT}samples/mnist-onnx/seven-drawn.json`);
    expect([byName.code, byName.out]).toEqual([0, byFolder.out]);
    const unknown = await run('predict', 'nope', 'x.json', '--models', MODELS_ROOT);
    expect([unknown.code, unknown.err]).toEqual([1, expect.stringMatching(/^dropscore predict: no model folder "nope" and no model named "nope" .*; models: lenet-caffe, /)]);
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
