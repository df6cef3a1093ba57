/**
 * The Lambda shell's observability (functions/scorer/observability.ts): the
 * domain's Logger and ScoringMetrics ports over Powertools, run through the
 * real handler on the demo ONNX model with S3 and DynamoDB mocked. What
 * reaches stdout is what CloudWatch Logs (and its EMF metrics) would get.
 */
import { readFileSync } from 'node:fs';
import { DynamoDBClient, GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { DeploymentBinding, ScoringMetrics } from '../../functions/scorer/domain/ports.js';
import { createHandler } from '../../functions/scorer/event-handler.js';
import { createLambdaObservability } from '../../functions/scorer/observability.js';
import { createStoredScorer } from '../../functions/scorer/wiring.js';
import { FIXTURES, MODELS_ROOT } from '../support/paths.js';

const s3Mock = mockClient(S3Client);
const dbMock = mockClient(DynamoDBClient);
const binding: DeploymentBinding = { id: 'dep-obs', name: 'digits', model: 'mnist-cnn-onnx', source: { bucket: 'in', prefix: '' }, target: { bucket: 'out', prefix: '' } };
const img1 = readFileSync(`${FIXTURES}/payloads/keras/img1.json`);
const context = { awsRequestId: 'req-42', functionName: 'scorer', invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:scorer', memoryLimitInMB: '1024' };

const s3Event = (...keys: string[]) => ({
  Records: keys.map((key, i) => ({ eventVersion: '2.1', eventSource: 'aws:s3', eventName: 'ObjectCreated:Put', s3: { bucket: { name: 'in' }, object: { key, eTag: `etag-${i}` } } })),
});

let written: string[];
beforeEach(() => {
  written = [];
  // Powertools writes through its own Console on process.stdout (and stderr for warnings and errors).
  for (const stream of [process.stdout, process.stderr]) vi.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => (written.push(String(chunk)), true));
  s3Mock.reset();
  dbMock.reset();
  dbMock.on(GetItemCommand, { Key: { id: { S: binding.id } } }).resolves({ Item: { id: { S: binding.id }, status: { S: 'INITIALIZING' } } });
  s3Mock.on(GetObjectCommand, { Key: 'good.json' }).resolves({ ETag: '"etag-0"', ContentLength: img1.length, Body: { transformToByteArray: async () => img1 } as never });
  const bad = new TextEncoder().encode('{"values": [[1, 2, 3]]}');
  s3Mock.on(GetObjectCommand, { Key: 'bad.json' }).resolves({ ETag: '"etag-1"', ContentLength: bad.length, Body: { transformToByteArray: async () => bad } as never });
  s3Mock.on(HeadObjectCommand).resolves({ ETag: '"etag-0"' });
  s3Mock.on(PutObjectCommand).resolves({});
  dbMock.on(UpdateItemCommand).resolves({});
});
afterEach(() => vi.restoreAllMocks());

const jsonLines = () => written.join('').split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Record<string, any>);

async function invokeLambdaShell(event: unknown) {
  const observability = await createLambdaObservability(binding, { traceAwsCalls: false });
  const wiring = { s3: new S3Client({ region: 'eu-west-1' }), db: new DynamoDBClient({ region: 'eu-west-1' }), deploymentsTable: 'deployments', ledgerTable: 'ledger', log: observability.log, metrics: observability.scoringMetrics };
  const scorer = createStoredScorer(wiring, binding, `${MODELS_ROOT}/mnist-cnn-onnx`);
  await scorer.warmUp();
  return createHandler(() => scorer).use(observability.middlewares)(event, context as never);
}

describe('the scorer on Lambda', () => {
  it('logs through Powertools with the request id and the deployment on every line of an invocation', async () => {
    await invokeLambdaShell(s3Event('good.json', 'bad.json'));
    const logs = jsonLines().filter((l) => l['message']);
    expect(logs.find((l) => l['message'] === 'model loaded')).toMatchObject({ level: 'INFO', service: 'dropscore-scorer', deployment: 'digits', deploymentId: 'dep-obs', model: 'mnist-cnn-onnx' });
    expect(logs.find((l) => l['message'] === 'event handled')).toMatchObject({
      function_request_id: 'req-42',
      deployment: 'digits',
      objects: [{ key: 'good.json', result: 'scored' }, { key: 'bad.json', result: 'failed' }],
    });
    // The model loads at init, before any request: only lines logged during the invocation carry its id.
    written = [];
    dbMock.on(UpdateItemCommand, { TableName: 'ledger' }).rejects(new Error('throttled'));
    await expect(invokeLambdaShell(s3Event('good.json'))).rejects.toThrow('not finished');
    const failure = jsonLines().find((l) => l['message'] === 'transient failure, the object will be retried');
    expect(failure).toMatchObject({ level: 'ERROR', function_request_id: 'req-42', deployment: 'digits', key: 'good.json', reason: expect.stringContaining('throttled') });
  });

  it('publishes records scored and failed, scoring latency and model load time as EMF metrics per deployment', async () => {
    await invokeLambdaShell(s3Event('good.json', 'bad.json'));
    const emf = jsonLines().filter((l) => l['_aws']?.CloudWatchMetrics);
    expect(emf).toHaveLength(1);
    const [metrics] = emf;
    expect(metrics!['_aws'].CloudWatchMetrics[0]).toMatchObject({ Namespace: 'dropscore', Dimensions: [expect.arrayContaining(['deployment'])] });
    expect(metrics).toMatchObject({ deployment: 'digits', RecordsScored: 1, RecordsFailed: 1 });
    expect(metrics!['ScoringLatency']).toBeGreaterThan(0);
    expect(metrics!['ModelLoadTime']).toBeGreaterThan(0);
  });

  it('publishes nothing, and warns about nothing, for an invocation that counted nothing', async () => {
    const observability = await createLambdaObservability(binding, { traceAwsCalls: false });
    await createHandler(() => ({}) as never).use(observability.middlewares)({ requestContext: { http: { method: 'GET' } } }, context as never).catch(() => undefined);
    expect(written.join('')).not.toMatch(/CloudWatchMetrics|No application metrics/);
  });
});

describe('the scorer domain', () => {
  it('reports counted outcomes, latency and model load time through its metrics port only', async () => {
    const calls: unknown[][] = [];
    const metrics: ScoringMetrics = { outcomesCounted: (...a) => calls.push(['counted', ...a]), scoringLatency: () => calls.push(['latency']), modelLoadTime: () => calls.push(['load']) };
    const quiet = { info() {}, warn() {}, error() {} };
    const scorer = createStoredScorer({ s3: new S3Client({ region: 'eu-west-1' }), db: new DynamoDBClient({ region: 'eu-west-1' }), deploymentsTable: 'd', ledgerTable: 'l', log: quiet, metrics }, binding, `${MODELS_ROOT}/mnist-cnn-onnx`);
    await scorer.handleEvent(s3Event('good.json', 'bad.json'));
    expect(calls).toEqual([['load'], ['counted', 1, 1], ['latency']]);
  });
});
