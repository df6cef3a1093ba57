/**
 * The Lambda handler over the real domain and store adapters, with S3 and
 * DynamoDB mocked by aws-sdk-client-mock and the real demo ONNX model.
 */
import { readFileSync } from 'node:fs';
import { ConditionalCheckFailedException, DynamoDBClient, GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, HeadObjectCommand, NoSuchKey, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import ort from 'onnxruntime-node';
import { beforeEach, describe, expect, it } from 'vitest';
import type { DeploymentBinding, Logger } from '../../functions/scorer/domain/ports.js';
import type { EventReport } from '../../functions/scorer/domain/scorer.js';
import { createHandler } from '../../functions/scorer/event-handler.js';
import { createStoredScorer } from '../../functions/scorer/wiring.js';
import { FIXTURES, MODELS_ROOT } from '../support/paths.js';
import { TOLERANCE, maxRelativeError } from '../support/tensor-proto.js';

const s3Mock = mockClient(S3Client);
const dbMock = mockClient(DynamoDBClient);
const quietLog: Logger = { info: () => {}, warn: () => {}, error: () => {} };

const binding: DeploymentBinding = {
  id: 'dep-1',
  name: 'mnist',
  model: 'mnist-cnn-onnx',
  source: { bucket: 'in', prefix: 'drop/' },
  target: { bucket: 'out', prefix: 'scored/' },
};
const img1 = readFileSync(`${FIXTURES}/payloads/keras/img1.json`);

function handlerFor(modelDir = `${MODELS_ROOT}/mnist-cnn-onnx`) {
  const wiring = { s3: new S3Client({ region: 'us-east-1' }), db: new DynamoDBClient({ region: 'us-east-1' }), deploymentsTable: 'deployments', ledgerTable: 'ledger', log: quietLog };
  const scorer = createStoredScorer(wiring, binding, modelDir);
  const handler = createHandler(() => scorer);
  return (event: unknown) => handler(event, {} as never) as Promise<EventReport>;
}

function s3Event(...keys: string[]) {
  return {
    Records: keys.map((key) => ({ eventVersion: '2.1', eventSource: 'aws:s3', eventName: 'ObjectCreated:Put', s3: { bucket: { name: 'in' }, object: { key, eTag: 'etag-1', sequencer: '0A' } } })),
  };
}

function objectBody(bytes: Uint8Array, eTag = 'etag-1') {
  return { ETag: `"${eTag}"`, ContentLength: bytes.length, Body: { transformToByteArray: async () => bytes } as never };
}

function putsTo(bucket: string) {
  return s3Mock.commandCalls(PutObjectCommand).filter((c) => c.args[0].input.Bucket === bucket).map((c) => c.args[0].input);
}

// The ledger's two writes (one item per input key, an attribute per version), and what it holds.
const CLAIM = 'SET #version = :received REMOVE expires_at ADD n_received :one';
const COMPLETE = 'SET #version = :outcome ADD n_scored :one';
const versionsOf = (versions: Record<string, string>) => Object.fromEntries(Object.entries(versions).map(([eTag, state]) => [`version ${eTag}`, { S: state }]));
function ledgerItem(versions: Record<string, string>) {
  return { Attributes: versionsOf(versions) };
}
/** A claim of a version the ledger has seen: the conditional write is refused, and a read tells its state. */
function claimedBefore(versions: Record<string, string>) {
  dbMock.on(UpdateItemCommand, { TableName: 'ledger', UpdateExpression: CLAIM }).rejects(new ConditionalCheckFailedException({ message: 'seen', $metadata: {} }));
  dbMock.on(GetItemCommand, { TableName: 'ledger' }).resolves({ Item: versionsOf(versions) });
}

function ledgerUpdates() {
  return dbMock.commandCalls(UpdateItemCommand).map((c) => c.args[0].input);
}

beforeEach(() => {
  s3Mock.reset();
  dbMock.reset();
  s3Mock.on(GetObjectCommand).resolves(objectBody(img1));
  s3Mock.on(HeadObjectCommand).resolves({ ETag: '"etag-1"' });
  s3Mock.on(PutObjectCommand).resolves({});
  dbMock.on(UpdateItemCommand).resolves({});
  dbMock.on(GetItemCommand, { TableName: 'deployments', Key: { id: { S: 'dep-1' } } }).resolves({ Item: { id: { S: 'dep-1' }, status: { S: 'INITIALIZING' } } });
});

describe('scorer handler', () => {
  it('scores a dropped record into the target, with lineage and counters', async () => {
    const report = await handlerFor()(s3Event('drop/my+img%2B1.json'));
    expect(report.results).toEqual([{ key: 'drop/my img+1.json', result: 'scored' }]);
    expect(s3Mock.commandCalls(GetObjectCommand)[0]!.args[0].input).toEqual({ Bucket: 'in', Key: 'drop/my img+1.json' });

    const [put] = putsTo('out');
    expect(put!.Key).toBe('scored/my img+1.json');
    expect(put!.Metadata).toMatchObject({ 'dropscore-outcome': 'result', 'dropscore-deployment-id': 'dep-1', 'dropscore-input-etag': 'etag-1' });
    expect(put!.Metadata!['dropscore-model-sha256']).toMatch(/^[0-9a-f]{64}$/);
    expect(Number(put!.Metadata!['dropscore-latency-ms'])).toBeGreaterThan(0);

    // Same numbers as onnxruntime called directly on the same input.
    const session = await ort.InferenceSession.create(`${MODELS_ROOT}/mnist-cnn-onnx/mnist-cnn.onnx`);
    const values = JSON.parse(img1.toString()).values;
    const direct = await session.run({ input_1: new ort.Tensor('float32', Float32Array.from(values.flat(Infinity)), [1, 28, 28, 1]) });
    const body = JSON.parse(String(put!.Body));
    expect(Object.keys(body)).toEqual(['my img+1.json']);
    expect(maxRelativeError(body['my img+1.json'].dense.flat(), direct['dense']!.data as Float32Array)).toBeLessThanOrEqual(TOLERANCE);

    const updates = ledgerUpdates();
    expect(updates.find((u) => u.TableName === 'deployments' && u.ExpressionAttributeValues?.[':status'])?.ExpressionAttributeValues?.[':status']).toEqual({ S: 'DEPLOY_SUCCESS' });
    expect(updates.filter((u) => u.TableName === 'deployments' && u.UpdateExpression?.includes('ADD')).map((u) => u.UpdateExpression)).toEqual([
      'SET modified_at = :now ADD received :received',
      'ADD predictions :count',
      'SET modified_at = :now ADD scored :scored',
    ]);
  });

  it('keeps its ledger per deployment, model and target, so a redeployed name starts afresh', async () => {
    await handlerFor()(s3Event('drop/a.json'));
    const claim = ledgerUpdates().find((u) => u.TableName === 'ledger')!;
    expect(claim.Key!['deployment_id']!.S).toMatch(/^dep-1#[0-9a-f]{16}#out\/scored\/$/);
  });

  it('keeps its ledger per generation: a deployment deleted and created again claims its inputs anew', async () => {
    dbMock.on(GetItemCommand, { TableName: 'deployments', Key: { id: { S: 'dep-1' } } }).resolves({ Item: { id: { S: 'dep-1' }, status: { S: 'INITIALIZING' }, generation: { N: '2' } } });
    await handlerFor()(s3Event('drop/a.json'));
    const claim = ledgerUpdates().find((u) => u.TableName === 'ledger')!;
    expect(claim.Key!['deployment_id']!.S).toMatch(/^dep-1#gen-2#[0-9a-f]{16}#out\/scored\/$/);
  });

  it('does not score for a DELETED record (about to be created again): the event fails, to be retried', async () => {
    dbMock.on(GetItemCommand, { TableName: 'deployments', Key: { id: { S: 'dep-1' } } }).resolves({ Item: { id: { S: 'dep-1' }, status: { S: 'DELETED' } } });
    await expect(handlerFor()(s3Event('drop/a.json'))).rejects.toThrow(/deployment mnist is DELETED/);
    expect(putsTo('out')).toEqual([]);
    expect(ledgerUpdates().filter((u) => u.TableName === 'ledger')).toEqual([]);
  });

  it('loads the model once for many records', async () => {
    const handle = handlerFor();
    await handle(s3Event('drop/a.json', 'drop/b.json'));
    await handle(s3Event('drop/c.json'));
    const statusWrites = ledgerUpdates().filter((u) => u.ExpressionAttributeValues?.[':status']);
    expect(statusWrites).toHaveLength(1);
    expect(putsTo('out')).toHaveLength(3);
  });

  it('writes an error record for a bad record and counts it as failed', async () => {
    s3Mock.on(GetObjectCommand).resolves(objectBody(new TextEncoder().encode('{"values": [[1, 2, 3]]}')));
    const report = await handlerFor()(s3Event('drop/bad.json'));
    expect(report.results[0]!.result).toBe('failed');
    const [put] = putsTo('out');
    expect(put!.Metadata!['dropscore-outcome']).toBe('error');
    expect(JSON.parse(String(put!.Body))).toEqual({
      error: {
        code: 'SHAPE_MISMATCH',
        message: 'input "values": expected shape [N,28,28,1], received [1,3]',
        input: { bucket: 'in', key: 'drop/bad.json', eTag: 'etag-1' },
        deployment: { id: 'dep-1', name: 'mnist' },
        model: { name: 'mnist-cnn-onnx', framework: 'onnx' },
      },
    });
    const counted = ledgerUpdates().filter((u) => u.UpdateExpression?.includes('ADD failed'));
    expect(counted[0]!.ExpressionAttributeValues![':lastError']!.S).toContain('drop/bad.json: SHAPE_MISMATCH');
  });

  it('writes a PREDICTION_LIMIT_REACHED error outcome once the instance has used its predictions', async () => {
    dbMock.on(UpdateItemCommand, { TableName: 'deployments', UpdateExpression: 'ADD predictions :count' }).rejects(new ConditionalCheckFailedException({ message: 'limit', $metadata: {} }));
    dbMock.on(GetItemCommand, { TableName: 'deployments', Key: { id: { S: '__usage__' } } }).resolves({ Item: { predictions: { N: '100' }, prediction_limit: { N: '100' } } });
    const report = await handlerFor()(s3Event('drop/over.json'));
    expect(report.results[0]!.result).toBe('failed');
    expect(JSON.parse(String(putsTo('out')[0]!.Body)).error).toMatchObject({
      code: 'PREDICTION_LIMIT_REACHED',
      message: 'the instance has used 100 of its 100 predictions (limit prediction_count); raise the limit in deployments.json to score more',
    });
  });

  it('counts a new input as received while its prediction is counted, not one round trip before', async () => {
    const order: string[] = [];
    let predictionsCounted!: () => void;
    const countingSeen = new Promise<void>((seen) => (predictionsCounted = seen));
    // The received write answers once the predictions are being counted (or after 2 s, if they never are while it is pending).
    dbMock.on(UpdateItemCommand, { TableName: 'deployments', UpdateExpression: 'SET modified_at = :now ADD received :received' }).callsFake(async () => {
      order.push('received sent');
      await Promise.race([countingSeen, new Promise((later) => setTimeout(later, 2000))]);
      order.push('received done');
      return {};
    });
    dbMock.on(UpdateItemCommand, { TableName: 'deployments', UpdateExpression: 'ADD predictions :count' }).callsFake(async () => {
      order.push('predictions counted');
      predictionsCounted();
      return {};
    });
    const report = await handlerFor()(s3Event('drop/a.json'));
    expect(report.results[0]!.result).toBe('scored');
    expect(order).toEqual(['received sent', 'predictions counted', 'received done']);
  });

  it('gives back the predictions counted, releases its claim and retries the input when its received count fails', async () => {
    dbMock.on(UpdateItemCommand, { TableName: 'deployments', UpdateExpression: 'SET modified_at = :now ADD received :received' }).rejects(new Error('throttled'));
    await expect(handlerFor()(s3Event('drop/a.json'))).rejects.toThrow('1 of 1 object(s) not finished: drop/a.json: throttled');
    expect(putsTo('out')).toHaveLength(0);
    const usage = ledgerUpdates().filter((u) => u.UpdateExpression?.startsWith('ADD predictions'));
    expect(usage.map((u) => [u.UpdateExpression, u.ExpressionAttributeValues?.[':count'] ?? u.ExpressionAttributeValues?.[':minus']])).toEqual([
      ['ADD predictions :count', { N: '1' }],
      ['ADD predictions :minus', { N: '-1' }],
    ]);
    // Its claim is released, so that the retry claims it anew and counts it as received.
    expect(ledgerUpdates().filter((u) => u.TableName === 'ledger' && u.UpdateExpression !== CLAIM)).toEqual([
      expect.objectContaining({ UpdateExpression: 'REMOVE #version ADD n_received :minus_one', ConditionExpression: '#version = :received', ExpressionAttributeNames: { '#version': 'version etag-1' } }),
    ]);
  });

  it('does nothing for a redelivered event whose input already has its outcome', async () => {
    claimedBefore({ 'etag-1': 'scored' });
    s3Mock.on(HeadObjectCommand, { Bucket: 'out' }).resolves({ ETag: '"x"', Metadata: { 'dropscore-input-etag': 'etag-1' } });
    const report = await handlerFor()(s3Event('drop/a.json'));
    expect(report.results).toEqual([{ key: 'drop/a.json', result: 'duplicate' }]);
    expect(putsTo('out')).toHaveLength(0);
    // Only the refused claim: no counter moves.
    expect(ledgerUpdates().filter((u) => u.UpdateExpression?.includes('ADD') && u.UpdateExpression !== CLAIM)).toHaveLength(0);
  });

  it('does not count twice when a concurrent delivery finished first', async () => {
    dbMock.on(UpdateItemCommand, { TableName: 'ledger', UpdateExpression: COMPLETE }).rejects(new ConditionalCheckFailedException({ message: 'done', $metadata: {} }));
    await handlerFor()(s3Event('drop/a.json'));
    expect(putsTo('out')).toHaveLength(1);
    expect(ledgerUpdates().filter((u) => u.UpdateExpression?.includes('ADD scored'))).toHaveLength(0);
  });

  it('ignores objects outside its source prefix and its own outcomes', async () => {
    const report = await handlerFor()({
      Records: [
        { eventSource: 'aws:s3', eventName: 'ObjectCreated:Put', s3: { bucket: { name: 'in' }, object: { key: 'elsewhere/a.json' } } },
        { eventSource: 'aws:s3', eventName: 'ObjectCreated:Put', s3: { bucket: { name: 'other-bucket' }, object: { key: 'drop/a.json' } } },
      ],
    });
    expect(report.results.map((r) => r.result)).toEqual(['ignored', 'ignored']);
    expect(s3Mock.calls()).toHaveLength(0);
  });

  it('finishes the other records, then fails the invocation so Lambda retries, when S3 fails', async () => {
    s3Mock.on(GetObjectCommand, { Key: 'drop/flaky.json' }).rejects(Object.assign(new Error('SlowDown: reduce your request rate'), { name: 'SlowDown' }));
    await expect(handlerFor()(s3Event('drop/flaky.json', 'drop/fine.json'))).rejects.toThrow('1 of 2 object(s) not finished: drop/flaky.json: SlowDown: reduce your request rate');
    expect(putsTo('out').map((p) => p.Key)).toEqual(['scored/fine.json']);
  });

  it('fails the invocation when DynamoDB fails, after writing nothing it cannot count', async () => {
    dbMock.on(UpdateItemCommand, { TableName: 'ledger' }).rejects(new Error('ProvisionedThroughputExceeded'));
    await expect(handlerFor()(s3Event('drop/a.json'))).rejects.toThrow('ProvisionedThroughputExceeded');
    expect(putsTo('out')).toHaveLength(0);
  });

  it('marks the deployment FAILED when the model cannot load, and still gives every input an outcome', async () => {
    const report = await handlerFor('/nonexistent/model')(s3Event('drop/a.json', 'drop/b.json'));
    expect(report.results.map((r) => r.result)).toEqual(['failed', 'failed']);
    const status = ledgerUpdates().find((u) => u.ExpressionAttributeValues?.[':status']);
    expect(status!.ExpressionAttributeValues![':status']).toEqual({ S: 'FAILED' });
    expect(status!.ExpressionAttributeValues![':details']!.S).toBe('model "model": cannot read model-meta.json: ENOENT');
    const bodies = putsTo('out').map((p) => JSON.parse(String(p.Body)).error.code);
    expect(bodies).toEqual(['MODEL_LOAD_FAILED', 'MODEL_LOAD_FAILED']);
  });

  it('skips an object deleted before its event arrived', async () => {
    s3Mock.on(GetObjectCommand).rejects(new NoSuchKey({ message: 'gone', $metadata: { httpStatusCode: 404 } }));
    const report = await handlerFor()(s3Event('drop/a.json'));
    expect(report.results).toEqual([{ key: 'drop/a.json', result: 'missing' }]);
    expect(putsTo('out')).toHaveLength(0);
  });

  it('rescores when the key was overwritten while scoring, so the newest object wins', async () => {
    const newer = new TextEncoder().encode('{"values": [[1]]}');
    s3Mock.on(GetObjectCommand).resolvesOnce(objectBody(img1, 'old')).resolves(objectBody(newer, 'new'));
    s3Mock.on(HeadObjectCommand).resolves({ ETag: '"new"' });
    // The newer version's own delivery claimed it while this one scored the old.
    dbMock.on(UpdateItemCommand, { TableName: 'ledger', UpdateExpression: COMPLETE }).resolvesOnce(ledgerItem({ old: 'scored', new: 'received' })).resolves(ledgerItem({ old: 'scored', new: 'failed' }));
    await handlerFor()(s3Event('drop/a.json'));
    const puts = putsTo('out');
    expect(puts.map((p) => p.Metadata!['dropscore-input-etag'])).toEqual(['old', 'new']);
    expect(JSON.parse(String(puts[1]!.Body)).error.code).toBe('SHAPE_MISMATCH');
  });

  it('does not check the key for an overwrite when the ledger saw no other version of it', async () => {
    dbMock.on(UpdateItemCommand, { TableName: 'ledger', UpdateExpression: COMPLETE }).resolves(ledgerItem({ 'etag-1': 'scored' }));
    await handlerFor()(s3Event('drop/a.json'));
    expect(putsTo('out')).toHaveLength(1);
    expect(s3Mock.commandCalls(HeadObjectCommand)).toHaveLength(0);
  });

  it('does not take an object whose overwrite check failed as finished: the retried event looks again', async () => {
    dbMock.on(UpdateItemCommand, { TableName: 'ledger', UpdateExpression: COMPLETE }).resolves(ledgerItem({ 'etag-1': 'scored', 'etag-2': 'received' }));
    s3Mock.on(HeadObjectCommand, { Bucket: 'in' }).rejectsOnce(new Error('SlowDown: reduce your request rate')).resolves({ ETag: '"etag-1"' });
    const handler = handlerFor();
    await expect(handler(s3Event('drop/a.json'))).rejects.toThrow(/SlowDown/);
    await handler(s3Event('drop/a.json'));
    expect(s3Mock.commandCalls(GetObjectCommand)).toHaveLength(2);
  });

  it('fails the event for a retry when the key keeps changing past the rescoring rounds', async () => {
    let version = 0;
    s3Mock.on(GetObjectCommand).callsFake(() => objectBody(img1, `etag-${++version}`));
    s3Mock.on(HeadObjectCommand, { Bucket: 'in' }).callsFake(() => ({ ETag: `"etag-${version + 1}"` }));
    dbMock.on(UpdateItemCommand, { TableName: 'ledger', UpdateExpression: COMPLETE }).resolves(ledgerItem({ 'etag-0': 'scored', 'etag-1': 'scored' }));
    await expect(handlerFor()(s3Event('drop/a.json'))).rejects.toThrow(/kept changing/);
    expect(putsTo('out')).toHaveLength(3);
  });

  it('loads the model on a warm-up invocation, before any record', async () => {
    const handler = createHandler(() => createStoredScorer(
      { s3: new S3Client({ region: 'us-east-1' }), db: new DynamoDBClient({ region: 'us-east-1' }), deploymentsTable: 'deployments', ledgerTable: 'ledger', log: quietLog },
      binding,
      `${MODELS_ROOT}/mnist-cnn-onnx`,
    ));
    expect(await handler({ dropscore: 'warm-up' }, {} as never)).toEqual({ warmedUp: true });
    expect(ledgerUpdates().map((u) => u.ExpressionAttributeValues?.[':status'])).toEqual([{ S: 'DEPLOY_SUCCESS' }]);
    expect(s3Mock.calls()).toHaveLength(0);
  });

  it.each([
    ['DEPLOY_SUCCESS', undefined, []],
    ['FAILED', 'the model did not load', [{ S: 'DEPLOY_SUCCESS' }]],
    ['INITIALIZING', undefined, [{ S: 'DEPLOY_SUCCESS' }]],
  ])('writes the status at a container start only when it changes (record says %s)', async (status, details, written) => {
    const item = { id: { S: 'dep-1' }, status: { S: status }, ...(details ? { status_details: { S: details } } : {}) };
    dbMock.on(GetItemCommand, { TableName: 'deployments', Key: { id: { S: 'dep-1' } } }).resolves({ Item: item });
    const handler = createHandler(() => createStoredScorer(
      { s3: new S3Client({ region: 'us-east-1' }), db: new DynamoDBClient({ region: 'us-east-1' }), deploymentsTable: 'deployments', ledgerTable: 'ledger', log: quietLog },
      binding,
      `${MODELS_ROOT}/mnist-cnn-onnx`,
    ));
    expect(await handler({ dropscore: 'warm-up' }, {} as never)).toEqual({ warmedUp: true });
    expect(ledgerUpdates().map((u) => u.ExpressionAttributeValues?.[':status'])).toEqual(written);
  });

  it('reports only the failed messages of a queued (SQS) batch', async () => {
    s3Mock.on(GetObjectCommand, { Key: 'drop/flaky.json' }).rejects(new Error('InternalError'));
    const sqs = (messageId: string, body: string) => ({ eventSource: 'aws:sqs', messageId, body });
    const handler = createHandler(() => createStoredScorer(
      { s3: new S3Client({ region: 'us-east-1' }), db: new DynamoDBClient({ region: 'us-east-1' }), deploymentsTable: 'deployments', ledgerTable: 'ledger', log: quietLog },
      binding,
      `${MODELS_ROOT}/mnist-cnn-onnx`,
    ));
    const result = await handler({
      Records: [
        sqs('m1', JSON.stringify(s3Event('drop/fine.json'))),
        sqs('m2', JSON.stringify(s3Event('drop/flaky.json'))),
        sqs('m3', JSON.stringify({ Service: 'Amazon S3', Event: 's3:TestEvent' })),
        sqs('m4', 'not json'),
      ],
    }, {} as never);
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'm2' }, { itemIdentifier: 'm4' }] });
    expect(putsTo('out').map((p) => p.Key)).toEqual(['scored/fine.json']);
  });

  it('scores online rows POSTed to its function URL, and answers 400/405 with the reason', async () => {
    const handler = createHandler(() => createStoredScorer(
      { s3: new S3Client({ region: 'us-east-1' }), db: new DynamoDBClient({ region: 'us-east-1' }), deploymentsTable: 'deployments', ledgerTable: 'ledger', log: quietLog },
      binding,
      `${MODELS_ROOT}/mnist-cnn-onnx`,
    ));
    const http = (method: string, body: string, isBase64Encoded = false) => ({ version: '2.0', requestContext: { http: { method } }, body, isBase64Encoded });
    const rows = JSON.stringify({ values: JSON.parse(img1.toString()).values });
    const ok = (await handler(http('POST', Buffer.from(rows).toString('base64'), true), {} as never)) as { statusCode: number; body: string };
    expect(ok.statusCode).toBe(200);
    expect(JSON.parse(ok.body)).toMatchObject({ fields: ['dense'], values: [[expect.any(Array)]] });
    const bad = (await handler(http('POST', '{"values": [[1, 2]]}'), {} as never)) as { statusCode: number; body: string };
    expect([bad.statusCode, JSON.parse(bad.body).error.code]).toEqual([400, 'SHAPE_MISMATCH']);
    expect(((await handler(http('GET', ''), {} as never)) as { statusCode: number }).statusCode).toBe(405);
    expect(s3Mock.calls()).toHaveLength(0);
  });

  it('counts online rows as predictions, and answers 429 when the instance has none left for all of them', async () => {
    const handler = createHandler(() => createStoredScorer(
      { s3: new S3Client({ region: 'us-east-1' }), db: new DynamoDBClient({ region: 'us-east-1' }), deploymentsTable: 'deployments', ledgerTable: 'ledger', log: quietLog },
      binding,
      `${MODELS_ROOT}/mnist-cnn-onnx`,
    ));
    const row = JSON.parse(img1.toString()).values[0];
    const post = (rows: unknown[]) => handler({ version: '2.0', requestContext: { http: { method: 'POST' } }, body: JSON.stringify({ values: rows }) }, {} as never) as Promise<{ statusCode: number; body: string }>;
    expect((await post([row, row])).statusCode).toBe(200);
    expect(ledgerUpdates().filter((u) => u.UpdateExpression === 'ADD predictions :count, online_predictions :count').map((u) => u.ExpressionAttributeValues![':count'])).toEqual([{ N: '2' }]);

    // 99 of 100 used: two rows do not fit, and the one that would is not counted either.
    dbMock.on(UpdateItemCommand, { TableName: 'deployments', ConditionExpression: 'attribute_not_exists(prediction_limit)' }).rejects(new ConditionalCheckFailedException({ message: 'limit', $metadata: {} }));
    dbMock.on(GetItemCommand, { TableName: 'deployments', Key: { id: { S: '__usage__' } } }).resolves({ Item: { predictions: { N: '99' }, prediction_limit: { N: '100' } } });
    const refused = await post([row, row]);
    expect(refused.statusCode).toBe(429);
    expect(JSON.parse(refused.body).error).toEqual({ code: 'PREDICTION_LIMIT_REACHED', message: 'the instance has used 99 of its 100 predictions (limit prediction_count); raise the limit in deployments.json to score more' });
    // Counted under the limit: one ADD, on condition there is room for it.
    const conditionalCounts = () => ledgerUpdates().filter((u) => u.UpdateExpression === 'ADD predictions :count, online_predictions :count' && u.ConditionExpression?.includes(':room'));
    expect(conditionalCounts()).toHaveLength(0);
    expect((await post([row])).statusCode).toBe(200);
    expect(conditionalCounts().map((u) => [u.ExpressionAttributeValues![':count'], u.ExpressionAttributeValues![':room']])).toEqual([[{ N: '1' }, { N: '99' }]]);
  });

  it('rewrites the outcome when a finished version is back after another one (A, B, A)', async () => {
    claimedBefore({ 'etag-1': 'scored', 'etag-B': 'scored' });
    s3Mock.on(HeadObjectCommand, { Bucket: 'out' }).resolves({ ETag: '"x"', Metadata: { 'dropscore-input-etag': 'etag-B' } });
    // The ledger entry of version A is done already: completing it again is refused, so nothing is counted twice.
    dbMock.on(UpdateItemCommand, { TableName: 'ledger', UpdateExpression: COMPLETE }).rejects(new ConditionalCheckFailedException({ message: 'done', $metadata: {} }));
    const report = await handlerFor()(s3Event('drop/a.json'));
    expect(report.results).toEqual([{ key: 'drop/a.json', result: 'scored' }]);
    expect(putsTo('out').map((p) => p.Metadata!['dropscore-input-etag'])).toEqual(['etag-1']);
    expect(ledgerUpdates().filter((u) => u.UpdateExpression?.includes('ADD received') || u.UpdateExpression?.includes('ADD scored'))).toHaveLength(0);
  });

  it('rescores when the key changes after the version the event named was read', async () => {
    const newer = new TextEncoder().encode('{"values": [[1]]}');
    s3Mock.on(GetObjectCommand).resolvesOnce(objectBody(img1, 'etag-1')).resolves(objectBody(newer, 'etag-2'));
    s3Mock.on(HeadObjectCommand, { Bucket: 'in' }).resolves({ ETag: '"etag-2"' });
    dbMock.on(UpdateItemCommand, { TableName: 'ledger', UpdateExpression: COMPLETE }).resolves(ledgerItem({ 'etag-1': 'scored', 'etag-2': 'received' }));
    await handlerFor()(s3Event('drop/a.json'));
    expect(putsTo('out').map((p) => p.Metadata!['dropscore-input-etag'])).toEqual(['etag-1', 'etag-2']);
  });

  it('refuses an oversized object without downloading it', async () => {
    let downloaded = false;
    s3Mock.on(GetObjectCommand).resolves({ ETag: '"big"', ContentLength: 50 * 1024 * 1024, Body: { transformToByteArray: async () => ((downloaded = true), new Uint8Array()), destroy: () => {} } as never });
    await handlerFor()(s3Event('drop/huge.json'));
    expect(downloaded).toBe(false);
    expect(JSON.parse(String(putsTo('out')[0]!.Body)).error.message).toBe('record is 52428800 bytes, over the 5242880-byte limit');
  });
});
