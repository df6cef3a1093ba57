/**
 * The InputLedger port on DynamoDB: one item per (deployment, input key, eTag).
 * Both transitions are single conditional writes, so concurrent deliveries of
 * one event agree on who counts it.
 */
import { ConditionalCheckFailedException, UpdateItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { ClaimState, InputLedger } from '../domain/ports.js';

// Redeliveries come within hours; a month of memory is ample, and TTL keeps the table small.
const RETENTION_SECONDS = 30 * 24 * 3600;

export function createDynamoDbInputLedger(db: DynamoDBClient, tableName: string, clock: () => Date = () => new Date()): InputLedger {
  const keyOf = (scope: string, key: string, eTag: string) => ({
    deployment_id: { S: scope },
    input: { S: `${eTag} ${key}` },
  });

  return {
    async claim(scope, key, eTag): Promise<ClaimState> {
      const now = clock();
      const response = await db.send(
        new UpdateItemCommand({
          TableName: tableName,
          Key: keyOf(scope, key, eTag),
          UpdateExpression: 'SET #state = if_not_exists(#state, :received), object_key = :key, etag = :etag, expires_at = :expires, claimed_at = :now',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: {
            ':received': { S: 'received' },
            ':key': { S: key },
            ':etag': { S: eTag },
            ':expires': { N: String(Math.floor(now.getTime() / 1000) + RETENTION_SECONDS) },
            ':now': { S: now.toISOString() },
          },
          ReturnValues: 'ALL_OLD',
        }),
      );
      const previous = response.Attributes?.['state']?.S;
      return previous === undefined ? 'new' : previous === 'done' ? 'done' : 'claimed';
    },

    async complete(scope, key, eTag, outcome) {
      try {
        await db.send(
          new UpdateItemCommand({
            TableName: tableName,
            Key: keyOf(scope, key, eTag),
            UpdateExpression: 'SET #state = :done, outcome = :outcome',
            ConditionExpression: 'attribute_exists(#state) AND #state <> :done',
            ExpressionAttributeNames: { '#state': 'state' },
            ExpressionAttributeValues: { ':done': { S: 'done' }, ':outcome': { S: outcome } },
          }),
        );
        return true;
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException || (error as { name?: string }).name === 'ConditionalCheckFailedException') return false;
        throw error;
      }
    },
  };
}
