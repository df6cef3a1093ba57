/**
 * `dropscore backfill` on AWS with exactly the permissions README documents
 * for its caller (manage/caller-permissions.ts), evaluated as IAM evaluates
 * them (test/support/iam-enforcement.ts), against the real local servers: the
 * CLI's own calls (scan the deployments table, list the source, read the
 * outcomes' metadata, invoke the scorer synchronously) are all allowed and
 * are all it makes; the scorer it invokes runs with the policies `cdk synth`
 * gives its role, behind a stand-in for Lambda's Invoke API. Taking the
 * invoke permission away leaves the objects not done, with AWS's refusal.
 * `dropscore recount` and `batch` likewise, with their own statements.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeploymentRecord, Logger } from '../../functions/scorer/domain/ports.js';
import { createHandler } from '../../functions/scorer/event-handler.js';
import { createDynamoDbClient, createS3Client } from '../../functions/scorer/store/aws-clients.js';
import { createDynamoDbDeploymentStore } from '../../functions/scorer/store/dynamodb-deployment-store.js';
import { createDynamoDbInputLedger } from '../../functions/scorer/store/dynamodb-input-ledger.js';
import { createDynamoDbUsageMeter } from '../../functions/scorer/store/dynamodb-usage-meter.js';
import { createStoredScorer } from '../../functions/scorer/wiring.js';
import { createDropscoreApp } from '../../infra/lib/dropscore-app.js';
import type { LocalStack } from '../../infra/local/local-stack.js';
import { DEFAULT_TABLES, ensureBucket } from '../../infra/local/provision.js';
import { parseDeploymentsManifest } from '../../infra/manifest/deployments-manifest.js';
import { runBackfill } from '../../manage/backfill.js';
import { callerStatements, type CallerCommand } from '../../manage/caller-permissions.js';
import { recount } from '../../manage/recount.js';
import { runBatch } from '../../manage/batch-run.js';
import { PART_BYTES, writeInParts } from '../../functions/scorer/store/s3-multipart-writer.js';
import { lambdaInvoker } from '../../manage/scorer-invoker.js';
import { CDK_JSON_CONTEXT } from '../support/cdk-context.js';
import { ACCOUNT, REGION, enforceIam, rolePoliciesFrom, type Enforcement, type PolicyDocument } from '../support/iam-enforcement.js';
import { drop, startTestStack } from '../support/local-stack-harness.js';
import { tempRoot } from '../support/model-dir.js';
import { MODELS_ROOT, REPO_ROOT } from '../support/paths.js';

const root = tempRoot();
const record = readFileSync(join(REPO_ROOT, 'samples/mnist-onnx/seven-drawn.json'));
const manifest = parseDeploymentsManifest({ deployments: [{ name: 'iam-backfill', model: 'mnist-cnn-onnx', source: { bucket: 'ib-in', prefix: 'in/' }, target: { bucket: 'ib-out', prefix: 'out/' } }] }, 'iam cli test');
const spec = manifest.deployments[0]!;
const { stack: cdkStack } = createDropscoreApp({ manifest, projectRoot: REPO_ROOT, localstack: false, env: { account: ACCOUNT, region: REGION }, appProps: { context: { ...CDK_JSON_CONTEXT, 'aws:cdk:bundling-stacks': [] } } });
const template = Template.fromStack(cdkStack);
const hashKeys = Object.fromEntries(
  Object.values(template.findResources('AWS::DynamoDB::Table')).map((t) => [t.Properties.TableName, t.Properties.KeySchema.find((k: { KeyType: string }) => k.KeyType === 'HASH').AttributeName]),
);
const SCORER_FUNCTION = 'Dropscore-DeploymentiambackfillScorer';
const quiet: Logger = { info: () => {}, warn: () => {}, error: () => {} };
let stack: LocalStack;
let lambdaApi: Server;
let deployment: DeploymentRecord;

function enforcement(policies: readonly PolicyDocument[], principal: string): Enforcement {
  return { policies, principal, hashKeys, decisions: [] };
}

/** Lambda's Invoke API for the one scorer function: runs the scorer's handler with its role's permissions, answers as Lambda does. */
function startLambdaApi(): Promise<Server> {
  const role = enforcement(rolePoliciesFrom(template, 'DeploymentiambackfillScorerRole'), `arn:aws:iam::${ACCOUNT}:role/scorer`);
  const wiring = {
    s3: enforceIam(createS3Client({ ...stack.connection, endpoint: stack.endpoint }), 's3', role),
    db: enforceIam(createDynamoDbClient({ ...stack.connection, endpoint: stack.endpoint }), 'dynamodb', role),
    ...DEFAULT_TABLES,
    log: quiet,
  };
  const handler = createHandler(() => createStoredScorer(wiring, spec, join(MODELS_ROOT, spec.model)));
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', async () => {
      if (request.url !== `/2015-03-31/functions/${SCORER_FUNCTION}/invocations`) return response.writeHead(404).end('{"Type":"User","message":"Function not found"}');
      try {
        response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(await handler(JSON.parse(body), {} as never)));
      } catch (error) {
        response.writeHead(200, { 'x-amz-function-error': 'Unhandled' }).end(JSON.stringify({ errorType: (error as Error).name, errorMessage: (error as Error).message }));
      }
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

