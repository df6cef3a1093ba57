/**
 * Where the CLI works, said in every answer: the stack `npm start` runs
 * (http://127.0.0.1:4566, or $DROPSCORE_PORT, $DROPSCORE_ENDPOINT or
 * --endpoint), LocalStack with --endpoint, AWS with --aws / --profile, or,
 * only when asked with --embedded, a stack of its own in this process on the
 * data folder. Nothing listening at the chosen endpoint, or something that is
 * not a stack, is an error naming it: never a silent, empty stack.
 */
import { connect } from 'node:net';
import { resolve } from 'node:path';
import { ListTablesCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { ListBucketsCommand, type S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { ConfigError, describeError } from '../functions/scorer/domain/errors.js';
import type { DeploymentRecord, InputLedger, Logger } from '../functions/scorer/domain/ports.js';
import { createDynamoDbClient, createS3Client, type AwsConnection } from '../functions/scorer/store/aws-clients.js';
import { createDynamoDbDeploymentStore } from '../functions/scorer/store/dynamodb-deployment-store.js';
import { createDynamoDbInputLedger } from '../functions/scorer/store/dynamodb-input-ledger.js';
import { createDynamoDbUsageMeter } from '../functions/scorer/store/dynamodb-usage-meter.js';
import { LOCAL_CREDENTIALS } from '../infra/local/auth/local-credentials.js';
import { startLocalStack, type LocalStack } from '../infra/local/local-stack.js';
import { tableNamesFor } from '../infra/lib/stage.js';
import { DEFAULT_TABLES, type TableNames } from '../infra/local/provision.js';
import type { AdminContext } from '../manage/deployment-admin.js';
import { readManifest } from '../manage/manifest-editor.js';
import { inProcessInvoker, lambdaInvoker, type ScorerInvoker } from '../manage/scorer-invoker.js';

export interface ConnectionOptions {
  readonly aws: boolean;
  readonly profile?: string;
  readonly region?: string;
  /** AWS: the stage's tables (`cdk deploy -c stage=<name>`); none is the default stage. */
  readonly stage?: string;
  readonly endpoint?: string;
  /** Run a stack of its own in this process, on `dataDir`, for this command. */
  readonly embedded?: boolean;
  readonly dataDir: string;
  readonly manifestPath: string;
  readonly modelsRoot: string;
}

export interface Connection {
  readonly ctx: AdminContext;
  readonly s3: S3Client;
  readonly db: DynamoDBClient;
  /** The input ledger: what every delivery finished, the truth the counters are recounted from. */
  readonly ledger: InputLedger;
  /** Set when this process runs the embedded stack itself. */
  readonly embedded?: LocalStack;
  readonly region: string;
  /** Local stacks: their data folder (the dead-letter files are in it). */
  readonly dataDir?: string;
  /** AWS only. */
  readonly sqs?: SQSClient;
  /** Runs the deployment's scorer on an event: its Lambda function on AWS, the same handler in this process locally. */
  scorerFor(record: DeploymentRecord): ScorerInvoker;
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
    const where = [region, ...(options.profile ? [`profile ${options.profile}`] : []), ...(options.stage ? [`stage ${options.stage}`] : [])].join(', ');
    return fromClients({ region }, 'aws', `AWS (${where})`, manifestPath, modelsRoot, tableNamesFor(options.stage));
  }
  if (options.stage) throw new ConfigError('--stage names the tables of a stage on AWS (`cdk deploy -c stage=<name>`): use it with --aws or --profile');
  if (!options.embedded) {
    const endpoint = localEndpointOf(options.endpoint, process.env);
    const url = new URL(endpoint);
    if (!(await reachable(url))) {
      throw new ConfigError(
        `no stack answers at ${endpoint}: start one with \`npm start\` (its banner prints the setting to use), point the CLI at a running one ` +
          `with --endpoint URL, DROPSCORE_ENDPOINT or DROPSCORE_PORT, or run this command on a stack of its own with --embedded (data in ${options.dataDir})`,
      );
    }
    const connection = fromClients({ region, endpoint, credentials: LOCAL_CREDENTIALS }, 'local', `the stack at ${endpoint}`, manifestPath, modelsRoot, DEFAULT_TABLES, resolve(options.dataDir));
    await checkIsStack(connection, endpoint);
    return connection;
  }
  // Asked for: a stack of its own in this process, on the data folder, for this command.
  const embedded = await startLocalStack({
    dataDir: resolve(options.dataDir),
    edgePort: 0,
    modelsRoot,
    log: quiet,
    limits: readManifest(manifestPath).limits,
  });
  // Scorers start only for commands that need them (deploy, batch): listing should not load every model.
  const ctx: AdminContext = { target: 'local', deployments: embedded.deployments, usage: embedded.usage, s3: embedded.s3, manifestPath, modelsRoot, reconcile: () => embedded.reconcile() };
  const wiring = { s3: embedded.s3, db: embedded.db, ...DEFAULT_TABLES, log: quiet };
  return {
    ctx,
    s3: embedded.s3,
    db: embedded.db,
    ledger: createDynamoDbInputLedger(embedded.db, DEFAULT_TABLES.ledgerTable),
    embedded,
    region,
    dataDir: resolve(options.dataDir),
    scorerFor: (record) => inProcessInvoker(wiring, record, modelsRoot),
    describe: `an embedded stack on ${embedded.endpoint} (data in ${options.dataDir})`,
    close: () => embedded.close(),
  };
}

function fromClients(connection: AwsConnection, target: 'local' | 'aws', describe: string, manifestPath: string, modelsRoot: string, tables: TableNames, dataDir?: string): Connection {
  const s3 = createS3Client(connection);
  const db = createDynamoDbClient(connection);
  const ctx: AdminContext = {
    target,
    deployments: createDynamoDbDeploymentStore(db, tables.deploymentsTable),
    usage: createDynamoDbUsageMeter(db, tables.deploymentsTable),
    s3,
    manifestPath,
    modelsRoot,
  };
  const aws = target === 'aws' ? { lambda: new LambdaClient({ region: connection.region }), sqs: new SQSClient({ region: connection.region }) } : undefined;
  const wiring = { s3, db, ...tables, log: quiet };
  return {
    ctx,
    s3,
    db,
    ledger: createDynamoDbInputLedger(db, tables.ledgerTable),
    region: connection.region,
    ...(dataDir ? { dataDir } : {}),
    ...(aws ? { sqs: aws.sqs } : {}),
    scorerFor: (record) => (aws ? lambdaInvoker(aws.lambda, record) : inProcessInvoker(wiring, record, modelsRoot)),
    describe,
    async close() {
      s3.destroy();
      db.destroy();
      aws?.lambda.destroy();
      aws?.sqs.destroy();
    },
  };
}

/** --endpoint, else $DROPSCORE_ENDPOINT, else the port `npm start` uses ($DROPSCORE_PORT, default 4566). */
export function localEndpointOf(endpoint: string | undefined, env: Readonly<Record<string, string | undefined>>): string {
  return endpoint || env['DROPSCORE_ENDPOINT'] || (env['DROPSCORE_PORT'] ? `http://127.0.0.1:${env['DROPSCORE_PORT']}` : DEFAULT_LOCAL_ENDPOINT);
}

/** Something listens: make sure it speaks S3 and DynamoDB and takes this CLI's key pair, not (say) the web console. */
async function checkIsStack(connection: Connection, endpoint: string): Promise<void> {
  try {
    await connection.s3.send(new ListBucketsCommand({}));
    await connection.db.send(new ListTablesCommand({ Limit: 1 }));
  } catch (error) {
    await connection.close();
    const name = (error as { name?: string }).name ?? '';
    if (['SignatureDoesNotMatch', 'InvalidAccessKeyId', 'AccessDenied', 'UnrecognizedClientException', 'InvalidSignatureException'].includes(name)) {
      throw new ConfigError(`the stack at ${endpoint} refused this CLI's key pair (${name}): set DROPSCORE_ACCESS_KEY_ID and DROPSCORE_SECRET_ACCESS_KEY as for the stack`, { cause: error });
    }
    throw new ConfigError(`what answers at ${endpoint} is not a dropscore stack (S3 + DynamoDB): ${describeError(error)}; is that the web console's port?`, { cause: error });
  }
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
