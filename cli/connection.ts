/**
 * Where the CLI works: the embedded local stack by default (the one `npm
 * start` runs on 127.0.0.1:4566, or, when none is running, one started in
 * this process on the same data folder), LocalStack with --endpoint, or AWS
 * with --aws / --profile.
 */
import { connect } from 'node:net';
import { resolve } from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Logger } from '../functions/scorer/domain/ports.js';
import { createDynamoDbClient, createS3Client, type AwsConnection } from '../functions/scorer/store/aws-clients.js';
import { createDynamoDbDeploymentStore } from '../functions/scorer/store/dynamodb-deployment-store.js';
import { createDynamoDbUsageMeter } from '../functions/scorer/store/dynamodb-usage-meter.js';
import { LOCAL_CREDENTIALS } from '../infra/local/auth/local-credentials.js';
import { startLocalStack, type LocalStack } from '../infra/local/local-stack.js';
import { DEFAULT_TABLES } from '../infra/local/provision.js';
import type { AdminContext } from '../manage/deployment-admin.js';
import { readManifest } from '../manage/manifest-editor.js';

export interface ConnectionOptions {
  readonly aws: boolean;
  readonly profile?: string;
  readonly region?: string;
  readonly endpoint?: string;
  readonly dataDir: string;
  readonly manifestPath: string;
  readonly modelsRoot: string;
}

export interface Connection {
  readonly ctx: AdminContext;
  readonly s3: S3Client;
  readonly db: DynamoDBClient;
  /** Set when this process runs the embedded stack itself. */
  readonly embedded?: LocalStack;
  readonly region: string;
  readonly describe: string;
  close(): Promise<void>;
}

export const DEFAULT_LOCAL_ENDPOINT = 'http://127.0.0.1:4566';

const quiet: Logger = { info: () => {}, warn: () => {}, error: () => {} };

export async function openConnection(options: ConnectionOptions): Promise<Connection> {
  const manifestPath = resolve(options.manifestPath);
  const modelsRoot = resolve(options.modelsRoot);
  const region = options.region ?? process.env['AWS_REGION'] ?? process.env['AWS_DEFAULT_REGION'] ?? 'us-east-1';
  if (options.aws || (options.profile && !options.endpoint)) {
    if (options.profile) process.env['AWS_PROFILE'] = options.profile;
    return fromClients({ region }, 'aws', `AWS (${region}${options.profile ? `, profile ${options.profile}` : ''})`, manifestPath, modelsRoot);
  }
  const endpoint = options.endpoint ?? process.env['DROPSCORE_ENDPOINT'] ?? DEFAULT_LOCAL_ENDPOINT;
  const url = new URL(endpoint);
  const loopback = ['127.0.0.1', 'localhost', '::1'].includes(url.hostname);
  if (!loopback || (await reachable(url))) {
    return fromClients({ region, endpoint, credentials: LOCAL_CREDENTIALS }, 'local', `the stack at ${endpoint}`, manifestPath, modelsRoot);
  }
  // Nothing listens there: run the embedded stack in this process, on the same data, for this command.
  const embedded = await startLocalStack({
    dataDir: resolve(options.dataDir),
    edgePort: Number(url.port || 4566),
    modelsRoot,
    log: quiet,
    limits: readManifest(manifestPath).limits,
  });
  // Scorers start only for commands that need them (deploy, batch): listing should not load every model.
  const ctx: AdminContext = { target: 'local', deployments: embedded.deployments, usage: embedded.usage, s3: embedded.s3, manifestPath, modelsRoot, reconcile: () => embedded.reconcile() };
  return { ctx, s3: embedded.s3, db: embedded.db, embedded, region, describe: `an embedded stack on ${embedded.endpoint} (data in ${options.dataDir})`, close: () => embedded.close() };
}

function fromClients(connection: AwsConnection, target: 'local' | 'aws', describe: string, manifestPath: string, modelsRoot: string): Connection {
  const s3 = createS3Client(connection);
  const db = createDynamoDbClient(connection);
  const ctx: AdminContext = {
    target,
    deployments: createDynamoDbDeploymentStore(db, DEFAULT_TABLES.deploymentsTable),
    usage: createDynamoDbUsageMeter(db, DEFAULT_TABLES.deploymentsTable),
    s3,
    manifestPath,
    modelsRoot,
  };
  return {
    ctx,
    s3,
    db,
    region: connection.region,
    describe,
    async close() {
      s3.destroy();
      db.destroy();
    },
  };
}

function reachable(url: URL): Promise<boolean> {
  return new Promise((resolveReachable) => {
    const socket = connect({ host: url.hostname, port: Number(url.port || 80) });
    socket.setTimeout(500);
    socket.once('connect', () => {
      socket.destroy();
      resolveReachable(true);
    });
    socket.once('error', () => resolveReachable(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolveReachable(false);
    });
  });
}
