/**
 * The shared prediction counter's writes (aws-sdk-client-mock): one atomic
 * ADD per request, no read, without a limit; under a limit, one ADD
 * conditioned on the room left (no read once the limit is known), a read only
 * when a write is refused, and jittered, growing waits when refusals repeat.
 */
import { ConditionalCheckFailedException, DynamoDBClient, GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { createDynamoDbUsageMeter } from '../../functions/scorer/store/dynamodb-usage-meter.js';

const dbMock = mockClient(DynamoDBClient);
const refused = () => new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });
const updates = () => dbMock.commandCalls(UpdateItemCommand).map((c) => c.args[0].input);
const reads = () => dbMock.commandCalls(GetItemCommand).length;
const usageItem = (predictions: number, limit?: number) => ({ Item: { id: { S: '__usage__' }, predictions: { N: String(predictions) }, ...(limit === undefined ? {} : { prediction_limit: { N: String(limit) } }) } });

beforeEach(() => dbMock.reset());

function meter(waits: number[] = []) {
  return createDynamoDbUsageMeter(new DynamoDBClient({ region: 'us-east-1' }), 'deployments', { random: () => 0.5, sleep: async (ms) => void waits.push(ms) });
}

describe('the prediction counter', () => {
  it('without a limit: one atomic ADD, no read', async () => {
    dbMock.on(UpdateItemCommand).resolves({ Attributes: { predictions: { N: '7' } } });
    expect(await meter().consumePredictions(3)).toEqual({ granted: 3, used: 7 });
    expect(updates()).toEqual([expect.objectContaining({ UpdateExpression: 'ADD predictions :count', ConditionExpression: 'attribute_not_exists(prediction_limit)' })]);
    expect(reads()).toBe(0);
  });

  it('under a limit: learns it once, then counts with one ADD conditioned on the room left, no read', async () => {
    dbMock.on(UpdateItemCommand).resolves({ Attributes: { predictions: { N: '45' } } });
    dbMock.on(UpdateItemCommand, { ConditionExpression: 'attribute_not_exists(prediction_limit)' }).rejects(refused());
    dbMock.on(GetItemCommand).resolves(usageItem(40, 100));
    const m = meter();
    expect(await m.consumePredictions(5)).toEqual({ granted: 5, used: 45, limit: 100 });
    expect(reads()).toBe(1);
    expect(await m.consumePredictions(5)).toEqual({ granted: 5, used: 45, limit: 100 });
    expect(reads()).toBe(1);
    const within = updates().filter((u) => u.ConditionExpression !== 'attribute_not_exists(prediction_limit)');
    expect(within).toHaveLength(2);
    expect(within[1]).toMatchObject({
      UpdateExpression: 'ADD predictions :count',
      ConditionExpression: 'prediction_limit = :limit AND (attribute_not_exists(predictions) OR predictions <= :room)',
      ExpressionAttributeValues: { ':count': { N: '5' }, ':limit': { N: '100' }, ':room': { N: '95' } },
    });
  });

  it('grants what fits at the limit (all or nothing for online requests), and nothing past it', async () => {
    dbMock.on(UpdateItemCommand).resolves({ Attributes: { predictions: { N: '100' } } });
    dbMock.on(UpdateItemCommand, { ConditionExpression: 'attribute_not_exists(prediction_limit)' }).rejects(refused());
    dbMock.on(GetItemCommand).resolves(usageItem(97, 100));
    expect(await meter().consumePredictions(5)).toEqual({ granted: 3, used: 100, limit: 100 });
    expect(updates().at(-1)!.ExpressionAttributeValues).toMatchObject({ ':count': { N: '3' }, ':room': { N: '97' } });
    expect(await meter().consumePredictions(5, { allOrNothing: true, online: true })).toEqual({ granted: 0, used: 97, limit: 100 });
    dbMock.on(GetItemCommand).resolves(usageItem(100, 100));
    expect(await meter().consumePredictions(1)).toEqual({ granted: 0, used: 100, limit: 100 });
  });

  it('backs off with jitter, growing, while its writes keep being refused (others counted meanwhile)', async () => {
    let writes = 0;
    // The first write finds a limit; the next two find others counted in the room meanwhile; the fourth counts.
    dbMock.on(UpdateItemCommand).callsFake(async () => {
      if (++writes <= 3) throw refused();
      return { Attributes: { predictions: { N: '12' } } };
    });
    dbMock.on(GetItemCommand).resolves(usageItem(10, 1000));
    const waits: number[] = [];
    expect(await meter(waits).consumePredictions(2)).toEqual({ granted: 2, used: 12, limit: 1000 });
    // No wait before the first look (the limit was unknown); then half (the jitter) of 10 ms x 2^attempt.
    expect(waits).toEqual([10, 20]);
    expect(reads()).toBe(3);
  });

  it('goes back to plain ADDs when the limit is lifted', async () => {
    const within = 'prediction_limit = :limit AND (attribute_not_exists(predictions) OR predictions <= :room)';
    dbMock.on(UpdateItemCommand, { ConditionExpression: 'attribute_not_exists(prediction_limit)' }).rejectsOnce(refused()).resolves({ Attributes: { predictions: { N: '3' } } });
    dbMock.on(UpdateItemCommand, { ConditionExpression: within }).resolvesOnce({ Attributes: { predictions: { N: '2' } } }).rejects(refused());
    dbMock.on(GetItemCommand).resolvesOnce(usageItem(0, 10)).resolves(usageItem(2));
    const m = meter();
    expect(await m.consumePredictions(2)).toEqual({ granted: 2, used: 2, limit: 10 });
    // The limit is gone: the write under the old one is refused, a look says so, and a plain ADD counts.
    expect(await m.consumePredictions(1)).toEqual({ granted: 1, used: 3 });
    expect(updates().map((u) => u.ConditionExpression)).toEqual(['attribute_not_exists(prediction_limit)', within, within, 'attribute_not_exists(prediction_limit)']);
  });
});
