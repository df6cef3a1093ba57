/**
 * The CLI spawned as a user runs it, against a running embedded stack (as
 * `npm start` provides): models add → deploy → batch → show → score → usage →
 * delete. Plus the case where no stack runs: the CLI starts one itself.
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStack } from '../../infra/local/local-stack.js';
import { tempRoot } from '../support/model-dir.js';
import { startTestStack } from '../support/local-stack-harness.js';
import { FIXTURES, MODELS_ROOT, REPO_ROOT } from '../support/paths.js';

const root = tempRoot();
const modelsRoot = join(root, 'models');
const manifest = join(root, 'deployments.json');
let stack: LocalStack;

beforeAll(async () => {
  mkdirSync(modelsRoot, { recursive: true });
  cpSync(join(MODELS_ROOT, 'mnist-keras'), join(modelsRoot, 'mnist-keras'), { recursive: true });
  writeFileSync(manifest, JSON.stringify({ deployments: [], limits: { model_count: 2, prediction_count: 5 } }));
  stack = await startTestStack({ dataDir: join(root, 'data'), modelsRoot, watchIntervalMs: 100, limits: { modelCount: 2, predictionCount: 5 } });
});
afterAll(async () => {
  await stack?.close();
  rmSync(root, { recursive: true, force: true });
});

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI at `endpoint` (`undefined`: no --endpoint, whatever the environment `env` says). */
async function dropscore(endpoint: string | undefined, ...args: string[]): Promise<Run> {
  return dropscoreWith({}, endpoint, ...args);
}

