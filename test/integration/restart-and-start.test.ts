/**
 * What a user sees: `npm start --once` scores the samples, and a restarted
 * stack still has its deployments, counters and objects.
 */
import { execFile } from 'node:child_process';
import { cpSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { parseDeploymentsManifest } from '../../infra/manifest/deployments-manifest.js';
import { tempRoot } from '../support/model-dir.js';
import { drop, outcomeOf, readOutcome, startTestStack } from '../support/local-stack-harness.js';
import { FIXTURES, MODELS_ROOT, REPO_ROOT } from '../support/paths.js';

const root = tempRoot();
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('npm start --once', () => {
  it('deploys the manifest, scores the samples and prints outcomes, status and counters', async () => {
    const { stdout } = await promisify(execFile)('npx', ['tsx', 'infra/local/start.ts', '--once', '--port', '0', '--data-dir', join(root, 'start-data')], {
      cwd: REPO_ROOT,
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
      timeout: 60_000,
    });
    expect(stdout).toMatch(/deployed mnist-onnx: model mnist-cnn-onnx \(onnx\).*DEPLOY_SUCCESS/);
    expect(stdout).toMatch(/✔ mnist-onnx {2}mnist1-digit\.json → s3:\/\/dropscore-mnist-onnx-out\/mnist1-digit\.json\n {4}\{"mnist1-digit\.json":\{"dense":\[\[/);
    expect(stdout).toMatch(/✖ mnist-onnx {2}wrong-shape\.json .*\n {4}\{"error":\{"code":"SHAPE_MISMATCH"/);
    expect(stdout).toContain('mnist-onnx  DEPLOY_SUCCESS  received 3, scored 2, failed 1');
    expect(stdout).toMatch(/✔ mnist-keras {2}seven-drawn\.json .*\n {4}\{"seven-drawn\.json":\{"fields":\["prediction","prediction_classes","probability"\],"values":\[\[[^\]]*\],7,/);
    // The bulk sample: one outcome of JSON Lines, a line per record in order (the blank line skipped, a bad record its error).
    expect(stdout).toMatch(/✔ mnist-keras {2}digits\.jsonl .*\n {4}\{"digits\.jsonl#1":\{"fields":.*\],5,.*\n {4}\{"digits\.jsonl#2":.*\],7,.*\n {4}\{"error":\{"line":4,"code":"SHAPE_MISMATCH"/);
    expect(stdout).toContain('mnist-keras  DEPLOY_SUCCESS  received 6, scored 5, failed 1');
    expect(stdout).toMatch(/✔ mnist-caffe {2}seven-drawn\.json .*\n {4}\{"seven-drawn\.json":\{"prob":\[\[/);
    expect(stdout).toContain('mnist-caffe  DEPLOY_SUCCESS  received 2, scored 2, failed 0');
    expect(stdout).toMatch(/✔ mnist-tensorflow {2}mnist1-digit\.json .*\n {4}\[\{"filename":"mnist1-digit\.json","y":\[\[/);
    expect(stdout).toContain('mnist-tensorflow  DEPLOY_SUCCESS  received 1, scored 1, failed 0');
  });
});

describe('restarting the local stack', () => {
  it('keeps deployments, counters, inputs and outcomes', async () => {
    const dataDir = join(root, 'restart-data');
    const modelsRoot = join(root, 'models');
    cpSync(join(MODELS_ROOT, 'mnist-cnn-onnx'), join(modelsRoot, 'mnist-cnn-onnx'), { recursive: true });
    const [spec] = parseDeploymentsManifest({ deployments: [{ name: 'keep', model: 'mnist-cnn-onnx', source: { bucket: 'keep-in' }, target: { bucket: 'keep-out' } }] }, 'test').deployments;

    const first = await startTestStack({ dataDir, modelsRoot });
    await first.deploy(spec!);
    await drop(first, 'keep-in', 'r.json', readFileSync(`${FIXTURES}/payloads/keras/img1.json`));
    const outcome = await outcomeOf(first, 'keep-out', 'r.json');
    await first.close();

    const second = await startTestStack({ dataDir, modelsRoot });
    try {
      const record = await second.deployments.get(spec!.id);
      expect(record).toMatchObject({ name: 'keep', counters: { received: 1, scored: 1, failed: 0 } });
      expect((await readOutcome(second, 'keep-out', 'r.json'))!.body).toBe(outcome.body);
      await second.deploy(spec!);
      expect(await second.catchUp('keep')).toBe(1);
      await second.idle();
      expect((await second.deployments.get(spec!.id))!.counters).toEqual({ received: 1, scored: 1, failed: 0 });
    } finally {
      await second.close();
    }
  });
});

describe('after an unclean stop', () => {
  it('recounts the counters and the prediction count from the ledger (writes lost between ledger and counters)', async () => {
    const dataDir = join(root, 'recount-data');
    const [spec] = parseDeploymentsManifest({ deployments: [{ name: 'recount', model: 'mnist-cnn-onnx', source: { bucket: 'recount-in' }, target: { bucket: 'recount-out' } }] }, 'test').deployments;
    const first = await startTestStack({ dataDir, modelsRoot: MODELS_ROOT });
    await first.deploy(spec!);
    await drop(first, 'recount-in', 'good.json', readFileSync(`${FIXTURES}/payloads/keras/img1.json`));
    await drop(first, 'recount-in', 'bad.json', '{"values": [[1, 2, 3]]}');
    await first.idle();
    expect((await first.deployments.get(spec!.id))!.counters).toEqual({ received: 2, scored: 1, failed: 1 });
    // What a crash between the ledger's writes and the counters' writes leaves behind.
    await first.deployments.setCounters(spec!.id, { received: 0, scored: 0, failed: 0 });
    await first.usage.setBatchPredictions(0);
    await first.close();
    rmSync(join(dataDir, 'closed-cleanly'));

    const second = await startTestStack({ dataDir, modelsRoot: MODELS_ROOT });
    try {
      expect((await second.deployments.get(spec!.id))!.counters).toEqual({ received: 2, scored: 1, failed: 1 });
      expect((await second.usage.read()).predictions).toBe(1);
    } finally {
      await second.close();
    }
  });
});

