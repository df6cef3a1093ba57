/**
 * The AWS fan-out's contract, end to end on the embedded stack: the state
 * machine `cdk synth` produces (test/support/state-machine-runner.ts runs its
 * definition) drives the real scorer handler step by step, each step in a new
 * container, every S3/DynamoDB call under the IAM policies the template gives
 * the scorer and the state machine. A fanned-out file gets the same outcome,
 * byte for byte, as the same file scored in one invocation; a redelivered
 * event starts nothing; a fan-out that fails for good leaves the file an error
 * outcome and gives back its predictions; an overwrite during a fan-out leaves
 * the outcome to the newer version.
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { Template } from 'aws-cdk-lib/assertions';
import { createStoredScorer } from '../../functions/scorer/wiring.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BulkFanOut, Logger } from '../../functions/scorer/domain/ports.js';
import { handleInvocation } from '../../functions/scorer/domain/invocation.js';
import { createDynamoDbClient, createS3Client } from '../../functions/scorer/store/aws-clients.js';
import { createDynamoDbDeploymentStore } from '../../functions/scorer/store/dynamodb-deployment-store.js';
import { createDynamoDbUsageMeter } from '../../functions/scorer/store/dynamodb-usage-meter.js';
import { createDropscoreApp } from '../../infra/lib/dropscore-app.js';
import type { LocalStack } from '../../infra/local/local-stack.js';
import { DEFAULT_TABLES, ensureBucket } from '../../infra/local/provision.js';
import { createNotifier } from '../../infra/local/s3/s3-notification.js';
import { parseDeploymentsManifest } from '../../infra/manifest/deployments-manifest.js';
import { CDK_JSON_CONTEXT } from '../support/cdk-context.js';
import { ACCOUNT, REGION, enforceIam, rolePoliciesFrom, type Enforcement, type PolicyDocument } from '../support/iam-enforcement.js';
import { startTestStack } from '../support/local-stack-harness.js';
import { tempRoot } from '../support/model-dir.js';
import { MODELS_ROOT, REPO_ROOT } from '../support/paths.js';
import { runStateMachine } from '../support/state-machine-runner.js';

const DEPLOYMENT = { name: 'fan', model: 'mnist-cnn-onnx', source: { bucket: 'fan-in' }, target: { bucket: 'fan-out' } };
const root = tempRoot();
const manifest = parseDeploymentsManifest({ deployments: [DEPLOYMENT] }, 'fan-out test');
const spec = manifest.deployments[0]!;
const { stack: cdkStack } = createDropscoreApp({ manifest, projectRoot: REPO_ROOT, localstack: false, env: { account: ACCOUNT, region: REGION }, appProps: { context: { ...CDK_JSON_CONTEXT, 'aws:cdk:bundling-stacks': [] } } });
const template = Template.fromStack(cdkStack);
const scorerPolicies = rolePoliciesFrom(template, 'DeploymentfanScorerRole');
const machinePolicies = rolePoliciesFrom(template, 'DeploymentfanBulkFanOutStateMachineRole');
const hashKeys = Object.fromEntries(
  Object.values(template.findResources('AWS::DynamoDB::Table')).map((t) => [t.Properties.TableName, t.Properties.KeySchema.find((k: { KeyType: string }) => k.KeyType === 'HASH').AttributeName]),
);
const scorerId = Object.keys(template.findResources('AWS::Lambda::Function')).find((id) => id.startsWith('DeploymentfanScorerFunction'))!;
/** The synthesized definition, each CloudFormation reference written as `REF:<logical id>`. */
const definition = (() => {
  const machine = Object.values(template.findResources('AWS::StepFunctions::StateMachine'))[0]!;
  const parts = machine.Properties.DefinitionString['Fn::Join'][1] as unknown[];
  const refOf = (token: { Ref?: string; 'Fn::GetAtt'?: string[] }) => `REF:${token.Ref ?? token['Fn::GetAtt']![0]}`;
  return JSON.parse(parts.map((p) => (typeof p === 'string' ? p : refOf(p as { Ref?: string }))).join(''));
})();

