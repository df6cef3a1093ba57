/**
 * The embedded local stack: servers, tables, buckets and one scorer per
 * deployment of the manifest, with S3 notifications delivered to the same
 * handler code that runs in Lambda. `npm start`, the CLI and the integration
 * tests all run on this.
 */
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { DeploymentRecord, DeploymentStore, Logger } from '../../functions/scorer/domain/ports.js';
import type { EventReport, Scorer } from '../../functions/scorer/domain/scorer.js';
import { createHandler } from '../../functions/scorer/handler.js';
import { readModelArtifact } from '../../functions/scorer/models/model-artifact.js';
import { createDynamoDbClient, createS3Client, type AwsConnection } from '../../functions/scorer/store/aws-clients.js';
import { createDynamoDbDeploymentStore } from '../../functions/scorer/store/dynamodb-deployment-store.js';
import { createStoredScorer } from '../../functions/scorer/wiring.js';
import type { DeploymentSpec } from '../manifest/deployments-manifest.js';
import { LOCAL_CREDENTIALS, startEmbeddedServers } from './embedded-servers.js';
import { createEventDispatcher, type Delivery, type Subscriber } from './event-dispatcher.js';
import { DEFAULT_TABLES, ensureBucket, ensureTables } from './provision.js';
import { createS3EventNormaliser } from './s3-event-normaliser.js';

export interface LocalStackOptions {
  readonly dataDir: string;
  readonly edgePort: number;
  readonly modelsRoot: string;
  readonly log: Logger;
  readonly region?: string;
  readonly maxRecordBytes?: number;
  readonly concurrency?: number;
  readonly retryDelaysMs?: readonly number[];
  readonly onDelivered?: (delivery: Delivery) => void | Promise<void>;
}

export interface LocalStack {
  readonly endpoint: string;
  readonly connection: AwsConnection;
  readonly s3: S3Client;
  readonly db: DynamoDBClient;
  readonly deployments: DeploymentStore;
  /** Creates or updates a deployment: buckets, record, scorer; resolves once its model has loaded (or failed to). */
  deploy(spec: DeploymentSpec): Promise<DeploymentRecord>;
  /** Re-dispatches every object already in a deployment's source: what arrived while the stack was down gets scored. */
  catchUp(name: string): Promise<number>;
  /** Resolves when every delivered event has finished. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const region = options.region ?? 'us-east-1';
  const servers = await startEmbeddedServers({ dataDir: options.dataDir, edgePort: options.edgePort });
  const connection: AwsConnection = { region, endpoint: servers.endpoint, credentials: LOCAL_CREDENTIALS };
  const s3 = createS3Client(connection);
  const db = createDynamoDbClient(connection);
  const tables = DEFAULT_TABLES;
  await ensureTables(db, tables);
  const deployments = createDynamoDbDeploymentStore(db, tables.deploymentsTable);
  const wiring = { s3, db, ...tables, log: options.log };

  const subscribers = new Map<string, Subscriber & { spec: DeploymentSpec }>();
  const dispatcher = createEventDispatcher({
    subscribers: () => [...subscribers.values()],
    concurrency: options.concurrency ?? availableParallelism(),
    retryDelaysMs: options.retryDelaysMs ?? [1000, 2000],
    deadLetterDir: join(options.dataDir, 'dead-letter'),
    log: options.log,
    onDelivered: options.onDelivered,
  });
  const normalise = createS3EventNormaliser(region);
  servers.onS3Event((raw) => dispatcher.dispatch(normalise(raw)));

  return {
    endpoint: servers.endpoint,
    connection,
    s3,
    db,
    deployments,

    async deploy(spec) {
      await ensureBucket(s3, spec.source.bucket);
      await ensureBucket(s3, spec.target.bucket);
      const modelDir = join(options.modelsRoot, spec.model);
      const framework = await readModelArtifact(modelDir).then((a) => a.meta.framework, () => 'unknown');
      await deployments.upsert({ ...spec, framework });
      const scorer: Scorer = createStoredScorer(wiring, spec, modelDir, options.maxRecordBytes);
      const handler = createHandler(() => scorer);
      await scorer.warmUp();
      // The local stack delivers S3 notifications only, which the handler answers with an EventReport.
      const handle = (event: unknown) => handler(event, {} as never) as Promise<EventReport>;
      subscribers.set(spec.name, { binding: spec, spec, handle });
      return (await deployments.get(spec.id))!;
    },

    async catchUp(name) {
      const subscriber = subscribers.get(name);
      if (!subscriber) throw new Error(`no deployment named "${name}" is running`);
      const { bucket, prefix } = subscriber.spec.source;
      const records: unknown[] = [];
      let token: string | undefined;
      do {
        const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
        for (const object of page.Contents ?? []) {
          // Raw (unencoded) keys, as s3rver reports them: the normaliser encodes.
          records.push({ eventName: 'ObjectCreated:Put', s3: { bucket: { name: bucket }, object: { key: object.Key!, size: object.Size } } });
        }
        token = page.NextContinuationToken;
      } while (token);
      dispatcher.dispatch(normalise({ Records: records }));
      return records.length;
    },

    idle: () => dispatcher.idle(),

    async close() {
      await dispatcher.idle();
      s3.destroy();
      db.destroy();
      await servers.close();
    },
  };
}