/** The CLI's clients, with exactly the caller statements for `command` (default `backfill`), minus what `without` names. */
function callerClients(without: string[] = [], command: CallerCommand = 'backfill') {
  const statements = callerStatements(command, { account: ACCOUNT, region: REGION, tables: DEFAULT_TABLES, deployment })
    .map((s) => ({ ...s, Action: s.Action.filter((a) => !without.includes(a)) }))
    .filter((s) => s.Action.length > 0);
  const caller = enforcement([{ Version: '2012-10-17', Statement: statements as PolicyDocument['Statement'] }], `arn:aws:iam::${ACCOUNT}:user/operator`);
  const s3 = enforceIam(createS3Client({ ...stack.connection, endpoint: stack.endpoint }), 's3', caller);
  const db = enforceIam(createDynamoDbClient({ ...stack.connection, endpoint: stack.endpoint }), 'dynamodb', caller);
  const lambda = enforceIam(new LambdaClient({ region: REGION, endpoint: `http://127.0.0.1:${(lambdaApi.address() as AddressInfo).port}`, credentials: { ...stack.connection.credentials! } }), 'lambda', caller);
  return { s3, db, lambda, caller };
}

beforeAll(async () => {
  stack = await startTestStack({ dataDir: join(root, 'data'), modelsRoot: MODELS_ROOT });
  lambdaApi = await startLambdaApi();
  await ensureBucket(stack.s3, 'ib-in');
  await ensureBucket(stack.s3, 'ib-out');
  // The stack runs no scorer for it: these objects are in the source with no outcome, as in a bucket that existed before.
  for (const key of ['in/a.json', 'in/b.json', 'in/c.json']) await drop(stack, 'ib-in', key, record);
  await drop(stack, 'ib-in', 'other/not-its-own.json', record);
  await stack.idle();
  await createDynamoDbDeploymentStore(stack.db, DEFAULT_TABLES.deploymentsTable).upsert({
    ...spec,
    framework: 'onnx',
    awsResources: { scorerFunction: SCORER_FUNCTION, deadLetterQueueUrl: `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/dlq`, deadLetterQueueArn: `arn:aws:sqs:${REGION}:${ACCOUNT}:dlq` },
  });
  deployment = (await stack.deployments.get(spec.id))!;
});
afterAll(async () => {
  lambdaApi?.close();
  await stack?.close();
  rmSync(root, { recursive: true, force: true });
});

