/**
 * The UsageMeter port on the deployments table: one item, id `__usage__`,
 * holding the instance's prediction count and limits. A conditional update
 * counts a prediction only while the count is under the limit, so concurrent
 * scorers cannot overshoot it.
 */
import { ConditionalCheckFailedException, GetItemCommand, UpdateItemCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { PredictionQuota, UsageLimits, UsageMeter } from '../domain/ports.js';

export const USAGE_ITEM_ID = '__usage__';

const LIMIT_ATTRIBUTES: Record<keyof UsageLimits, string> = {
  modelCount: 'model_limit',
  deploymentCount: 'deployment_limit',
  predictionCount: 'prediction_limit',
};

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

    async consumePrediction(): Promise<PredictionQuota> {
      try {
        const response = await db.send(
          new UpdateItemCommand({
            TableName: tableName,
            Key: key,
            UpdateExpression: 'ADD predictions :one',
            ConditionExpression: 'attribute_not_exists(prediction_limit) OR predictions < prediction_limit',
            ExpressionAttributeValues: { ':one': { N: '1' } },
            ReturnValues: 'ALL_NEW',
          }),
        );
        const attributes = response.Attributes ?? {};
        const limit = attributes['prediction_limit']?.N;
        return { allowed: true, used: Number(attributes['predictions']?.N ?? 1), ...(limit === undefined ? {} : { limit: Number(limit) }) };
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException) && (error as { name?: string }).name !== 'ConditionalCheckFailedException') throw error;
        const { predictions, limits } = await read();
        return { allowed: false, used: predictions, limit: limits.predictionCount };
      }
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
