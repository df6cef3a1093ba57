/**
 * One round of the crash test: `npm start`'s stack in a child process, records
 * dropped into it, `kill -9` at a random moment, a restart on the same data,
 * and a comparison of the counters with what the target bucket holds.
 * Used by `npm test` (one round) and `bench/crash-recovery.ts` (ten).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { createDynamoDbClient, createS3Client } from '../../functions/scorer/store/aws-clients.js';
import { listObjects } from '../../functions/scorer/store/s3-listing.js';
import { LOCAL_CREDENTIALS } from '../../infra/local/auth/local-credentials.js';
import { exited, startStackProcess } from './stack-process.js';

export interface CrashRound {
  readonly killedAfterMs: number;
  readonly dropsAcknowledged: number;
  readonly inputs: number;
  readonly results: number;
  readonly errors: number;
  readonly counters: { received: number; scored: number; failed: number };
  readonly predictions: number;
  readonly restartMs: number;
}

/** `record` scores; every tenth drop is `bad` instead, so both counters move. */
export async function runCrashRound(options: { dir: string; records: number; killWithinMs: number; record: Uint8Array; bad: Uint8Array }): Promise<CrashRound> {
  const dataDir = join(options.dir, 'data');
  const manifest = join(options.dir, 'deployments.json');
  const samples = join(options.dir, 'no-samples');
  mkdirSync(samples, { recursive: true });
  writeFileSync(manifest, JSON.stringify({ deployments: [{ name: 'crash', model: 'mnist-cnn-onnx', source: { bucket: 'crash-in' }, target: { bucket: 'crash-out' } }] }));

  const first = await startStackProcess(dataDir, manifest, samples);
  const s3 = createS3Client({ region: 'us-east-1', endpoint: first.endpoint, credentials: LOCAL_CREDENTIALS });
  const killedAfterMs = Math.floor(Math.random() * options.killWithinMs);
  const started = performance.now();
  const killer = setTimeout(() => first.child.kill('SIGKILL'), killedAfterMs);
  let acknowledged = 0;
  const keys = Array.from({ length: options.records }, (_, i) => `r/${String(i).padStart(5, '0')}.json`);
  await inParallel(keys, 16, async (key, i) => {
    try {
      await s3.send(new PutObjectCommand({ Bucket: 'crash-in', Key: key, Body: i % 10 === 9 ? options.bad : options.record }));
      acknowledged++;
    } catch {
      // Refused by the killed stack: this drop may or may not have been stored.
    }
  });
  await exited(first.child);
  clearTimeout(killer);
  s3.destroy();

  const restartStarted = performance.now();
  const second = await startStackProcess(dataDir, manifest, samples);
  const restartMs = performance.now() - restartStarted;
  try {
    return { killedAfterMs, dropsAcknowledged: acknowledged, restartMs, ...(await settledTruth(second.endpoint, started)) };
  } finally {
    second.child.kill('SIGINT');
    await exited(second.child);
  }
}

/** Waits until every stored input has its outcome and the counters stopped moving, then reads both. */
async function settledTruth(endpoint: string, since: number) {
  const s3 = createS3Client({ region: 'us-east-1', endpoint, credentials: LOCAL_CREDENTIALS });
  const db = createDynamoDbClient({ region: 'us-east-1', endpoint, credentials: LOCAL_CREDENTIALS });
  try {
    for (;;) {
      const inputs = await listObjects(s3, 'crash-in', '');
      const outcomes = await listObjects(s3, 'crash-out', '');
      const { counters, predictions } = await readCounters(db);
      if (outcomes.length === inputs.length && counters.received === counters.scored + counters.failed && counters.received >= inputs.length) {
        let errors = 0;
        for (const outcome of outcomes) {
          const head = await s3.send(new HeadObjectCommand({ Bucket: 'crash-out', Key: outcome.Key! }));
          if (head.Metadata?.['dropscore-outcome'] === 'error') errors++;
        }
        return { inputs: inputs.length, results: outcomes.length - errors, errors, counters, predictions };
      }
      if (performance.now() - since > 120_000) throw new Error(`not settled: ${inputs.length} inputs, ${outcomes.length} outcomes, counters ${JSON.stringify(counters)}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  } finally {
    s3.destroy();
    db.destroy();
  }
}

async function readCounters(db: ReturnType<typeof createDynamoDbClient>) {
  const items = (await db.send(new ScanCommand({ TableName: 'dropscore-deployments', ConsistentRead: true }))).Items ?? [];
  const n = (item: (typeof items)[number] | undefined, name: string) => Number(item?.[name]?.N ?? 0);
  const deployment = items.find((item) => item['name']?.S === 'crash');
  const usage = items.find((item) => item['id']?.S === '__usage__');
  return { counters: { received: n(deployment, 'received'), scored: n(deployment, 'scored'), failed: n(deployment, 'failed') }, predictions: n(usage, 'predictions') };
}

async function inParallel<T>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < items.length) {
      const index = next++;
      await work(items[index]!, index);
    }
  }));
}
