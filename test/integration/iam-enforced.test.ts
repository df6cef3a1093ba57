/**
 * The scorer with the exact permissions `cdk synth` gives its role, evaluated
 * as IAM evaluates them (test/support/iam-enforcement.ts), against the real
 * local servers: the zero-loss run (duplicates, overwrites, injected faults)
 * passes, a redelivered event in a new container passes, and taking away one
 * needed permission makes it fail.
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import type { BulkOptions } from '../../functions/scorer/domain/scorer.js';
import { createStoredScorer } from '../../functions/scorer/wiring.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Logger } from '../../functions/scorer/domain/ports.js';
import { createDynamoDbClient, createS3Client } from '../../functions/scorer/store/aws-clients.js';
import { createS3ObjectStore } from '../../functions/scorer/store/s3-object-store.js';
import { createDropscoreApp } from '../../infra/lib/dropscore-app.js';
import { CDK_JSON_CONTEXT } from '../support/cdk-context.js';
import { DEFAULT_TABLES, ensureBucket } from '../../infra/local/provision.js';
import { createNotifier } from '../../infra/local/s3/s3-notification.js';
import type { LocalStack } from '../../infra/local/local-stack.js';
import { parseDeploymentsManifest } from '../../infra/manifest/deployments-manifest.js';
import { ACCOUNT, REGION, enforceIam, rolePoliciesFrom, type Enforcement, type PolicyDocument } from '../support/iam-enforcement.js';
import { startTestStack } from '../support/local-stack-harness.js';
import { tempRoot } from '../support/model-dir.js';
import { MODELS_ROOT, REPO_ROOT } from '../support/paths.js';
import { runZeroLoss, ZERO_LOSS_DEPLOYMENT } from '../support/zero-loss-run.js';

const root = tempRoot();
const record = readFileSync(join(REPO_ROOT, 'samples/mnist-onnx/seven-drawn.json'));
const manifest = parseDeploymentsManifest({ deployments: [ZERO_LOSS_DEPLOYMENT] }, 'iam test');
const spec = manifest.deployments[0]!;
const { stack: cdkStack } = createDropscoreApp({ manifest, projectRoot: REPO_ROOT, localstack: false, env: { account: ACCOUNT, region: REGION }, appProps: { context: { ...CDK_JSON_CONTEXT, 'aws:cdk:bundling-stacks': [] } } });
const template = Template.fromStack(cdkStack);
const scorerPolicies = rolePoliciesFrom(template, 'DeploymentzerolossScorerRole');
const hashKeys = Object.fromEntries(
  Object.values(template.findResources('AWS::DynamoDB::Table')).map((t) => [t.Properties.TableName, t.Properties.KeySchema.find((k: { KeyType: string }) => k.KeyType === 'HASH').AttributeName]),
);
const quiet: Logger = { info: () => {}, warn: () => {}, error: () => {} };
let stack: LocalStack;

beforeAll(async () => {
  stack = await startTestStack({ dataDir: join(root, 'data'), modelsRoot: MODELS_ROOT });
});
afterAll(async () => {
  await stack?.close();
  rmSync(root, { recursive: true, force: true });
});

/** Clients of the stack that act as the scorer's role on AWS. */
function scorerClients(policies: readonly PolicyDocument[]) {
  const enforcement: Enforcement = { policies, principal: `arn:aws:iam::${ACCOUNT}:role/scorer`, hashKeys, decisions: [] };
  const s3 = enforceIam(createS3Client({ ...stack.connection, endpoint: stack.endpoint }), 's3', enforcement);
  const db = enforceIam(createDynamoDbClient({ ...stack.connection, endpoint: stack.endpoint }), 'dynamodb', enforcement);
  return { s3, db, enforcement };
}

/** The scorer on stores reached through these clients (as in a Lambda container). */
function storedScorer(s3: S3Client, db: DynamoDBClient, bulk?: BulkOptions) {
  const tables = { deploymentsTable: DEFAULT_TABLES.deploymentsTable, ledgerTable: DEFAULT_TABLES.ledgerTable };
  return createStoredScorer({ s3, db, ...tables, log: quiet }, spec, join(MODELS_ROOT, spec.model), undefined, bulk);
}

/** A scorer as one Lambda container runs it, with the role's permissions. */
function container(policies: readonly PolicyDocument[]) {
  const { s3, db, enforcement } = scorerClients(policies);
  const scorer = storedScorer(s3, db);
  return { scorer, enforcement };
}