const record = JSON.stringify(JSON.parse(readFileSync(join(REPO_ROOT, 'samples/mnist-onnx/seven-drawn.json'), 'utf8')));
const quiet: Logger = { info: () => {}, warn: () => {}, error: () => {} };
// Small parts, so a file of a few hundred lines is many parts (the manifest's minimum is 1 MiB).
const PART_BYTES = 64 * 1024;
let stack: LocalStack;

beforeAll(async () => {
  stack = await startTestStack({ dataDir: join(root, 'data'), modelsRoot: MODELS_ROOT });
  await ensureBucket(stack.s3, 'fan-in');
  await ensureBucket(stack.s3, 'fan-out');
  const deployments = createDynamoDbDeploymentStore(createDynamoDbClient({ ...stack.connection, endpoint: stack.endpoint }), DEFAULT_TABLES.deploymentsTable);
  await deployments.upsert({ id: spec.id, name: spec.name, model: spec.model, source: spec.source, target: spec.target, description: '', framework: 'onnx' });
});
afterAll(async () => {
  await stack?.close();
  rmSync(root, { recursive: true, force: true });
});

function enforcedClients(policies: readonly PolicyDocument[], principal: string) {
  const enforcement: Enforcement = { policies, principal: `arn:aws:iam::${ACCOUNT}:role/${principal}`, hashKeys, decisions: [] };
  const s3 = enforceIam(createS3Client({ ...stack.connection, endpoint: stack.endpoint }), 's3', enforcement);
  const db = enforceIam(createDynamoDbClient({ ...stack.connection, endpoint: stack.endpoint }), 'dynamodb', enforcement);
  return { s3, db, enforcement };
}

/** One scorer container with the role's permissions; `fanOut` absent scores every bulk file in the invocation. */
function container(enforcements: Enforcement[], fanOut?: BulkFanOut) {
  const { s3, db, enforcement } = enforcedClients(scorerPolicies, 'scorer');
  enforcements.push(enforcement);
  const tables = { deploymentsTable: DEFAULT_TABLES.deploymentsTable, ledgerTable: DEFAULT_TABLES.ledgerTable };
  return createStoredScorer({ s3, db, ...tables, log: quiet }, spec, join(MODELS_ROOT, spec.model), undefined, { partBytes: PART_BYTES, ...(fanOut ? { fanOut } : {}) });
}

