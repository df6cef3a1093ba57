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
});
