/**
 * The deployments table's upsert (aws-sdk-client-mock): a live record is
 * rebound keeping its counters; a DELETED one starts its next generation; a
 * delete or create racing the write is retried with each write's own values
 * (DynamoDB refuses an expression value a write does not use).
 */
import { ConditionalCheckFailedException, DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { createDynamoDbDeploymentStore } from '../../functions/scorer/store/dynamodb-deployment-store.js';

const dbMock = mockClient(DynamoDBClient);
const refused = () => new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });
const deployment = { id: 'dep-1', name: 'digits', description: '', model: 'm', framework: 'onnx', source: { bucket: 'in', prefix: '' }, target: { bucket: 'out', prefix: '' } };
const updates = () => dbMock.commandCalls(UpdateItemCommand).map((c) => c.args[0].input);

beforeEach(() => dbMock.reset());

/** Every :placeholder given is used by the update or its condition. */
function unusedValues(input: ReturnType<typeof updates>[number]): string[] {
  const text = `${input.UpdateExpression} ${input.ConditionExpression}`;
  return Object.keys(input.ExpressionAttributeValues ?? {}).filter((name) => !new RegExp(`${name}(?![\\w])`).test(text));
}

describe('the deployments table upsert', () => {
  it('drops, on a deploy of a live record, the AWS resources the deployment no longer has; a write naming none leaves them', async () => {
    dbMock.on(UpdateItemCommand).resolves({ Attributes: { id: { S: 'dep-1' }, status: { S: 'INITIALIZING' } } });
    const store = createDynamoDbDeploymentStore(new DynamoDBClient({}), 'deployments');
    // Moved from queued to direct delivery, without a function URL: no delivery queue, no scoring URL any more.
    await store.upsert({ ...deployment, awsResources: { scorerFunction: 'scorer', deadLetterQueueUrl: 'https://sqs/dlq', deadLetterQueueArn: 'arn:aws:sqs:eu-west-1:1:dlq' } });
    await store.upsert(deployment); // e.g. the CLI rebinding it: it knows nothing of its AWS resources
    const [deploy, rebind] = updates();
    expect(deploy!.UpdateExpression).toMatch(/ REMOVE status_details, scoring_url, delivery_queue_arn$/);
    expect(rebind!.UpdateExpression).toMatch(/ REMOVE status_details$/);
    expect(updates().flatMap(unusedValues)).toEqual([]);
  });


  it('starts the next generation of a DELETED record, after the live-record write was refused', async () => {
    dbMock.on(UpdateItemCommand).rejectsOnce(refused()).resolves({ Attributes: { id: { S: 'dep-1' }, generation: { N: '1' } } });
    expect((await createDynamoDbDeploymentStore(new DynamoDBClient({ region: 'us-east-1' }), 't').upsert(deployment)).generation).toBe(1);
    const [live, fresh] = updates();
    expect(live!.ConditionExpression).toBe('attribute_not_exists(id) OR #status <> :deleted');
    expect(fresh!.ConditionExpression).toBe('#status = :deleted');
    expect(fresh!.UpdateExpression).toContain('received = :zero, scored = :zero, failed = :zero, generation = if_not_exists(generation, :zero) + :one REMOVE status_details, last_error, scoring_url');
  });

  it('retries a race (deleted, then created again meanwhile) with only the values each write uses', async () => {
    dbMock.on(UpdateItemCommand).rejectsOnce(refused()).rejectsOnce(refused()).resolves({ Attributes: { id: { S: 'dep-1' } } });
    await createDynamoDbDeploymentStore(new DynamoDBClient({ region: 'us-east-1' }), 't').upsert(deployment);
    expect(updates()).toHaveLength(3);
    expect(updates().map(unusedValues)).toEqual([[], [], []]);
  });
});
