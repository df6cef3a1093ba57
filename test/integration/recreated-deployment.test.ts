/**
 * A deployment deleted and created again under the same name is a new
 * deployment (issue 16): new creation time, zero counters, no last error, and
 * a ledger of its own, so its inputs are scored and counted afresh; through
 * the CLI and the console's API alike. Rebinding a live deployment keeps them.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli-run.js';
import { startConsole, type ConsoleHandle } from '../../console/console-server.js';
import type { LocalStack } from '../../infra/local/local-stack.js';
import { tempRoot } from '../support/model-dir.js';
import { drop, startTestStack } from '../support/local-stack-harness.js';
import { MODELS_ROOT, REPO_ROOT } from '../support/paths.js';

const root = tempRoot();
const manifest = join(root, 'deployments.json');
const good = readFileSync(join(REPO_ROOT, 'samples/mnist-onnx/seven-drawn.json'));
const bad = readFileSync(join(REPO_ROOT, 'samples/mnist-onnx/wrong-shape.json'));
let stack: LocalStack;
let web: ConsoleHandle;

beforeAll(async () => {
  writeFileSync(manifest, JSON.stringify({ deployments: [] }));
  stack = await startTestStack({ dataDir: join(root, 'data'), modelsRoot: MODELS_ROOT, watchIntervalMs: 50 });
  web = await startConsole({ stack, manifestPath: manifest, modelsRoot: MODELS_ROOT, port: 0 });
});
afterAll(async () => {
  await web?.close();
  await stack?.close();
  rmSync(root, { recursive: true, force: true });
});

function cli(...argv: string[]) {
  return runCli([...argv, '--endpoint', stack.endpoint, '--manifest', manifest, '--models', MODELS_ROOT]);
}

async function api(method: string, path: string, body?: unknown) {
  const response = await fetch(`${web.url.replace(/\/$/, '')}${path}`, {
    method,
    headers: { 'x-dropscore-console': '1', ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: response.status, body: (await response.json()) as any };
}

async function waitFor<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('a deployment re-created under the same name', () => {
  it('starts fresh through the CLI: new creation time, zero counters, no last error, its inputs scored and counted again', async () => {
    expect((await cli('deploy', 'mnist-cnn-onnx', '--source', 'rc-in', '--target', 'rc-out', '--name', 'again')).code).toBe(0);
    const show = async () => JSON.parse((await cli('deployments', 'show', 'again', '--json')).out);
    await drop(stack, 'rc-in', 'seven.json', good);
    await drop(stack, 'rc-in', 'wrong.json', bad);
    await stack.idle();
    const first = await show();
    expect(first).toMatchObject({ counters: { received: 2, scored: 1, failed: 1 }, lastError: expect.stringContaining('wrong.json: SHAPE_MISMATCH') });

    expect((await cli('deployments', 'delete', 'again')).code).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 5)); // a creation time of its own, to the millisecond
    expect((await cli('deploy', 'mnist-cnn-onnx', '--source', 'rc-in', '--target', 'rc-out', '--name', 'again')).code).toBe(0);
    const second = await show();
    expect(second.id).toBe(first.id);
    expect(second.counters).toEqual({ received: 0, scored: 0, failed: 0 });
    expect(second.lastError).toBeUndefined();
    expect(Date.parse(second.createdAt)).toBeGreaterThan(Date.parse(first.createdAt));

    // The same bytes again: the old deployment's ledger does not make them a duplicate of the new one.
    await drop(stack, 'rc-in', 'seven.json', good);
    await stack.idle();
    expect((await show()).counters).toEqual({ received: 1, scored: 1, failed: 0 });

    // A recount (after an unclean stop) counts only this deployment's own inputs.
    const { recountCounters } = await import('../../functions/scorer/domain/recount-counters.js');
    const { createDynamoDbInputLedger } = await import('../../functions/scorer/store/dynamodb-input-ledger.js');
    expect(await recountCounters(createDynamoDbInputLedger(stack.db, 'dropscore-ledger'), stack.deployments, stack.usage)).toEqual([]);
  });

  it('starts fresh through the console API', async () => {
    expect((await api('POST', '/api/deployments', { model: 'mnist-cnn-onnx', name: 'web', source: 'web-in', target: 'web-out' })).status).toBe(201);
    await waitFor(() => api('GET', '/api/deployments/web'), (r) => r.body.status === 'DEPLOY_SUCCESS');
    await drop(stack, 'web-in', 'wrong.json', bad);
    await stack.idle();
    const first = (await api('GET', '/api/deployments/web')).body;
    expect(first).toMatchObject({ counters: { received: 1, scored: 0, failed: 1 }, lastError: expect.stringContaining('SHAPE_MISMATCH') });

    expect((await api('DELETE', '/api/deployments/web')).body.status).toBe('DELETED');
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect((await api('POST', '/api/deployments', { model: 'mnist-cnn-onnx', name: 'web', source: 'web-in', target: 'web-out' })).status).toBe(201);
    const second = (await waitFor(() => api('GET', '/api/deployments/web'), (r) => r.body.status === 'DEPLOY_SUCCESS')).body;
    expect(second.counters).toEqual({ received: 0, scored: 0, failed: 0 });
    expect(second.lastError).toBeUndefined();
    expect(Date.parse(second.createdAt)).toBeGreaterThan(Date.parse(first.createdAt));
    await drop(stack, 'web-in', 'wrong.json', bad);
    await stack.idle();
    expect((await api('GET', '/api/deployments/web')).body.counters).toEqual({ received: 1, scored: 0, failed: 1 });
  });

  it('keeps counters, creation time and last error when a live deployment is rebound (a restart, a redeploy)', async () => {
    const before = (await api('GET', '/api/deployments/web')).body;
    const record = await stack.deploy({ ...before, description: 'rebound', cloud: {} as never });
    expect(record).toMatchObject({ description: 'rebound', createdAt: before.createdAt, counters: before.counters, lastError: before.lastError });
    await drop(stack, 'web-in', 'wrong.json', bad);
    await stack.idle();
    expect((await stack.deployments.get(before.id))!.counters).toEqual(before.counters); // the same input version: a duplicate
  });
});
