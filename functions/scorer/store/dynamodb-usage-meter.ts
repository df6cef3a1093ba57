/**
 * The UsageMeter port on the deployments table: one item, id `__usage__`,
 * holding the instance's prediction count (`predictions`, of which
 * `online_predictions` were online) and limits.
 *
 * Counting is one atomic write, never a read-modify-write: without a limit,
 * `ADD predictions :n` (conditioned only on there being no limit); under a
 * limit L, `ADD predictions :n` conditioned on `predictions <= L - n` (a
 * condition cannot add, so the room is computed here). Concurrent scorers thus
 * never overshoot the limit, and conflict only when the count is really near
 * it, not whenever another scorer counted first. The limit is remembered per
 * meter (a Lambda container) once seen; a refused write reads the item once to
 * learn why (the limit changed, or only part of the request fits), then tries
 * what fits, backing off with jitter when the writes keep being refused.
 */
import { GetItemCommand, UpdateItemCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { isConditionFailure, unchangedNumber } from './dynamodb-conditions.js';
import type { PredictionOptions, PredictionQuota, UsageLimits, UsageMeter } from '../domain/ports.js';

export const USAGE_ITEM_ID = '__usage__';

const LIMIT_ATTRIBUTES: Record<keyof UsageLimits, string> = {
  modelCount: 'model_limit',
  deploymentCount: 'deployment_limit',
  predictionCount: 'prediction_limit',
};

// Refused counting writes before giving up (the event is then retried).
const MAX_ATTEMPTS = 10;
// Full jitter (a random wait up to base x 2^attempt, capped): concurrent scorers that collided spread out.
const BACKOFF_BASE_MS = 10;
const BACKOFF_CAP_MS = 500;

export interface UsageMeterTiming {
  readonly random?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

export function createDynamoDbUsageMeter(db: DynamoDBClient, tableName: string, timing: UsageMeterTiming = {}): UsageMeter {
  const key = { id: { S: USAGE_ITEM_ID } };
  const random = timing.random ?? Math.random;
  const sleep = timing.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  // The prediction limit as last seen by this meter; undefined: none seen.
  let knownLimit: number | undefined;

  async function read() {
    const item = (await db.send(new GetItemCommand({ TableName: tableName, Key: key, ConsistentRead: true }))).Item ?? {};
    const number = (attribute: AttributeValue | undefined) => (attribute?.N === undefined ? undefined : Number(attribute.N));
    const limits: Record<string, number> = {};
    for (const [field, attribute] of Object.entries(LIMIT_ATTRIBUTES)) {
      const value = number(item[attribute]);
      if (value !== undefined) limits[field] = value;
    }
    return { predictions: number(item['predictions']) ?? 0, onlinePredictions: number(item['online_predictions']) ?? 0, limits: limits as UsageLimits };
  }

  /** Adds `count` if the condition holds; the count after it, or undefined when refused. */
  async function add(count: number, online: boolean, condition: string, values: Record<string, AttributeValue>): Promise<number | undefined> {
    try {
      const response = await db.send(
        new UpdateItemCommand({
          TableName: tableName,
          Key: key,
          UpdateExpression: `ADD predictions :count${online ? ', online_predictions :count' : ''}`,
          ConditionExpression: condition,
          ExpressionAttributeValues: { ':count': { N: String(count) }, ...values },
          ReturnValues: 'UPDATED_NEW',
        }),
      );
      return Number(response.Attributes?.['predictions']?.N ?? count);
    } catch (error) {
      if (isConditionFailure(error)) return undefined;
      throw error;
    }
  }

  const addUnlimited = (count: number, online: boolean) => add(count, online, 'attribute_not_exists(prediction_limit)', {});
  // Room for `count` under `limit`: the count may be at most limit - count before adding.
  const addWithin = (count: number, limit: number, online: boolean) =>
    add(count, online, 'prediction_limit = :limit AND (attribute_not_exists(predictions) OR predictions <= :room)', { ':limit': { N: String(limit) }, ':room': { N: String(limit - count) } });

  return {
    read,

    async consumePredictions(count: number, options?: PredictionOptions): Promise<PredictionQuota> {
      const online = Boolean(options?.online);
      let limit = knownLimit;
      let grant = count;
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        const used = limit === undefined ? await addUnlimited(count, online) : await addWithin(grant, limit, online);
        if (used !== undefined) return limit === undefined ? { granted: count, used } : { granted: grant, used, limit };
        // Refused: a limit is set (or changed), or the count has no room for all of it. Look, then try what fits.
        if (attempt > 0) await sleep(random() * Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** attempt));
        const state = await read();
        limit = knownLimit = state.limits.predictionCount;
        if (limit === undefined) continue;
        const fits = Math.max(0, Math.min(count, limit - state.predictions));
        grant = options?.allOrNothing && fits < count ? 0 : fits;
        if (grant === 0) return { granted: 0, used: state.predictions, limit };
      }
      throw new Error(`the usage counter was refused ${MAX_ATTEMPTS} times while counting predictions; retrying the event`);
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

    async setBatchPredictions(batch: number, onlyIf?: number) {
      try {
        await db.send(
          new UpdateItemCommand({
            TableName: tableName,
            Key: key,
            UpdateExpression: 'SET predictions = if_not_exists(online_predictions, :zero) + :batch',
            ...(onlyIf === undefined ? {} : { ConditionExpression: unchangedNumber('predictions', ':was', onlyIf) }),
            ExpressionAttributeValues: { ':zero': { N: '0' }, ':batch': { N: String(batch) }, ...(onlyIf === undefined ? {} : { ':was': { N: String(onlyIf) } }) },
          }),
        );
        return true;
      } catch (error) {
        if (onlyIf !== undefined && isConditionFailure(error)) return false;
        throw error;
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