async function dropscoreWith(env: Record<string, string>, endpoint: string | undefined, ...args: string[]): Promise<Run> {
  const common = [...(endpoint ? ['--endpoint', endpoint] : []), '--manifest', manifest, '--models', modelsRoot, '--data-dir', join(root, 'cli-data')];
  const environment = { ...process.env, DROPSCORE_ENDPOINT: '', DROPSCORE_PORT: '', ...env };
  try {
    const { stdout, stderr } = await promisify(execFile)('node', ['bin/dropscore.js', ...args, ...common], { cwd: REPO_ROOT, timeout: 90_000, env: environment });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('the dropscore CLI against a running local stack', () => {
  const cli = (...args: string[]) => dropscore(stack.endpoint, ...args);

  it('adds a model after checking that it loads, refuses one that does not, and holds the model limit', async () => {
    const notKeras = await cli('models', 'add', `${FIXTURES}/payloads/keras/img1.json`, '--framework', 'keras');
    expect([notKeras.code, notKeras.stderr]).toEqual([1, expect.stringMatching(/img1\.json: expected one keras artifact \(a file matching .*\), found none/)]);
    const corrupt = join(root, 'corrupt.onnx');
    writeFileSync(corrupt, 'not really onnx');
    const refused = await cli('models', 'add', corrupt, '--framework', 'onnx', '--name', 'not-a-model');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/not added: onnxruntime cannot load model "not-a-model" \(corrupt\.onnx\)/);
    expect(JSON.parse((await cli('models', 'list', '--json')).stdout).map((m: { name: string }) => m.name)).toEqual(['mnist-keras']);

    const added = await cli('models', 'add', `${FIXTURES}/models/onnx/keras2onnx_mnist_sm/mnist-sm.onnx`, '--framework', 'onnx', '--name', 'digits-onnx');
    expect(added).toMatchObject({ code: 0 });
    expect(added.stdout).toContain('added model digits-onnx (onnx)');
    expect(added.stdout).toContain('conv2d_5_input float32 [N,28,28,1]');
    const shown = JSON.parse((await cli('models', 'show', 'digits-onnx', '--json')).stdout);
    expect(shown.signature.outputs).toEqual([{ name: 'dense_6/Softmax:0', dtype: 'float32', shape: [null, 10] }]);

    const limit = await cli('models', 'add', `${FIXTURES}/models/onnx/onnx_backend_single_relu/model.onnx`, '--framework', 'onnx', '--name', 'third');
    expect([limit.code, limit.stderr.trim()]).toEqual([1, 'dropscore models add: the instance has 2 of its 2 models (limit model_count)']);
  });

  it('deploys, and the running stack scores for the new deployment at once', async () => {
    const deployed = await cli('deploy', 'digits-onnx', '--source', 'cli-in', '--target', 'cli-out', '--name', 'digits');
    expect(deployed.code).toBe(0);
    expect(deployed.stdout).toMatch(/status:\s+DEPLOY_SUCCESS/);
    const record = JSON.parse((await cli('deployments', 'show', 'digits', '--json')).stdout);
    expect(deployed.stdout).toMatch(new RegExp(`^id:\\s+${record.id}$`, 'm'));
    expect(deployed.stdout).toContain('scoring endpoint: none on the local stack: `dropscore score digits <payload.json>` scores online');
    expect(deployed.stdout).toContain('next: drop JSON records into s3://cli-in/, or run\n  dropscore batch digits <dir|files...> --out <dir>');
    const taken = await cli('deploy', 'digits-onnx', '--source', 'x-in', '--target', 'x-out', '--name', 'digits');
    expect(taken.stderr).toContain('a deployment named "digits" exists already');
    const loop = await cli('deploy', 'digits-onnx', '--source', 'same', '--target', 'same', '--name', 'loop');
    expect(loop.stderr).toContain('outcomes would be scored again in a loop');
    // Two deployments feeding each other, or one scoring another's outcomes: refused, naming both.
    for (const target of ['cli-in', 'elsewhere']) {
      const fed = await cli('deploy', 'digits-onnx', '--source', 'cli-out', '--target', target, '--name', 'back');
      expect([fed.code, fed.stderr]).toEqual([1, expect.stringContaining('the target of deployment "digits" (s3://cli-out/) overlaps the source of deployment "back" (s3://cli-out/)')]);
    }
    expect(JSON.parse(readFileSync(manifest, 'utf8')).deployments.map((d: { name: string }) => d.name)).toEqual(['digits']);
    // One bucket, both roles, with disjoint prefixes.
    const shared = await cli('deploy', 'digits-onnx', '--source', 'shared', '--target', 'shared', '--source-prefix', 'in/', '--target-prefix', 'out/', '--name', 'shared', '--json');
    expect([shared.code, JSON.parse(shared.stdout).source, JSON.parse(shared.stdout).target]).toEqual([0, { bucket: 'shared', prefix: 'in/' }, { bucket: 'shared', prefix: 'out/' }]);
    expect((await cli('deployments', 'delete', 'shared')).code).toBe(0);
  });

  it('batch uploads records, follows them to their outcomes, saves them with --out, and fails when one failed', async () => {
    const missing = join(root, 'missing.json');
    const out = join(root, 'batch-out');
    const batch = await cli('batch', 'digits', `${FIXTURES}/payloads/keras/img1.json`, missing, join(REPO_ROOT, 'samples/mnist-onnx'), '--out', out);
    expect(batch.code).toBe(1);
    // The samples were written for the demo model, whose input is named input_1: this model's is not.
    expect(batch.stdout).toContain(`5 file(s): 2 scored, 0 already scored, 2 failed, 0 without an outcome yet, 1 not uploaded; outcomes in s3://cli-out/ (4 saved under ${out})`);
    // A missing file does not stop the others, and is named as people say it.
    expect(batch.stdout).toContain(`not uploaded:\n  ${missing}: no such file or folder`);
    expect(`${batch.stdout}${batch.stderr}`).not.toContain('ENOENT');
    const samples = ['mnist1-digit.json', 'seven-drawn.json', 'wrong-shape.json'].filter((f) => existsSync(join(REPO_ROOT, 'samples/mnist-onnx', f)));
    for (const file of ['img1.json', ...samples]) {
      const saved = JSON.parse(readFileSync(join(out, file), 'utf8'));
      expect(saved).toEqual(JSON.parse((await cli('outcomes', 'get', 'digits', file)).stdout));
    }
    expect(JSON.parse(readFileSync(join(out, 'wrong-shape.json'), 'utf8')).error.code).toBe('SHAPE_MISMATCH');
    expect(batch.stdout).toContain('mnist1-digit.json: UNEXPECTED_INPUT: unexpected key(s) "input_1"; the model expects "conv2d_5_input" float32 [N,28,28,1] (or "values")');
    expect(batch.stdout).toContain('wrong-shape.json: SHAPE_MISMATCH: input "values": expected shape [N,28,28,1], received [1,3]');
    expect(batch.stderr).toMatch(/4\/4 done, 2 failed, 0 pending, [\d.]+ files\/s/);
  });

  it('lists and gets outcomes: one printed, or all saved under --out by their key', async () => {
    const listed = JSON.parse((await cli('outcomes', 'list', 'digits', '--json')).stdout);
    expect(listed.map((o: { path: string; state: string }) => `${o.path} ${o.state}`)).toContain('wrong-shape.json error');
    const one = await cli('outcomes', 'get', 'digits', 'img1.json');
    expect([one.code, Object.keys(JSON.parse(one.stdout))]).toEqual([0, ['img1.json']]);
    const failed = await cli('outcomes', 'get', 'digits', 'wrong-shape.json');
    expect([failed.code, JSON.parse(failed.stdout).error.code]).toEqual([1, 'SHAPE_MISMATCH']);
    const out = join(root, 'all-out');
    const all = await cli('outcomes', 'get', 'digits', '--all', '--out', out);
    expect(all.code).toBe(0);
    expect(all.stdout).toContain(`${listed.length} outcome(s) from s3://cli-out/ saved under ${out}`);
    for (const { path } of listed) expect(existsSync(join(out, path))).toBe(true);
    const unknown = await cli('outcomes', 'get', 'digits', 'nope.json');
    expect([unknown.code, unknown.stderr.trim()]).toEqual([1, 'dropscore outcomes get: no outcome s3://cli-out/nope.json (list them with `dropscore outcomes list`)']);
    expect((await cli('outcomes', 'get', 'digits')).code).toBe(2);
    expect((await cli('outcomes', 'get', 'digits', '--all')).stderr).toContain('--all needs --out <dir>');
  });

  it('shows the deployment with status, bindings, counters and last error; an unknown name lists the known ones', async () => {
    const shown = await cli('deployments', 'show', 'digits');
    expect(shown.stdout).toMatch(/status:\s+DEPLOY_SUCCESS/);
    expect(shown.stdout).toMatch(/counters:\s+received 4, scored 2, failed 2/);
    // Both failed in one micro-batch: either may be the last error.
    expect(shown.stdout).toMatch(/last error:\s+(wrong-shape\.json: SHAPE_MISMATCH|mnist1-digit\.json: UNEXPECTED_INPUT)/);
    const listed = JSON.parse((await cli('deployments', 'list', '--json')).stdout);
    expect(listed.map((d: { name: string }) => d.name)).toEqual(['digits']);
    const unknown = await cli('deployments', 'show', 'digitz');
    expect([unknown.code, unknown.stderr.trim()]).toEqual([1, 'dropscore deployments show: no deployment named "digitz"; deployments: digits']);
  });

  it('recounts: counters a crash left short are set to the ledger\'s, only while nothing moves; agreeing ones are left alone', async () => {
    const record = (await stack.deployments.list()).find((d) => d.name === 'digits')!;
    // A delivery that died between its ledger write and its counter write.
    await stack.deployments.setCounters(record.id, { received: 4, scored: 1, failed: 2 });
    const dry = await cli('recount', '--dry-run');
    expect([dry.code, dry.stdout.trim()]).toEqual([0, 'digits: counters received 4, scored 1, failed 2; ledger received 4, scored 2, failed 2\ndry run: nothing corrected']);
    const fixed = await cli('recount', '--settle', '0.2');
    expect([fixed.code, fixed.stdout.trim().split('\n').at(-1)]).toEqual([0, 'corrected to the ledger\'s counts']);
    expect((await cli('deployments', 'show', 'digits')).stdout).toMatch(/counters:\s+received 4, scored 2, failed 2/);
    expect((await cli('recount')).stdout.trim()).toBe('every counter agrees with the ledger');
    const wrong = await cli('recount', '--settle', 'soon');
    expect([wrong.code, wrong.stderr]).toEqual([2, expect.stringContaining('--settle must be a number of seconds, got "soon"')]);
  });

  it('scores online rows and says what the model expects for a wrong payload', async () => {
    const payload = join(root, 'rows.json');
    writeFileSync(payload, JSON.stringify({ values: [Array.from({ length: 28 }, () => Array.from({ length: 28 }, () => [0.5]))] }));
    const scored = await cli('score', 'digits', payload);
    expect(scored.code).toBe(0);
    const body = JSON.parse(scored.stdout);
    expect(body.fields).toEqual(['dense_6/Softmax:0']);
    expect(body.values).toHaveLength(1);
    expect(body.values[0][0]).toHaveLength(10);
    // Named inputs, as batch records have them.
    writeFileSync(payload, JSON.stringify({ conv2d_5_input: [Array.from({ length: 28 }, () => Array.from({ length: 28 }, () => [0.5]))] }));
    const named = await cli('score', 'digits', payload);
    expect([named.code, JSON.parse(named.stdout)]).toEqual([0, body]);
    const missing = await cli('score', 'digits', join(root, 'nope.json'));
    expect([missing.code, missing.stderr.trim()]).toEqual([1, `dropscore score: ${join(root, 'nope.json')}: no such file or folder`]);
    writeFileSync(payload, '{"values": [[1, 2, 3]]}');
    const wrong = await cli('score', 'digits', payload);
    expect([wrong.code, wrong.stderr.trim()]).toEqual([1, 'SHAPE_MISMATCH: input "values": expected shape [N,28,28,1], received [1,3]']);
    const wrongJson = await cli('score', 'digits', payload, '--json');
    expect([wrongJson.code, wrongJson.stderr, JSON.parse(wrongJson.stdout)]).toEqual([1, '', { error: { code: 'SHAPE_MISMATCH', message: 'input "values": expected shape [N,28,28,1], received [1,3]' } }]);
  });

  it('names a missing folder in the summary, as people say it, with exit code 1', async () => {
    const missing = await cli('batch', 'digits', join(root, 'no-such-folder'));
    expect(missing.code).toBe(1);
    expect(missing.stdout).toContain(`not uploaded:\n  ${join(root, 'no-such-folder')}: no such file or folder`);
    expect(`${missing.stdout}${missing.stderr}`).not.toContain('ENOENT');
  });

  it('counts online rows against the prediction limit, all or nothing; error records made no prediction', async () => {
    // The batch above made 2 predictions (its 2 error records none) and the two online rows the 3rd and 4th.
    const payload = join(root, 'rows.json');
    const rows = (n: number) => JSON.stringify({ values: Array.from({ length: n }, () => Array.from({ length: 28 }, () => Array.from({ length: 28 }, () => [0.5]))) });
    writeFileSync(payload, rows(3));
    const refused = await cli('score', 'digits', payload);
    expect([refused.code, refused.stderr.trim()]).toEqual([1, 'PREDICTION_LIMIT_REACHED: the instance has used 4 of its 5 predictions (limit prediction_count); raise the limit in deployments.json to score more']);
    writeFileSync(payload, rows(1));
    expect((await cli('score', 'digits', payload)).code).toBe(0);
  });

  it('reports usage against the limits, and enforces the prediction limit with an error outcome', async () => {
    const usage = await cli('usage');
    expect(usage.stdout).toMatch(/models\s+2 of 2\s+LIMIT REACHED/);
    expect(usage.stdout).toMatch(/predictions\s+5 of 5\s+LIMIT REACHED/);
    const over = await cli('batch', 'digits', `${FIXTURES}/payloads/keras/img1.json`, '--timeout', '30');
    expect(over.code).toBe(0); // same content as before: already scored, not a new prediction
    expect(over.stdout).toContain('1 file(s): 0 scored, 1 already scored, 0 failed');
    expect(over.stdout).toContain(`already scored (same content as before, not uploaded again):\n  ${FIXTURES}/payloads/keras/img1.json`);
    const fresh = join(root, 'fresh.json');
    writeFileSync(fresh, JSON.stringify({ values: [Array.from({ length: 28 }, () => Array.from({ length: 28 }, () => [0.25]))] }));
    const limited = await cli('batch', 'digits', fresh);
    expect(limited.code).toBe(1);
    expect(limited.stdout).toContain('fresh.json: PREDICTION_LIMIT_REACHED: the instance has used 5 of its 5 predictions');
  });

  it('deletes the deployment: the record is kept as DELETED, the scorer stops, the manifest drops it', async () => {
    const deleted = await cli('deployments', 'delete', 'digits');
    expect(deleted.stdout).toContain('deleted digits (status DELETED');
    expect(JSON.parse((await cli('deployments', 'list', '--json')).stdout)).toEqual([]);
    expect(JSON.parse(readFileSync(manifest, 'utf8')).deployments).toEqual([]);
  });
});

describe('the dropscore CLI with no stack running', () => {
  it('follows the port npm start uses (DROPSCORE_PORT) or DROPSCORE_ENDPOINT when no --endpoint is given', async () => {
    const port = new URL(stack.endpoint).port;
    for (const env of [{ DROPSCORE_PORT: port }, { DROPSCORE_ENDPOINT: stack.endpoint }] as Record<string, string>[]) {
      const listed = await dropscoreWith(env, undefined, 'deployments', 'list', '--json');
      expect([listed.code, listed.stderr]).toEqual([0, '']);
      expect(Array.isArray(JSON.parse(listed.stdout))).toBe(true);
    }
  });

  it('fails, naming the endpoint, when no stack answers there or what answers is not one; never a silent empty stack', async () => {
    const port = await freePort();
    const nobody = await dropscore(`http://127.0.0.1:${port}`, 'deployments', 'list');
    expect([nobody.code, nobody.stdout]).toEqual([1, '']);
    expect(nobody.stderr).toContain(`no stack answers at http://127.0.0.1:${port}: start one with \`npm start\``);
    const web = createHttpServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>console</html>'));
    await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve));
    try {
      const notAStack = await dropscore(`http://127.0.0.1:${(web.address() as { port: number }).port}`, 'deployments', 'list');
      expect([notAStack.code, notAStack.stderr]).toEqual([1, expect.stringContaining('is not a dropscore stack (S3 + DynamoDB)')]);
    } finally {
      web.close();
    }
  });

  it('starts a stack of its own for the command only when asked (--embedded), on the data folder', async () => {
    const listed = await dropscore(undefined, 'deployments', 'list', '--embedded');
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain('no deployments');
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
