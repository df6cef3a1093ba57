/**
 * The UsageMeter port on the deployments table: one item, id `__usage__`,
 * holding the instance's prediction count (`predictions`, of which
 * `online_predictions` were online) and limits. Under a limit, counts are
 * written with optimistic concurrency (only if unchanged since read), so
 * concurrent scorers cannot overshoot it.
 */
import { ConditionalCheckFailedException, GetItemCommand, UpdateItemCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { PredictionOptions, PredictionQuota, UsageLimits, UsageMeter } from '../domain/ports.js';

export const USAGE_ITEM_ID = '__usage__';

const LIMIT_ATTRIBUTES: Record<keyof UsageLimits, string> = {
  modelCount: 'model_limit',
  deploymentCount: 'deployment_limit',
  predictionCount: 'prediction_limit',
};

// Optimistic updates of the shared counter before giving up (the event is then retried).
const MAX_ATTEMPTS = 10;

function isConditionFailure(error: unknown): boolean {
  return error instanceof ConditionalCheckFailedException || (error as { name?: string }).name === 'ConditionalCheckFailedException';
}

export function createDynamoDbUsageMeter(db: DynamoDBClient, tableName: string): UsageMeter {
  const key = { id: { S: USAGE_ITEM_ID } };

  async function read() {
    const item = (await db.send(new GetItemCommand({ TableName: tableName, Key: key, ConsistentRead: true }))).Item ?? {};
    const number = (attribute: AttributeValue | undefined) => (attribute?.N === undefined ? undefined : Number(attribute.N));
    const limits: Record<string, number> = {};
    for (const [field, attribute] of Object.entries(LIMIT_ATTRIBUTES)) {
      const value = number(item[attribute]);
      if (value !== undefined) limits[field] = value;
    }
    return { predictions: number(item['predictions']) ?? 0, limits: limits as UsageLimits };
  }

  return {
    read,

    async consumePredictions(count: number, options?: PredictionOptions): Promise<PredictionQuota> {
      const online = options?.online ? ', online_predictions :count' : '';
      // Without a limit, one unconditional-in-effect ADD counts them.
      try {
        const response = await db.send(
          new UpdateItemCommand({
            TableName: tableName,
            Key: key,
            UpdateExpression: `ADD predictions :count${online}`,
            ConditionExpression: 'attribute_not_exists(prediction_limit)',
            ExpressionAttributeValues: { ':count': { N: String(count) } },
            ReturnValues: 'ALL_NEW',
          }),
        );
        return { granted: count, used: Number(response.Attributes?.['predictions']?.N ?? count) };
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
      }
      // With a limit: grant what fits, and write the new count only if nobody counted meanwhile.
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        const { predictions, limits } = await read();
        const limit = limits.predictionCount ?? Number.POSITIVE_INFINITY;
        const fits = Math.max(0, Math.min(count, limit - predictions));
        const granted = options?.allOrNothing && fits < count ? 0 : fits;
        if (granted === 0) return { granted, used: predictions, limit: limits.predictionCount };
        try {
          await db.send(
            new UpdateItemCommand({
              TableName: tableName,
              Key: key,
              UpdateExpression: `SET predictions = :next${options?.online ? ' ADD online_predictions :granted' : ''}`,
              ConditionExpression: 'predictions = :seen',
              ExpressionAttributeValues: {
                ':next': { N: String(predictions + granted) },
                ':seen': { N: String(predictions) },
                ...(options?.online ? { ':granted': { N: String(granted) } } : {}),
              },
            }),
          );
          return { granted, used: predictions + granted, limit: limits.predictionCount };
        } catch (error) {
          if (!isConditionFailure(error)) throw error;
        }
      }
      throw new Error(`the usage counter changed ${MAX_ATTEMPTS} times while counting predictions; retrying the event`);
    },

    async refundPredictions(count: number, options?: PredictionOptions) {
      await db.send(
        new UpdateItemCommand({
          TableName: tableName,
          Key: key,
          UpdateExpression: `ADD predictions :minus${options?.online ? ', online_predictions :minus' : ''}`,
          ExpressionAttributeValues: { ':minus': { N: String(-count) } },
        }),
      );
    },

    async setBatchPredictions(batch: number) {
      await db.send(
        new UpdateItemCommand({
          TableName: tableName,
          Key: key,
          UpdateExpression: 'SET predictions = if_not_exists(online_predictions, :zero) + :batch',
          ExpressionAttributeValues: { ':zero': { N: '0' }, ':batch': { N: String(batch) } },
        }),
      );
    },

    async setLimits(limits: UsageLimits) {
      const sets: string[] = ['predictions = if_not_exists(predictions, :zero)'];
      const removes: string[] = [];
      const values: Record<string, AttributeValue> = { ':zero': { N: '0' } };
      for (const [field, attribute] of Object.entries(LIMIT_ATTRIBUTES) as [keyof UsageLimits, string][]) {
        const value = limits[field];
        if (value === undefined) removes.push(attribute);
        else {
          sets.push(`${attribute} = :${attribute}`);
          values[`:${attribute}`] = { N: String(value) };
        }
      }
      await db.send(
        new UpdateItemCommand({
          TableName: tableName,
          Key: key,
          UpdateExpression: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
          ExpressionAttributeValues: values,
        }),
      );
    },
  };
}
