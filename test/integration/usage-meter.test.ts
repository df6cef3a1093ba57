/**
 * The shared prediction counter against the embedded DynamoDB (dynalite):
 * scorers counting at once under a limit reach it exactly, never past it,
 * each with conditional ADDs only; without a limit, plain ADDs lose nothing.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamoDbUsageMeter } from '../../functions/scorer/store/dynamodb-usage-meter.js';
import type { LocalStack } from '../../infra/local/local-stack.js';
import { DEFAULT_TABLES } from '../../infra/local/provision.js';
import { startTestStack } from '../support/local-stack-harness.js';
import { tempRoot } from '../support/model-dir.js';
import { MODELS_ROOT } from '../support/paths.js';

const root = tempRoot();
let stack: LocalStack;

beforeAll(async () => {
  stack = await startTestStack({ dataDir: join(root, 'data'), modelsRoot: MODELS_ROOT, limits: { predictionCount: 100 } });
});
afterAll(async () => {
  await stack?.close();
  rmSync(root, { recursive: true, force: true });
});

const meters = (n: number) => Array.from({ length: n }, () => createDynamoDbUsageMeter(stack.db, DEFAULT_TABLES.deploymentsTable));

describe('the prediction counter on DynamoDB', () => {
  it('reaches the limit exactly when eight scorers count at once, never past it', async () => {
    const granted = await Promise.all(meters(8).map(async (meter, i) => {
      let total = 0;
      for (;;) {
        const quota = await meter.consumePredictions(3, i === 0 ? { allOrNothing: true, online: true } : undefined);
        total += quota.granted;
        if (quota.granted === 0) return total;
      }
    }));
    expect(granted.reduce((a, b) => a + b, 0)).toBe(100);
    expect((await stack.usage.read()).predictions).toBe(100);
  });

  it('counts every prediction with plain ADDs once the limit is lifted', async () => {
    await stack.usage.setLimits({});
    await Promise.all(meters(8).map(async (meter) => {
      for (let i = 0; i < 10; i++) expect(await meter.consumePredictions(5)).toMatchObject({ granted: 5 });
    }));
    expect((await stack.usage.read()).predictions).toBe(500);
  });

  it('sets the count (a recount) only while it still holds what was read, when asked to; a deployment\'s counters likewise', async () => {
    const { createDynamoDbDeploymentStore } = await import('../../functions/scorer/store/dynamodb-deployment-store.js');
    const meter = createDynamoDbUsageMeter(stack.db, DEFAULT_TABLES.deploymentsTable);
    const { predictions } = await meter.read();
    expect(await meter.setBatchPredictions(7, predictions + 1)).toBe(false);
    expect((await meter.read()).predictions).toBe(predictions);
    expect(await meter.setBatchPredictions(7, predictions)).toBe(true);
    const online = (await meter.read()).onlinePredictions;
    expect((await meter.read()).predictions).toBe(online + 7);

    const store = createDynamoDbDeploymentStore(stack.db, DEFAULT_TABLES.deploymentsTable);
    const record = await store.upsert({ id: 'dep-recount', name: 'recount', model: 'm', description: '', framework: 'onnx', source: { bucket: 'rc-in', prefix: '' }, target: { bucket: 'rc-out', prefix: '' } });
    expect(record.counters).toEqual({ received: 0, scored: 0, failed: 0 });
    // Counters never written read as 0, and hold as such.
    expect(await store.setCounters(record.id, { received: 2, scored: 2, failed: 0 }, { received: 1, scored: 0, failed: 0 })).toBe(false);
    expect((await store.get(record.id))!.counters).toEqual({ received: 0, scored: 0, failed: 0 });
    expect(await store.setCounters(record.id, { received: 2, scored: 2, failed: 0 }, { received: 0, scored: 0, failed: 0 })).toBe(true);
    await store.addCounters(record.id, { received: 1 });
    expect(await store.setCounters(record.id, { received: 9, scored: 9, failed: 0 }, { received: 2, scored: 2, failed: 0 })).toBe(false);
    expect((await store.get(record.id))!.counters).toEqual({ received: 3, scored: 2, failed: 0 });
  });
});
