/**
 * Drops N records through the real pipeline (embedded S3 + DynamoDB, the
 * scorer domain, the local dispatcher with retries) while S3 fails a share
 * of reads and writes and every event is delivered twice, then checks that
 * each input has exactly one outcome, of its own version, counted once.
 * Used by `npm test` (small N) and `bench/zero-loss.ts` (N = 5000).
 */
import { join } from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Logger, ObjectStore } from '../../functions/scorer/domain/ports.js';
import { createScorer } from '../../functions/scorer/domain/scorer.js';
import { loadModel } from '../../functions/scorer/engines/framework-engines.js';
import { createDynamoDbDeploymentStore } from '../../functions/scorer/store/dynamodb-deployment-store.js';
import { createDynamoDbInputLedger } from '../../functions/scorer/store/dynamodb-input-ledger.js';
import { createDynamoDbUsageMeter } from '../../functions/scorer/store/dynamodb-usage-meter.js';
import { createS3ObjectStore } from '../../functions/scorer/store/s3-object-store.js';
import { listObjects } from '../../functions/scorer/store/s3-listing.js';
import { createEventDispatcher } from '../../infra/local/event-dispatcher.js';
import { DEFAULT_TABLES, ensureBucket } from '../../infra/local/provision.js';
import { createNotifier } from '../../infra/local/s3/s3-notification.js';
import { parseDeploymentsManifest } from '../../infra/manifest/deployments-manifest.js';
import type { LocalStack } from '../../infra/local/local-stack.js';

export interface ZeroLossReport {
  readonly n: number;
  readonly injectedFailures: number;
  readonly deliveries: number;
  readonly deadLettered: number;
  readonly outcomes: number;
  readonly outcomesOfOwnVersion: number;
  readonly counters: { received: number; scored: number; failed: number };
  readonly seconds: number;
}

export interface ZeroLossOptions {
  readonly n: number;
  readonly failureRate: number;
  readonly modelsRoot: string;
  readonly deadLetterDir: string;
  readonly record: Uint8Array;
  /** The scorer's own clients (e.g. with AWS permissions enforced); the stack's by default. */
  readonly scorerClients?: { readonly s3: S3Client; readonly db: DynamoDBClient };
}

/** The deployment the run scores for (bench and IAM tests synthesize its policies). */
export const ZERO_LOSS_DEPLOYMENT = { name: 'zero-loss', model: 'mnist-cnn-onnx', source: { bucket: 'zl-in' }, target: { bucket: 'zl-out' } };

export async function runZeroLoss(stack: LocalStack, options: ZeroLossOptions): Promise<ZeroLossReport> {
  const quiet: Logger = { info: () => {}, warn: () => {}, error: () => {} };
  const [spec] = parseDeploymentsManifest({ deployments: [ZERO_LOSS_DEPLOYMENT] }, 'zero-loss').deployments;
  const scorerS3 = options.scorerClients?.s3 ?? stack.s3;
  const scorerDb = options.scorerClients?.db ?? stack.db;
  await ensureBucket(stack.s3, 'zl-in');
  await ensureBucket(stack.s3, 'zl-out');
  const deployments = createDynamoDbDeploymentStore(stack.db, DEFAULT_TABLES.deploymentsTable);
  await deployments.upsert({ ...spec!, framework: 'onnx' });

  let injectedFailures = 0;
  // Deterministic pseudo-random failures (a linear congruential generator), so a failing run can be replayed.
  let seed = 42;
  const unlucky = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648 < options.failureRate;
  };
  const real = createS3ObjectStore(scorerS3);
  const flaky: ObjectStore = {
    read: (...args) => (unlucky() ? fail('GetObject') : real.read(...args)),
    head: (...args) => real.head(...args),
    write: (...args) => (unlucky() ? fail('PutObject') : real.write(...args)),
    stream: (...args) => (unlucky() ? fail('GetObject') : real.stream(...args)),
    writeStream: (...args) => (unlucky() ? fail('PutObject') : real.writeStream(...args)),
    remove: (...args) => real.remove(...args),
  };
  function fail(operation: string): never {
    injectedFailures++;
    throw Object.assign(new Error(`SlowDown: injected ${operation} failure`), { name: 'SlowDown' });
  }
  const scorer = createScorer({
    binding: spec!,
    modelDir: join(options.modelsRoot, 'mnist-cnn-onnx'),
    load: loadModel,
    objects: flaky,
    deployments: createDynamoDbDeploymentStore(scorerDb, DEFAULT_TABLES.deploymentsTable),
    ledger: createDynamoDbInputLedger(scorerDb, DEFAULT_TABLES.ledgerTable),
    usage: createDynamoDbUsageMeter(scorerDb, DEFAULT_TABLES.deploymentsTable),
    log: quiet,
  });
  let deliveries = 0;
  let deadLettered = 0;
  const dispatcher = createEventDispatcher({
    subscribers: () => [{ binding: spec!, handle: (event) => scorer.handleEvent(event) }],
    concurrency: 4,
    retryDelaysMs: [1, 1, 1, 1, 1, 1],
    deadLetterDir: options.deadLetterDir,
    log: quiet,
    batchWindowMs: 10,
    maxBatchSize: 32,
    onDelivered: (d) => {
      deliveries++;
      if ('error' in d) deadLettered++;
    },
  });
  const notificationOf = createNotifier('us-east-1');

  const started = performance.now();
  const keys = Array.from({ length: options.n }, (_, i) => `zl/${String(i).padStart(6, '0')}.json`);
  const eTags = new Map<string, string>();
  for (let i = 0; i < keys.length; i += 16) {
    await Promise.all(keys.slice(i, i + 16).map(async (key) => {
      // Injected faults (and any server hiccup under this load): the dropper retries like any S3 client would.
      const put = await withRetries(() => stack.s3.send(new PutObjectCommand({ Bucket: 'zl-in', Key: key, Body: options.record })));
      eTags.set(key, put.ETag!.replace(/"/g, ''));
      const event = [{ record: notificationOf({ bucket: 'zl-in', key, size: options.record.length, eTag: eTags.get(key)!, how: 'Put' }, '127.0.0.1') }];
      dispatcher.dispatch(event);
      dispatcher.dispatch(event); // S3 delivers at least once: here, always twice
    }));
  }
  await dispatcher.idle();
  const seconds = (performance.now() - started) / 1000;

  const outcomes = await listOutcomes(stack.s3);
  let ownVersion = 0;
  for (const key of keys) if (outcomes.has(key) && (await withRetries(() => outcomeInputETag(stack.s3, key))) === eTags.get(key)) ownVersion++;
  const record = (await deployments.get(spec!.id))!;
  return { n: options.n, injectedFailures, deliveries, deadLettered, outcomes: outcomes.size, outcomesOfOwnVersion: ownVersion, counters: { ...record.counters }, seconds };
}

async function withRetries<T>(call: () => Promise<T>, attempts = 5): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (attempt >= attempts) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
    }
  }
}

async function listOutcomes(s3: S3Client): Promise<Set<string>> {
  return new Set((await withRetries(() => listObjects(s3, 'zl-out', ''))).map((o) => o.Key!));
}

async function outcomeInputETag(s3: S3Client, key: string): Promise<string | undefined> {
  const head = await s3.send(new HeadObjectCommand({ Bucket: 'zl-out', Key: key }));
  return head.Metadata?.['dropscore-input-etag'];
}