describe('dropscore backfill with the caller permissions README documents', () => {
  it('refuses to invoke the scorer without lambda:InvokeFunction, as AWS does, and leaves the objects to a later run', async () => {
    const { s3, db, lambda, caller } = callerClients(['lambda:InvokeFunction']);
    const found = (await createDynamoDbDeploymentStore(db, DEFAULT_TABLES.deploymentsTable).list()).find((d) => d.name === spec.name)!;
    const report = await runBackfill({ s3, deployment: found, invoke: lambdaInvoker(lambda, found) });
    expect(report).toMatchObject({ listed: 3, toScore: 3, complete: false });
    expect(report.notDone[0]!.reason).toMatch(new RegExp(`AccessDeniedException: User: arn:aws:iam::${ACCOUNT}:user/operator is not authorized to perform: lambda:InvokeFunction on resource: arn:aws:lambda:${REGION}:${ACCOUNT}:function:${SCORER_FUNCTION}`));
    expect(caller.decisions.filter((d) => !d.allowed).map((d) => d.action)).toEqual(['lambda:InvokeFunction']);
  });

  it('scores every object without an outcome, making only the calls those permissions allow', async () => {
    const { s3, db, lambda, caller } = callerClients();
    const found = (await createDynamoDbDeploymentStore(db, DEFAULT_TABLES.deploymentsTable).list()).find((d) => d.name === spec.name)!;
    const report = await runBackfill({ s3, deployment: found, invoke: lambdaInvoker(lambda, found), batchSize: 2 });
    expect(report).toMatchObject({ listed: 3, upToDate: 0, toScore: 3, results: { scored: 3 }, notDone: [], complete: true });
    expect(caller.decisions.filter((d) => !d.allowed)).toEqual([]);
    expect(new Set(caller.decisions.map((d) => d.action))).toEqual(new Set(['dynamodb:Scan', 's3:ListBucket', 's3:GetObject', 'lambda:InvokeFunction']));
    expect((await createDynamoDbDeploymentStore(stack.db, DEFAULT_TABLES.deploymentsTable).get(spec.id))!.counters).toEqual({ received: 3, scored: 3, failed: 0 });
  });
});

describe('dropscore recount with the caller permissions README documents', () => {
  it('sets counters a crash left short to the ledger\'s, making only the calls those permissions allow', async () => {
    // After the backfill above: a delivery that died between its ledger write and its counter write.
    await createDynamoDbDeploymentStore(stack.db, DEFAULT_TABLES.deploymentsTable).setCounters(spec.id, { received: 3, scored: 2, failed: 0 });
    await stack.usage.setBatchPredictions(2);
    const { db, caller } = callerClients([], 'recount');
    const report = await recount({ ledger: createDynamoDbInputLedger(db, DEFAULT_TABLES.ledgerTable), deployments: createDynamoDbDeploymentStore(db, DEFAULT_TABLES.deploymentsTable), usage: createDynamoDbUsageMeter(db, DEFAULT_TABLES.deploymentsTable), settleMs: 50 });
    expect(report).toMatchObject({ outcome: 'corrected', deployments: [{ name: spec.name, counters: { received: 3, scored: 2, failed: 0 }, ledger: { received: 3, scored: 3, failed: 0 } }], batchPredictions: { counted: 2, ledger: 3 } });
    expect((await stack.deployments.get(spec.id))!.counters).toEqual({ received: 3, scored: 3, failed: 0 });
    expect((await stack.usage.read()).predictions).toBe(3);
    expect(caller.decisions.filter((d) => !d.allowed)).toEqual([]);
    expect(new Set(caller.decisions.map((d) => d.action))).toEqual(new Set(['dynamodb:Scan', 'dynamodb:GetItem', 'dynamodb:UpdateItem']));
  });
});

describe('dropscore batch with the caller permissions README documents', () => {
  it('uploads a file of several parts, and may abort a multipart upload that broke off', async () => {
    const { s3, caller } = callerClients([], 'batch');
    const file = join(root, 'big.jsonl');
    writeFileSync(file, `${' '.repeat(PART_BYTES + 10)}\n`);
    // No scorer runs for this deployment here: the upload is what is checked, its outcome stays pending.
    const [result] = await runBatch({ s3, deployment, paths: [file], timeoutMs: 50, pollMs: 10 });
    expect(result).toMatchObject({ key: 'in/big.jsonl', state: 'pending' });
    async function* breaksOff() {
      yield Buffer.alloc(PART_BYTES, 0x20);
      throw new Error('the file went away');
    }
    await expect(writeInParts(s3, { Bucket: 'ib-in', Key: 'in/broken.jsonl', ContentType: 'application/x-ndjson', Metadata: {} }, breaksOff())).rejects.toThrow('the file went away');
    expect(caller.decisions.filter((d) => !d.allowed)).toEqual([]);
    expect(caller.decisions.map((d) => d.action)).toContain('s3:AbortMultipartUpload');
  });
});