async function put(key: string, body: string) {
  const written = await stack.s3.send(new PutObjectCommand({ Bucket: 'fan-in', Key: key, Body: body }));
  const eTag = written.ETag!.replace(/"/g, '');
  return { eTag, event: { Records: [createNotifier(REGION)({ bucket: 'fan-in', key, size: Buffer.byteLength(body), eTag, how: 'Put' }, '127.0.0.1')] } };
}

async function text(bucket: string, key: string): Promise<string> {
  return (await stack.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToString();
}

async function counters() {
  const deployment = await createDynamoDbDeploymentStore(createDynamoDbClient({ ...stack.connection, endpoint: stack.endpoint }), DEFAULT_TABLES.deploymentsTable).get(spec.id);
  return deployment?.counters ?? { received: 0, scored: 0, failed: 0 };
}

async function predictions() {
  return (await createDynamoDbUsageMeter(createDynamoDbClient({ ...stack.connection, endpoint: stack.endpoint }), DEFAULT_TABLES.deploymentsTable).read()).predictions;
}

/**
 * A fan-out that records what the scorer starts; `run` then executes each start through the
 * synthesized state machine, every step in a new container. `breakStep` makes that step fail for good.
 */
function stepFunctions(enforcements: Enforcement[], breakStep?: string) {
  const started: unknown[] = [];
  const fanOut: BulkFanOut = { minBytes: 1, start: async (input) => void started.push(input) };
  const machine = enforcedClients(machinePolicies, 'state-machine');
  enforcements.push(machine.enforcement);
  const env = {
    async invoke(resource: unknown, payload: unknown) {
      expect(resource).toBe(`REF:${scorerId}`);
      if ((payload as { dropscore: string }).dropscore === breakStep) throw Object.assign(new Error('the scorer timed out'), { name: 'Sandbox.Timedout' });
      return JSON.parse(JSON.stringify((await handleInvocation(container(enforcements), payload)) ?? null));
    },
    async getObject(bucket: string, key: string) {
      return (await machine.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToString();
    },
  };
  return { fanOut, started, run: () => Promise.all(started.splice(0).map((input) => runStateMachine(definition, { input }, env))) };
}

const lines = (n: number) => Array.from({ length: n }, (_, i) => (i % 97 === 5 ? 'not json' : i % 89 === 7 ? '' : i % 83 === 3 ? '{"values": [[1, 2]]}' : record)).join('\n') + '\n';

describe('a bulk file fanned out through the synthesized state machine', () => {
  it('gets the same outcome as in one invocation, counted once in records, with its parts cleaned up and only granted calls', async () => {
    const enforcements: Enforcement[] = [];
    const body = lines(600);
    const inline = await put('inline/big.jsonl', body);
    expect((await container(enforcements).handleEvent(inline.event)).results).toEqual([{ key: 'inline/big.jsonl', result: 'scored' }]);
    const before = await counters();
    const usedBefore = await predictions();

    const sfn = stepFunctions(enforcements);
    const fanned = await put('fan/big.jsonl', body);
    expect((await container(enforcements, sfn.fanOut).handleEvent(fanned.event)).results).toEqual([{ key: 'fan/big.jsonl', result: 'fanned-out' }]);
    expect(sfn.started).toEqual([{ bucket: 'fan-in', key: 'fan/big.jsonl', eTag: fanned.eTag }]);
    const [execution] = await sfn.run();
    expect(execution).toMatchObject({ status: 'SUCCEEDED' });
    expect(execution!.visited.filter((s) => s === 'ScoreParts/ScorePartBatch').length).toBeGreaterThan(10);

    expect(await text('fan-out', 'fan/big.jsonl')).toBe(await text('fan-out', 'inline/big.jsonl'));
    const outcome = (await text('fan-out', 'fan/big.jsonl')).trimEnd().split('\n');
    const blank = body.split('\n').slice(0, -1).filter((l) => l === '').length;
    expect(outcome).toHaveLength(600 - blank);
    const after = await counters();
    const failed = outcome.filter((l) => l.startsWith('{"error"')).length;
    expect({ received: after.received - before.received, scored: after.scored - before.scored, failed: after.failed - before.failed }).toEqual({ received: 600 - blank, scored: 600 - blank - failed, failed });
    expect((await predictions()) - usedBefore).toBe(600 - blank - failed);
    expect((await stack.s3.send(new ListObjectsV2Command({ Bucket: 'fan-out', Prefix: '.dropscore-parts/' }))).KeyCount).toBe(0);

    // A step run again after it finished (a lost answer, a retried Lambda) changes nothing: assembly, or giving up.
    const outcomeBefore = await text('fan-out', 'fan/big.jsonl');
    const { input, plan } = execution!.output as { input: unknown; plan: unknown };
    expect(await handleInvocation(container(enforcements), { dropscore: 'bulk-assemble', input, plan })).toMatchObject({ records: 600 - blank, failed });
    await handleInvocation(container(enforcements), { dropscore: 'bulk-abandon', input, failure: { Error: 'Lambda.Unknown', Cause: 'late' } });
    expect(await text('fan-out', 'fan/big.jsonl')).toBe(outcomeBefore);
    expect(await counters()).toEqual(after);

    // Redelivered after it finished: nothing started, nothing counted.
    expect((await container(enforcements, sfn.fanOut).handleEvent(fanned.event)).results).toEqual([{ key: 'fan/big.jsonl', result: 'duplicate' }]);
    expect(sfn.started).toEqual([]);
    expect(await counters()).toEqual(after);

    const denied = enforcements.flatMap((e) => e.decisions.filter((d) => !d.allowed));
    expect(denied).toEqual([]);
    // The state machine read the plan, and only that.
    const machineReads = enforcements.flatMap((e) => e.decisions).filter((d) => d.resource.includes('parts.json') && d.action === 's3:GetObject');
    expect(machineReads.length).toBeGreaterThan(0);
  });

  it('scores a file under the threshold in the invocation its event reached, whether or not the event gives its size', async () => {
    const enforcements: Enforcement[] = [];
    const started: unknown[] = [];
    const fanOut: BulkFanOut = { minBytes: 1024 * 1024, start: async (input) => void started.push(input) };
    const sized = await put('fan/small.jsonl', lines(20));
    expect((await container(enforcements, fanOut).handleEvent(sized.event)).results).toEqual([{ key: 'fan/small.jsonl', result: 'scored' }]);
    const unsized = await put('fan/small-unsized.jsonl', lines(20));
    delete (unsized.event.Records[0]!.s3.object as { size?: number }).size;
    expect((await container(enforcements, fanOut).handleEvent(unsized.event)).results).toEqual([{ key: 'fan/small-unsized.jsonl', result: 'scored' }]);
    expect(started).toEqual([]);
    expect((await text('fan-out', 'fan/small-unsized.jsonl')).trimEnd().split('\n')).toHaveLength(20 - lines(20).split('\n').slice(0, -1).filter((l) => l === '').length);
  });

  it('leaves a file whose fan-out failed for good its error outcome, counts its records failed and gives back their predictions', async () => {
    const enforcements: Enforcement[] = [];
    const sfn = stepFunctions(enforcements, 'bulk-assemble');
    const before = await counters();
    const usedBefore = await predictions();
    const file = await put('fan/doomed.jsonl', lines(300));
    await container(enforcements, sfn.fanOut).handleEvent(file.event);
    const [execution] = await sfn.run();
    expect(execution).toMatchObject({ status: 'FAILED', error: 'BulkFileFailed', cause: 'the scorer timed out' });
    expect(execution!.visited.slice(-2)).toEqual(['GiveFileErrorOutcome', 'FileFailed']);

    const outcome = JSON.parse(await text('fan-out', 'fan/doomed.jsonl'));
    expect(outcome.error).toMatchObject({ code: 'BULK_FILE_FAILED', input: { bucket: 'fan-in', key: 'fan/doomed.jsonl', eTag: file.eTag } });
    expect(outcome.error.message).toMatch(/could not be scored in parts: Sandbox\.Timedout: the scorer timed out/);
    const after = await counters();
    const records = 300 - lines(300).split('\n').slice(0, -1).filter((l) => l === '').length;
    expect({ received: after.received - before.received, scored: after.scored - before.scored, failed: after.failed - before.failed }).toEqual({ received: records, scored: 0, failed: records });
    expect(await predictions()).toBe(usedBefore);
    expect((await stack.s3.send(new ListObjectsV2Command({ Bucket: 'fan-out', Prefix: '.dropscore-parts/' }))).KeyCount).toBe(0);
    expect(enforcements.flatMap((e) => e.decisions.filter((d) => !d.allowed))).toEqual([]);
  });

  it('leaves the outcome to the newer version when the file is overwritten during its fan-out', async () => {
    const enforcements: Enforcement[] = [];
    const sfn = stepFunctions(enforcements);
    const older = await put('fan/changing.jsonl', lines(200));
    await container(enforcements, sfn.fanOut).handleEvent(older.event);
    const newer = await put('fan/changing.jsonl', lines(50));
    const [first] = await sfn.run();
    // The older version's parts could not be read any more: it gives up without writing an outcome.
    expect(first).toMatchObject({ status: 'FAILED' });
    await expect(text('fan-out', 'fan/changing.jsonl')).rejects.toThrow();
    await container(enforcements, sfn.fanOut).handleEvent(newer.event);
    expect(await sfn.run()).toEqual([expect.objectContaining({ status: 'SUCCEEDED' })]);
    expect((await text('fan-out', 'fan/changing.jsonl')).trimEnd().split('\n')).toHaveLength(50 - lines(50).split('\n').slice(0, -1).filter((l) => l === '').length);
    expect(enforcements.flatMap((e) => e.decisions.filter((d) => !d.allowed))).toEqual([]);
  });
});
