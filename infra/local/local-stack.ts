/**
 * The embedded local stack: servers, tables, buckets and one scorer per
 * deployment of the manifest, with S3 notifications delivered to the same
 * handler code that runs in Lambda. `npm start`, the CLI and the integration
 * tests all run on this.
 */
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import { ConfigError, describeError } from '../../functions/scorer/domain/errors.js';
import type { DeploymentBinding, DeploymentRecord, DeploymentStore, Logger, UsageLimits, UsageMeter } from '../../functions/scorer/domain/ports.js';
import type { EventReport, Scorer } from '../../functions/scorer/domain/scorer.js';
import type { OnlineOutcome } from '../../functions/scorer/domain/score-online.js';
import { createHandler } from '../../functions/scorer/event-handler.js';
import { readModelArtifact } from '../../functions/scorer/models/model-artifact.js';
import { createDynamoDbClient, createS3Client, type AwsConnection } from '../../functions/scorer/store/aws-clients.js';
import { recountCounters } from '../../functions/scorer/domain/recount-counters.js';
import { createDynamoDbDeploymentStore } from '../../functions/scorer/store/dynamodb-deployment-store.js';
import { createDynamoDbInputLedger } from '../../functions/scorer/store/dynamodb-input-ledger.js';
import { createDynamoDbUsageMeter } from '../../functions/scorer/store/dynamodb-usage-meter.js';
import { listObjects } from '../../functions/scorer/store/s3-listing.js';
import { createStoredScorer } from '../../functions/scorer/wiring.js';
import { checkDeploymentGraph, type DeploymentSpec } from '../manifest/deployments-manifest.js';
import type { JournaledEvent } from './event-journal.js';
import type { S3Notification } from './s3/s3-notification.js';
import { LOCAL_CREDENTIALS } from './auth/local-credentials.js';
import type { KeyPair } from './auth/sigv4-verifier.js';
import { startEmbeddedServers } from './embedded-servers.js';
import { createEventDispatcher, type Delivery, type Subscriber } from './event-dispatcher.js';
import { DEFAULT_TABLES, ensureBucket, ensureTables } from './provision.js';
import { createPartWorkerPool, type PartWorkerPool } from './part-worker-pool.js';
import { createNotifier } from './s3/s3-notification.js';

// Like an SQS batching window: short enough to be invisible for one file, long enough to gather a bulk drop.
const DEFAULT_BATCH_WINDOW_MS = 20;
const DEFAULT_MAX_BATCH_SIZE = 32;

export interface LocalStackOptions {
  readonly dataDir: string;
  readonly edgePort: number;
  readonly modelsRoot: string;
  readonly log: Logger;
  readonly region?: string;
  /** The key pair every request must be signed with; defaults to the environment's (auth/local-credentials.ts). */
  readonly keys?: KeyPair;
  readonly maxRecordBytes?: number;
  readonly concurrency?: number;
  readonly retryDelaysMs?: readonly number[];
  /** Micro-batching of records that arrive together (see event-dispatcher.ts). */
  readonly batchWindowMs?: number;
  readonly maxBatchSize?: number;
  readonly onDelivered?: (delivery: Delivery) => void | Promise<void>;
  /** The instance's usage limits, written to the table at start. */
  readonly limits?: UsageLimits;
  /** Reconcile scorers with the deployments table this often (the CLI deploys from another process). */
  readonly watchIntervalMs?: number;
  /** Bulk files: input bytes per part (default 8 MiB), and worker threads scoring the parts of multi-part files. */
  readonly bulkPartBytes?: number;
  readonly bulkWorkers?: number;
}

