/**
 * The AWS side of `dropscore backfill` and `redrive`, against mocked SDK
 * clients: the scorer invoked synchronously with S3 notifications of the real
 * shape, backfill's order, pacing and resume point, the direct-delivery
 * dead-letter queue's invocation records re-invoked and deleted one by one,
 * and the queued one moved back by an SQS message move task.
 */
import { HeadObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { DeleteMessageCommand, GetQueueAttributesCommand, ListMessageMoveTasksCommand, ReceiveMessageCommand, SQSClient, StartMessageMoveTaskCommand } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import type { AwsResources, DeploymentRecord } from '../../functions/scorer/domain/ports.js';
import { runBackfill } from '../../manage/backfill.js';
import { redriveInvocations, redriveQueue } from '../../manage/redrive.js';
import { InvocationFailed, lambdaInvoker } from '../../manage/scorer-invoker.js';

const s3Mock = mockClient(S3Client);
const lambdaMock = mockClient(LambdaClient);
const sqsMock = mockClient(SQSClient);
const resources: AwsResources = {
  scorerFunction: 'Dropscore-scorer-fn',
  deadLetterQueueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/dlq',
  deadLetterQueueArn: 'arn:aws:sqs:eu-west-1:123456789012:dlq',
};
const deployment: DeploymentRecord = {
  id: 'dep-1', name: 'digits', model: 'm', description: '', framework: 'onnx', status: 'DEPLOY_SUCCESS', createdAt: '', modifiedAt: '', generation: 0,
  counters: { received: 0, scored: 0, failed: 0 },
  source: { bucket: 'in', prefix: 'drop/', suffix: '.json' },
  target: { bucket: 'out', prefix: 'scored/' },
  awsResources: resources,
};
const encoder = new TextEncoder();
const reportOf = (...keys: string[]) => ({ StatusCode: 200, Payload: encoder.encode(JSON.stringify({ results: keys.map((key) => ({ key, result: 'scored' })) })) as never });
const invokedEvents = () => lambdaMock.commandCalls(InvokeCommand).map((c) => JSON.parse(String(c.args[0].input.Payload)) as { Records: { eventSource: string; eventName: string; s3: { bucket: { name: string }; object: { key: string; eTag: string } } }[] });
const notFound = () => Object.assign(new Error('Not Found'), { name: 'NotFound', $metadata: { httpStatusCode: 404 } });

beforeEach(() => {
  s3Mock.reset();
  lambdaMock.reset();
  sqsMock.reset();
});

describe('the scorer invoked on AWS', () => {
  it('is invoked synchronously with the event, and answers with its report', async () => {
    lambdaMock.on(InvokeCommand).resolves(reportOf('drop/a.json'));
    const invoke = lambdaInvoker(new LambdaClient({ region: 'eu-west-1' }), deployment);
    expect(await invoke({ Records: [] })).toEqual({ results: [{ key: 'drop/a.json', result: 'scored' }] });
    expect(lambdaMock.commandCalls(InvokeCommand)[0]!.args[0].input).toMatchObject({ FunctionName: 'Dropscore-scorer-fn', InvocationType: 'RequestResponse' });
  });

  it('turns a function error (the scorer could not finish) into a failed invocation, with its message', async () => {
    lambdaMock.on(InvokeCommand).resolves({ StatusCode: 200, FunctionError: 'Unhandled', Payload: encoder.encode(JSON.stringify({ errorType: 'TransientFailure', errorMessage: '1 of 1 object(s) not finished' })) as never });
    const invoke = lambdaInvoker(new LambdaClient({ region: 'eu-west-1' }), deployment);
    await expect(invoke({ Records: [] })).rejects.toThrow(new InvocationFailed('TransientFailure: 1 of 1 object(s) not finished'));
  });

  it('refuses a record written before deployments named their scorer function', () => {
    const { awsResources: _none, ...old } = deployment;
    expect(() => lambdaInvoker(new LambdaClient({ region: 'eu-west-1' }), old)).toThrow('deployment "digits" has no scorer function in its record');
  });
});

describe('backfill on AWS', () => {
  beforeEach(() => {
    // Two pages; the listing resumes after `drop/a.json` (StartAfter on the first request only).
    s3Mock.on(ListObjectsV2Command, { ContinuationToken: undefined }).resolves({
      IsTruncated: true,
      NextContinuationToken: 'page-2',
      Contents: [
        { Key: 'drop/b c+d.json', ETag: '"e-b"', Size: 10 },
        { Key: 'drop/notes.txt', ETag: '"e-t"', Size: 1 },
        { Key: 'drop/c.json', ETag: '"e-c"', Size: 10 },
      ],
    });
    s3Mock.on(ListObjectsV2Command, { ContinuationToken: 'page-2' }).resolves({ IsTruncated: false, Contents: [{ Key: 'drop/d.json', ETag: '"e-d"', Size: 10 }, { Key: 'drop/e.json', ETag: '"e-e"', Size: 10 }] });
    s3Mock.on(HeadObjectCommand).rejects(notFound());
    // c's outcome is of its current version; d's of an older one.
    s3Mock.on(HeadObjectCommand, { Key: 'scored/c.json' }).resolves({ Metadata: { 'dropscore-input-etag': 'e-c' } });
    s3Mock.on(HeadObjectCommand, { Key: 'scored/d.json' }).resolves({ Metadata: { 'dropscore-input-etag': 'e-older' } });
  });

  it('sends only the watched objects without an outcome for their current version, as S3 notifications, in key order', async () => {
    lambdaMock.on(InvokeCommand).callsFake((input: { Payload: string }) => reportOf(...(JSON.parse(input.Payload).Records as { s3: { object: { key: string } } }[]).map((r) => decodeURIComponent(r.s3.object.key.replace(/\+/g, ' ')))));
    const report = await runBackfill({ s3: new S3Client({ region: 'eu-west-1' }), deployment, invoke: lambdaInvoker(new LambdaClient({ region: 'eu-west-1' }), deployment), startAfter: 'drop/a.json', batchSize: 2, concurrency: 1 });
    expect(s3Mock.commandCalls(ListObjectsV2Command).map((c) => [c.args[0].input.StartAfter, c.args[0].input.Prefix])).toEqual([['drop/a.json', 'drop/'], [undefined, 'drop/']]);
    expect(report).toMatchObject({ listed: 4, upToDate: 1, toScore: 3, results: { scored: 3 }, notDone: [], complete: true });
    const events = invokedEvents();
    expect(events.map((e) => e.Records.map((r) => r.s3.object.key))).toEqual([['drop/b+c%2Bd.json', 'drop/d.json'], ['drop/e.json']]);
    expect(events[0]!.Records[0]).toMatchObject({ eventSource: 'aws:s3', eventName: 'ObjectCreated:Put', s3: { bucket: { name: 'in' }, object: { eTag: 'e-b' } } });
  });

  it('counts without invoking on a dry run', async () => {
    const report = await runBackfill({ s3: new S3Client({ region: 'eu-west-1' }), deployment, invoke: lambdaInvoker(new LambdaClient({ region: 'eu-west-1' }), deployment), dryRun: true });
    expect(report).toMatchObject({ listed: 4, upToDate: 1, toScore: 3, dryRun: true });
    expect(lambdaMock.commandCalls(InvokeCommand)).toEqual([]);
  });

  it('says where to resume when an invocation failed: after the last key before the first one not done', async () => {
    lambdaMock.on(InvokeCommand).resolvesOnce(reportOf('drop/b c+d.json')).rejects(Object.assign(new Error('Rate exceeded'), { name: 'TooManyRequestsException' }));
    const report = await runBackfill({ s3: new S3Client({ region: 'eu-west-1' }), deployment, invoke: lambdaInvoker(new LambdaClient({ region: 'eu-west-1' }), deployment), batchSize: 1, concurrency: 1 });
    expect(report.notDone).toEqual([
      { key: 'drop/d.json', reason: 'TooManyRequestsException: Rate exceeded' },
      { key: 'drop/e.json', reason: 'TooManyRequestsException: Rate exceeded' },
    ]);
    expect(report).toMatchObject({ complete: false, resumeAfter: 'drop/c.json', results: { scored: 1 } });
  });
});

describe('redrive on AWS', () => {
  const invocationRecord = (key: string) => JSON.stringify({
    version: '1.0',
    requestContext: { requestId: `req-${key}`, functionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:scorer', condition: 'RetriesExhausted', approximateInvokeCount: 3 },
    requestPayload: { Records: [{ eventSource: 'aws:s3', eventName: 'ObjectCreated:Put', s3: { bucket: { name: 'in' }, object: { key } } }] },
    responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
    responsePayload: { errorType: 'TransientFailure', errorMessage: 'DynamoDB was throttled' },
  });

  it('direct delivery: re-invokes each failed invocation with its original event and deletes the record once it succeeded', async () => {
    sqsMock.on(ReceiveMessageCommand)
      .resolvesOnce({ Messages: [{ MessageId: 'm1', ReceiptHandle: 'r1', Body: invocationRecord('drop/a.json') }, { MessageId: 'm2', ReceiptHandle: 'r2', Body: invocationRecord('drop/b.json') }] })
      .resolves({ Messages: [] });
    sqsMock.on(DeleteMessageCommand).resolves({});
    sqsMock.on(GetQueueAttributesCommand).resolves({ Attributes: { ApproximateNumberOfMessages: '0', ApproximateNumberOfMessagesNotVisible: '1' } });
    lambdaMock.on(InvokeCommand).resolvesOnce(reportOf('drop/a.json')).resolves({ StatusCode: 200, FunctionError: 'Unhandled', Payload: encoder.encode('{"errorType":"TransientFailure","errorMessage":"still throttled"}') as never });
    const report = await redriveInvocations(new SQSClient({ region: 'eu-west-1' }), resources, lambdaInvoker(new LambdaClient({ region: 'eu-west-1' }), deployment));
    expect(invokedEvents().map((e) => e.Records[0]!.s3.object.key)).toEqual(['drop/a.json', 'drop/b.json']);
    expect(sqsMock.commandCalls(DeleteMessageCommand).map((c) => c.args[0].input)).toEqual([{ QueueUrl: resources.deadLetterQueueUrl, ReceiptHandle: 'r1' }]);
    expect(report).toEqual({ how: 'invoked', redriven: 1, left: 1, failures: [{ id: 'm2', reason: 'TransientFailure: still throttled' }] });
  });

  it('queued delivery: moves the dead letters back to the delivery queue with a message move task and waits for it', async () => {
    const queued = { ...resources, deliveryQueueArn: 'arn:aws:sqs:eu-west-1:123456789012:deliveries' };
    sqsMock.on(StartMessageMoveTaskCommand).resolves({ TaskHandle: 'task-1' });
    sqsMock.on(ListMessageMoveTasksCommand)
      .resolvesOnce({ Results: [{ TaskHandle: 'task-1', Status: 'RUNNING', ApproximateNumberOfMessagesMoved: 1 }] })
      .resolves({ Results: [{ TaskHandle: 'task-1', Status: 'COMPLETED', ApproximateNumberOfMessagesMoved: 3 }] });
    sqsMock.on(GetQueueAttributesCommand).resolves({ Attributes: { ApproximateNumberOfMessages: '0', ApproximateNumberOfMessagesNotVisible: '0' } });
    const report = await redriveQueue(new SQSClient({ region: 'eu-west-1' }), queued, { ratePerSecond: 50, pollMs: 1 });
    expect(sqsMock.commandCalls(StartMessageMoveTaskCommand)[0]!.args[0].input).toEqual({ SourceArn: resources.deadLetterQueueArn, DestinationArn: queued.deliveryQueueArn, MaxNumberOfMessagesPerSecond: 50 });
    expect(report).toEqual({ how: 'moved', redriven: 3, left: 0, failures: [] });
    expect(lambdaMock.commandCalls(InvokeCommand)).toEqual([]);
  });

  it('queued delivery: reports a move task that failed, with its reason', async () => {
    sqsMock.on(StartMessageMoveTaskCommand).resolves({ TaskHandle: 'task-2' });
    sqsMock.on(ListMessageMoveTasksCommand).resolves({ Results: [{ TaskHandle: 'task-2', Status: 'FAILED', FailureReason: 'AccessDenied', ApproximateNumberOfMessagesMoved: 0 }] });
    sqsMock.on(GetQueueAttributesCommand).resolves({ Attributes: { ApproximateNumberOfMessages: '4' } });
    const report = await redriveQueue(new SQSClient({ region: 'eu-west-1' }), { ...resources, deliveryQueueArn: 'arn:aws:sqs:eu-west-1:123456789012:deliveries' }, { pollMs: 1 });
    expect(report).toEqual({ how: 'moved', redriven: 0, left: 4, failures: [{ id: 'task-2', reason: 'FAILED: AccessDenied' }] });
  });
});