describe('the scorer under the IAM policies cdk synth gives it', () => {
  it('loses nothing and counts once under duplicates and injected faults', async () => {
    const { s3, db, enforcement } = scorerClients(scorerPolicies);
    const report = await runZeroLoss(stack, { n: 100, failureRate: 0.1, modelsRoot: MODELS_ROOT, deadLetterDir: join(root, 'dl-1'), record, scorerClients: { s3, db } });
    expect(report).toMatchObject({ deadLettered: 0, outcomes: 100, outcomesOfOwnVersion: 100, counters: { received: 100, scored: 100, failed: 0 } });
    expect(enforcement.decisions.filter((d) => !d.allowed)).toEqual([]);
    expect(new Set(enforcement.decisions.map((d) => d.action))).toEqual(new Set(['s3:GetObject', 's3:PutObject', 'dynamodb:UpdateItem', 'dynamodb:GetItem']));
  });

  it('answers a redelivered event in a new container (the input already scored) as a duplicate', async () => {
    await ensureBucket(stack.s3, 'zl-in');
    const put = await stack.s3.send(new PutObjectCommand({ Bucket: 'zl-in', Key: 'again.json', Body: record }));
    const event = { Records: [createNotifier(REGION)({ bucket: 'zl-in', key: 'again.json', size: record.length, eTag: put.ETag!.replace(/"/g, ''), how: 'Put' }, '127.0.0.1')] };
    expect((await container(scorerPolicies).scorer.handleEvent(event)).results).toEqual([{ key: 'again.json', result: 'scored' }]);
    // Another container, with no memory of it: the ledger says done, and the outcome is checked (HeadObject on the target).
    const second = container(scorerPolicies);
    expect((await second.scorer.handleEvent(event)).results).toEqual([{ key: 'again.json', result: 'duplicate' }]);
    expect(second.enforcement.decisions).toContainEqual({ action: 's3:GetObject', resource: 'arn:aws:s3:::zl-out/again.json', allowed: true });
  });

  it('scores a bulk file in parts, assembles its outcome and deletes its parts, with only the permissions it is given', async () => {
    const { s3, db, enforcement } = scorerClients(scorerPolicies);
    const scorer = storedScorer(s3, db, { partBytes: 4096 });
    const line = JSON.stringify(JSON.parse(record.toString()));
    const body = `${line}\nnot json\n\n${line}\n${line}\n`;
    await ensureBucket(stack.s3, 'zl-in');
    const put = await stack.s3.send(new PutObjectCommand({ Bucket: 'zl-in', Key: 'bulk.jsonl', Body: body }));
    const event = { Records: [createNotifier(REGION)({ bucket: 'zl-in', key: 'bulk.jsonl', size: body.length, eTag: put.ETag!.replace(/"/g, ''), how: 'Put' }, '127.0.0.1')] };
    expect((await scorer.handleEvent(event)).results).toEqual([{ key: 'bulk.jsonl', result: 'scored' }]);
    const outcome = await (await stack.s3.send(new GetObjectCommand({ Bucket: 'zl-out', Key: 'bulk.jsonl' }))).Body!.transformToString();
    expect(outcome.trimEnd().split('\n').map((l) => Object.keys(JSON.parse(l))[0])).toEqual(['bulk.jsonl#1', 'error', 'bulk.jsonl#4', 'bulk.jsonl#5']);
    expect(enforcement.decisions.filter((d) => !d.allowed)).toEqual([]);
    expect(enforcement.decisions.filter((d) => d.action === 's3:DeleteObject').map((d) => d.resource)).toContain('arn:aws:s3:::zl-out/.dropscore-parts/bulk.jsonl/' + put.ETag!.replace(/"/g, '') + '/parts.json');
    expect((await stack.s3.send(new ListObjectsV2Command({ Bucket: 'zl-out', Prefix: '.dropscore-parts/' }))).KeyCount).toBe(0);

    // An outcome too large for one PUT goes up in parts, and a failed one is aborted: both allowed, nothing else.
    const objects = createS3ObjectStore(s3);
    const mib = Buffer.alloc(1024 * 1024, 0x61);
    await objects.writeStream('zl-out', 'large.jsonl', (async function* () { for (let i = 0; i < 9; i++) yield mib; })(), {}, 'application/x-ndjson');
    expect((await stack.s3.send(new HeadObjectCommand({ Bucket: 'zl-out', Key: 'large.jsonl' }))).ContentLength).toBe(9 * 1024 * 1024);
    const broken = (async function* () { for (let i = 0; i < 9; i++) yield mib; throw new Error('source broke'); })();
    await expect(objects.writeStream('zl-out', 'broken.jsonl', broken, {}, 'application/x-ndjson')).rejects.toThrow('source broke');
    expect(enforcement.decisions.filter((d) => !d.allowed)).toEqual([]);
    expect(enforcement.decisions.map((d) => d.action)).toContain('s3:AbortMultipartUpload');
    // Deleting anything but a bulk file's parts is not allowed.
    await expect(objects.remove('zl-out', ['large.jsonl'])).rejects.toThrow(/not authorized to perform: s3:DeleteObject/);
  });

  it('fails, as on AWS, when the role lacks a permission it needs (s3:PutObject on the target)', async () => {
    const withoutPut = scorerPolicies.map((policy) => ({ ...policy, Statement: policy.Statement.filter((s) => !([] as string[]).concat(s.Action).includes('s3:PutObject')) }));
    const { scorer } = container(withoutPut);
    const put = await stack.s3.send(new PutObjectCommand({ Bucket: 'zl-in', Key: 'denied.json', Body: record }));
    const event = { Records: [createNotifier(REGION)({ bucket: 'zl-in', key: 'denied.json', size: record.length, eTag: put.ETag!.replace(/"/g, ''), how: 'Put' }, '127.0.0.1')] };
    await expect(scorer.handleEvent(event)).rejects.toThrow(/not authorized to perform: s3:PutObject on resource: arn:aws:s3:::zl-out\/denied\.json/);
  });
});