export interface LocalStack {
  readonly endpoint: string;
  readonly connection: AwsConnection;
  readonly s3: S3Client;
  readonly db: DynamoDBClient;
  readonly deployments: DeploymentStore;
  readonly usage: UsageMeter;
  /** Creates or updates a deployment: buckets, record, scorer; resolves once its model has loaded (or failed to). */
  deploy(spec: DeploymentSpec): Promise<DeploymentRecord>;
  /** Starts, restarts or stops scorers to match the deployments table. */
  reconcile(): Promise<void>;
  /**
   * Dispatches every object already in a deployment's source (a new deployment over
   * a bucket that has objects): those without an outcome for their current content get scored.
   */
  catchUp(name: string): Promise<number>;
  /** Delivers the S3 events a previous run had not finished (a crash): call once the deployments run. */
  replayUnfinishedEvents(): number;
  /** Online scoring by the deployment's running scorer, as its function URL does on AWS. */
  scoreOnline(name: string, payload: Uint8Array): Promise<OnlineOutcome>;
  /** Resolves when the events of every S3 request answered so far have been handled. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const region = options.region ?? 'us-east-1';
  const keys = options.keys ?? LOCAL_CREDENTIALS;
  const servers = await startEmbeddedServers({ dataDir: options.dataDir, edgePort: options.edgePort, keys, region });
  const connection: AwsConnection = { region, endpoint: servers.endpoint, credentials: keys };
  // This process's own clients go straight to each server: the edge's extra hop is for other processes.
  const s3 = createS3Client({ ...connection, endpoint: servers.s3Endpoint });
  const db = createDynamoDbClient({ ...connection, endpoint: servers.dynamoDbEndpoint });
  const tables = DEFAULT_TABLES;
  const usage = createDynamoDbUsageMeter(db, tables.deploymentsTable);
  const deployments = createDynamoDbDeploymentStore(db, tables.deploymentsTable);
  // Present only if the last run closed the stack: otherwise it may have died between a ledger and a counter write.
  const closedCleanly = join(options.dataDir, 'closed-cleanly');
  const recount = !existsSync(closedCleanly);
  rmSync(closedCleanly, { force: true });
  try {
    await ensureTables(db, tables);
    if (options.limits) await usage.setLimits(options.limits);
    if (recount) {
      const corrected = await recountCounters(createDynamoDbInputLedger(db, tables.ledgerTable), deployments, usage);
      if (corrected.length > 0) options.log.warn('counters recounted from the ledger after an unclean stop', { deployments: corrected });
    }
  } catch (error) {
    // The server threads would keep the process alive for nothing.
    s3.destroy();
    db.destroy();
    await servers.close();
    throw error;
  }
  const wiring = { s3, db, ...tables, log: options.log };

  const subscribers = new Map<string, Subscriber & { readonly scorer: Scorer; readonly parts: PartWorkerPool; warm: boolean }>();
  const bulkWorkers = options.bulkWorkers ?? Math.min(2, availableParallelism());
  const dispatcher = createEventDispatcher({
    subscribers: () => [...subscribers.values()],
    concurrency: options.concurrency ?? availableParallelism(),
    retryDelaysMs: options.retryDelaysMs ?? [1000, 2000],
    batchWindowMs: options.batchWindowMs ?? DEFAULT_BATCH_WINDOW_MS,
    maxBatchSize: options.maxBatchSize ?? DEFAULT_MAX_BATCH_SIZE,
    deadLetterDir: join(options.dataDir, 'dead-letter'),
    log: options.log,
    onDelivered: options.onDelivered,
  });
  const dispatchJournaled = (events: readonly JournaledEvent<S3Notification>[]) =>
    dispatcher.dispatch(events.map(({ seq, record }) => ({ record, settled: () => servers.markDelivered([seq]) })));
  servers.onS3Event((event) => dispatchJournaled([event]));
  // Events of the previous run wait until its deployments run again (replayUnfinishedEvents).
  let unfinished: readonly JournaledEvent<S3Notification>[] = servers.unfinishedS3Events;
  const notificationOf = createNotifier(region);

  /** Runs a scorer for the deployment (replacing one already running) and waits for its model to load. */
  async function startScorer(binding: DeploymentBinding): Promise<void> {
    const modelDir = join(options.modelsRoot, binding.model);
    // Parts of large bulk files run on worker threads, each with the model loaded once (started on first use).
    const parts = createPartWorkerPool({ binding, modelDir, s3: { ...connection, endpoint: servers.s3Endpoint }, dynamoDb: { ...connection, endpoint: servers.dynamoDbEndpoint }, deploymentsTable: tables.deploymentsTable, maxRecordBytes: options.maxRecordBytes }, bulkWorkers);
    const scorer: Scorer = createStoredScorer(wiring, binding, modelDir, options.maxRecordBytes, { partBytes: options.bulkPartBytes, runParts: parts.runParts });
    const handler = createHandler(() => scorer);
    // The local stack delivers S3 notifications only, which the handler answers with an EventReport.
    const subscriber = { binding, scorer, parts, warm: false, handle: (event: unknown) => handler(event, {} as never) as Promise<EventReport> };
    void subscribers.get(binding.id)?.parts.close();
    subscribers.set(binding.id, subscriber);
    await scorer.warmUp();
    subscriber.warm = true;
  }

