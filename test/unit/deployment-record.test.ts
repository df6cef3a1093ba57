/**
 * The custom resource behind each deployment's record: CloudFormation's
 * request in, the record written (or marked DELETED), the scorer warmed up,
 * and the answer PUT to the pre-signed response URL (a local server here).
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DynamoDBClient, GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

process.env['DEPLOYMENTS_TABLE'] = 'deployments';
const { handler } = await import('../../functions/deployment-record/handler.js');

const dbMock = mockClient(DynamoDBClient);
const lambdaMock = mockClient(LambdaClient);
const responses: { body: Record<string, string>; contentType: string | undefined }[] = [];
const server = createServer((req: IncomingMessage, res) => {
  let body = '';
  req.on('data', (chunk) => (body += chunk));
  req.on('end', () => {
    responses.push({ body: JSON.parse(body), contentType: req.headers['content-type'] });
    res.end();
  });
});
let responseUrl = '';

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  responseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/response`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  dbMock.reset();
  lambdaMock.reset();
  responses.length = 0;
  dbMock.on(UpdateItemCommand).resolves({ Attributes: { id: { S: 'dep-1' }, name: { S: 'digits' } } });
  lambdaMock.on(InvokeCommand).resolves({ StatusCode: 202 });
});

const deployment = { id: 'dep-1', name: 'digits', description: '', model: 'm', framework: 'onnx', source: { bucket: 'in', prefix: '' }, target: { bucket: 'out', prefix: '' } };
const request = (RequestType: string) => ({
  RequestType,
  ResponseURL: responseUrl,
  StackId: 'stack',
  RequestId: 'req-1',
  LogicalResourceId: 'Record',
  ResourceProperties: { Deployment: JSON.stringify(deployment), ScorerFunctionName: 'scorer-fn', ScoringUrl: 'https://abc.lambda-url.eu-west-1.on.aws/' },
});

describe('deployment record custom resource', () => {
  it('writes the record as INITIALIZING, warms the scorer up asynchronously, and answers SUCCESS', async () => {
    await handler(request('Create') as never, {} as never);
    const update = dbMock.commandCalls(UpdateItemCommand)[0]!.args[0].input;
    expect(update.ExpressionAttributeValues).toMatchObject({ ':initializing': { S: 'INITIALIZING' }, ':sb': { S: 'in' }, ':framework': { S: 'onnx' }, ':url': { S: 'https://abc.lambda-url.eu-west-1.on.aws/' } });
    expect(lambdaMock.commandCalls(InvokeCommand)[0]!.args[0].input).toMatchObject({ FunctionName: 'scorer-fn', InvocationType: 'Event' });
    expect(String(lambdaMock.commandCalls(InvokeCommand)[0]!.args[0].input.Payload)).toBe('{"dropscore":"warm-up"}');
    expect(responses).toEqual([{ body: { Status: 'SUCCESS', Reason: 'ok', PhysicalResourceId: 'dep-1', StackId: 'stack', RequestId: 'req-1', LogicalResourceId: 'Record' }, contentType: '' }]);
  });

  it('records where backfill and redrive find the scorer and its queues', async () => {
    const queues = { DeadLetterQueueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/dlq', DeadLetterQueueArn: 'arn:aws:sqs:eu-west-1:123456789012:dlq', DeliveryQueueArn: 'arn:aws:sqs:eu-west-1:123456789012:q' };
    const create = request('Create');
    await handler({ ...create, ResourceProperties: { ...create.ResourceProperties, ...queues } } as never, {} as never);
    const update = dbMock.commandCalls(UpdateItemCommand)[0]!.args[0].input;
    expect(update.UpdateExpression).toContain('scorer_function = :scorer_function, dead_letter_queue_url = :dead_letter_queue_url, dead_letter_queue_arn = :dead_letter_queue_arn, delivery_queue_arn = :delivery_queue_arn');
    expect(update.ExpressionAttributeValues).toMatchObject({ ':scorer_function': { S: 'scorer-fn' }, ':dead_letter_queue_arn': { S: queues.DeadLetterQueueArn }, ':delivery_queue_arn': { S: queues.DeliveryQueueArn } });
  });

  it('marks the record DELETED (keeping its counters) when the deployment is removed', async () => {
    dbMock.on(GetItemCommand).resolves({ Item: { id: { S: 'dep-1' } } });
    await handler(request('Delete') as never, {} as never);
    expect(dbMock.commandCalls(UpdateItemCommand)[0]!.args[0].input.ExpressionAttributeValues).toMatchObject({ ':status': { S: 'DELETED' } });
    expect(lambdaMock.commandCalls(InvokeCommand)).toHaveLength(0);
    expect(responses[0]!.body['Status']).toBe('SUCCESS');
  });

  it('writes the usage limits, and lifts them when the stack is deleted', async () => {
    const limits = (RequestType: string) => ({ ...request(RequestType), ResourceProperties: { Limits: JSON.stringify({ predictionCount: 500 }) } });
    await handler(limits('Create') as never, {} as never);
    expect(dbMock.commandCalls(UpdateItemCommand)[0]!.args[0].input).toMatchObject({
      Key: { id: { S: '__usage__' } },
      UpdateExpression: 'SET predictions = if_not_exists(predictions, :zero), prediction_limit = :prediction_limit REMOVE model_limit, deployment_limit',
    });
    await handler(limits('Delete') as never, {} as never);
    expect(dbMock.commandCalls(UpdateItemCommand)[1]!.args[0].input.UpdateExpression).toBe('SET predictions = if_not_exists(predictions, :zero) REMOVE model_limit, deployment_limit, prediction_limit');
    expect(responses.map((r) => [r.body['Status'], r.body['PhysicalResourceId']])).toEqual([['SUCCESS', 'usage-limits'], ['SUCCESS', 'usage-limits']]);
  });

  it('answers FAILED with the reason when the table cannot be written, so the stack rolls back', async () => {
    dbMock.on(UpdateItemCommand).rejects(new Error('AccessDeniedException: not allowed'));
    await handler(request('Update') as never, {} as never);
    expect(responses[0]!.body).toMatchObject({ Status: 'FAILED', Reason: 'AccessDeniedException: not allowed', PhysicalResourceId: 'dep-1' });
  });
});