  /**
   * Brings the running scorers in line with the deployments table, so a
   * deployment made by another process (the CLI) starts scoring here at once,
   * a redeployed one restarts, and a deleted one stops.
   */
  async function reconcile(): Promise<void> {
    const records = await deployments.list();
    const live = new Map(records.filter((r) => r.status !== 'DELETED').map((r) => [r.id, r]));
    for (const [id, subscriber] of subscribers) {
      if (live.has(id)) continue;
      subscribers.delete(id);
      void subscriber.parts.close();
    }
    for (const record of live.values()) {
      const running = subscribers.get(record.id);
      // INITIALIZING after a finished warm-up means someone redeployed it.
      if (!running || (running.warm && record.status === 'INITIALIZING')) await startScorer(record);
    }
  }

  function runningScorerOf(name: string) {
    const subscriber = [...subscribers.values()].find((s) => s.binding.name === name);
    if (!subscriber) throw new ConfigError(`no deployment named "${name}" is running on this stack`);
    return subscriber;
  }

  let watching: NodeJS.Timeout | undefined;
  let reconciling: Promise<void> | undefined;
  if (options.watchIntervalMs) {
    watching = setInterval(() => {
      if (reconciling) return;
      reconciling = reconcile()
        .catch((error: unknown) => options.log.warn('could not reconcile deployments', { reason: describeError(error) }))
        .finally(() => (reconciling = undefined));
    }, options.watchIntervalMs);
  }

  return {
    endpoint: servers.endpoint,
    connection,
    s3,
    db,
    deployments,
    usage,

    async deploy(spec) {
      checkDeploymentGraph([...[...subscribers.values()].map((s) => s.binding).filter((b) => b.id !== spec.id), spec], `deployment "${spec.name}"`);
      await ensureBucket(s3, spec.source.bucket);
      await ensureBucket(s3, spec.target.bucket);
      const framework = await readModelArtifact(join(options.modelsRoot, spec.model)).then((a) => a.meta.framework, () => 'unknown');
      await deployments.upsert({ ...spec, framework });
      await startScorer(spec);
      return (await deployments.get(spec.id))!;
    },

    reconcile,

    async catchUp(name) {
      const subscriber = runningScorerOf(name);
      const { bucket, prefix } = subscriber.binding.source;
      const objects = await listObjects(s3, bucket, prefix);
      dispatcher.dispatch(objects.map((o) => ({ record: notificationOf({ bucket, key: o.Key!, size: o.Size ?? 0, eTag: (o.ETag ?? '').replace(/"/g, ''), how: 'Put' }, '127.0.0.1') })));
      return objects.length;
    },

    replayUnfinishedEvents() {
      const events = unfinished;
      unfinished = [];
      dispatchJournaled(events);
      return events.length;
    },

    scoreOnline: async (name, payload) => runningScorerOf(name).scorer.scoreOnline(payload),

    async idle() {
      await servers.flushS3Events();
      await dispatcher.idle();
    },

    async close() {
      clearInterval(watching);
      // A reconcile in flight still reads the table: closing dynalite under it throws LEVEL_ITERATOR_NOT_OPEN.
      await reconciling;
      await dispatcher.idle();
      await Promise.all([...subscribers.values()].map((s) => s.parts.close()));
      s3.destroy();
      db.destroy();
      await servers.close();
      writeFileSync(closedCleanly, new Date().toISOString());
    },
  };
}
