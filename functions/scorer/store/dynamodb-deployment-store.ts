/**
 * The DeploymentStore port on DynamoDB. One item per deployment, keyed by `id`;
 * attribute names follow the batch-scoring service's snake_case
 * (`status_details`, `created_at`).
 */
import { GetItemCommand, ScanCommand, UpdateItemCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { isConditionFailure, unchangedNumber } from './dynamodb-conditions.js';
import type { AwsResources, Counters, DeploymentRecord, DeploymentStatus, DeploymentStore, NewDeployment } from '../domain/ports.js';

// Rounds of "live or new" then "deleted" before giving up (each lost only to a concurrent delete or create).
const UPSERT_ATTEMPTS = 3;

export function createDynamoDbDeploymentStore(db: DynamoDBClient, tableName: string, clock: () => Date = () => new Date()): DeploymentStore {
  const timestamp = (): AttributeValue => ({ S: clock().toISOString() });

  return {
    async upsert(d: NewDeployment) {
      const resources = resourceAttributes(d.awsResources);
      const binding =
        'SET #name = :name, description = :description, model = :model, framework = :framework, ' +
        'source_bucket = :sb, source_prefix = :sp, source_suffix = :ss, target_bucket = :tb, target_prefix = :tp, #status = :initializing, modified_at = :now' +
        (d.scoringUrl ? ', scoring_url = :url' : '') +
        Object.keys(resources).map((attribute) => `, ${attribute} = :${attribute}`).join('');
      const values: Record<string, AttributeValue> = {
        ':name': { S: d.name },
        ':description': { S: d.description },
        ':model': { S: d.model },
        ':framework': { S: d.framework },
        ':sb': { S: d.source.bucket },
        ':sp': { S: d.source.prefix },
        ':ss': { S: d.source.suffix ?? '' },
        ':tb': { S: d.target.bucket },
        ':tp': { S: d.target.prefix },
        ':initializing': { S: 'INITIALIZING' },
        ':deleted': { S: 'DELETED' },
        ':now': timestamp(),
        ':zero': { N: '0' },
        ...(d.scoringUrl ? { ':url': { S: d.scoringUrl } } : {}),
        ...Object.fromEntries(Object.entries(resources).map(([attribute, value]) => [`:${attribute}`, { S: value }])),
      };
      const update = (expression: string, condition: string, extra: Record<string, AttributeValue> = {}) =>
        db.send(new UpdateItemCommand({ TableName: tableName, Key: { id: { S: d.id } }, UpdateExpression: expression, ConditionExpression: condition, ExpressionAttributeNames: { '#name': 'name', '#status': 'status' }, ExpressionAttributeValues: { ...values, ...extra }, ReturnValues: 'ALL_NEW' }));
      // Each write checks the status it was chosen for: a delete between the two cannot mix a new life with old counters.
      for (let attempt = 0; attempt < UPSERT_ATTEMPTS; attempt++) {
        try {
          // New, or live (a redeploy, a restart): counters, creation time and last error stay.
          const created = 'created_at = if_not_exists(created_at, :now), received = if_not_exists(received, :zero), scored = if_not_exists(scored, :zero), failed = if_not_exists(failed, :zero)';
          // A deploy names all of its AWS resources: one it no longer has (a delivery queue after queued → direct) goes.
          const dropped = d.awsResources ? [...(d.scoringUrl ? [] : ['scoring_url']), ...Object.keys(RESOURCE_ATTRIBUTES).filter((a) => !(a in resources))] : [];
          return fromItem((await update(`${binding}, ${created} REMOVE ${['status_details', ...dropped].join(', ')}`, 'attribute_not_exists(id) OR #status <> :deleted')).Attributes!);
        } catch (error) {
          if (!isConditionFailure(error)) throw error;
        }
        try {
          // Deleted: the same name makes a new deployment, its next generation.
          const fresh = 'created_at = :now, received = :zero, scored = :zero, failed = :zero, generation = if_not_exists(generation, :zero) + :one';
          const stale = ['status_details', 'last_error', ...(d.scoringUrl ? [] : ['scoring_url']), ...Object.keys(RESOURCE_ATTRIBUTES).filter((a) => !(a in resources))].join(', ');
          return fromItem((await update(`${binding}, ${fresh} REMOVE ${stale}`, '#status = :deleted', { ':one': { N: '1' } })).Attributes!);
        } catch (error) {
          if (!isConditionFailure(error)) throw error;
        }
      }
      throw new Error(`deployment ${d.id} was deleted and created again ${UPSERT_ATTEMPTS} times while it was being written`);
    },

    async get(id) {
      const response = await db.send(new GetItemCommand({ TableName: tableName, Key: { id: { S: id } }, ConsistentRead: true }));
      return response.Item ? fromItem(response.Item) : undefined;
    },

    async list() {
      const records: DeploymentRecord[] = [];
      let start: Record<string, AttributeValue> | undefined;
      do {
        const page = await db.send(new ScanCommand({ TableName: tableName, ExclusiveStartKey: start, ConsistentRead: true }));
        // Items whose id starts with "__" hold instance state (usage), not deployments.
        records.push(...(page.Items ?? []).filter((item) => !item['id']?.S?.startsWith('__')).map(fromItem));
        start = page.LastEvaluatedKey;
      } while (start);
      return records.sort((a, b) => a.name.localeCompare(b.name));
    },

    async setStatus(id: string, status: DeploymentStatus, details?: string) {
      await db.send(
        new UpdateItemCommand({
          TableName: tableName,
          Key: { id: { S: id } },
          UpdateExpression: details === undefined
            ? 'SET #status = :status, modified_at = :now REMOVE status_details'
            : 'SET #status = :status, modified_at = :now, status_details = :details',
          ConditionExpression: 'attribute_exists(id)',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':status': { S: status }, ':now': timestamp(), ...(details === undefined ? {} : { ':details': { S: details } }) },
        }),
      );
    },

    async addCounters(id: string, delta: Partial<Counters>, lastError?: string) {
      const values: Record<string, AttributeValue> = { ':now': timestamp() };
      const adds: string[] = [];
      for (const name of ['received', 'scored', 'failed'] as const) {
        if (delta[name]) {
          adds.push(`${name} :${name}`);
          values[`:${name}`] = { N: String(delta[name]) };
        }
      }
      if (lastError !== undefined) values[':lastError'] = { S: lastError };
      await db.send(
        new UpdateItemCommand({
          TableName: tableName,
          Key: { id: { S: id } },
          UpdateExpression: `SET modified_at = :now${lastError === undefined ? '' : ', last_error = :lastError'}${adds.length ? ` ADD ${adds.join(', ')}` : ''}`,
          ConditionExpression: 'attribute_exists(id)',
          ExpressionAttributeValues: values,
        }),
      );
    },

    async setCounters(id: string, counters: Counters, onlyIf?: Counters) {
      const fields = ['received', 'scored', 'failed'] as const;
      const unchanged = onlyIf ? fields.map((f) => unchangedNumber(f, `:was_${f}`, onlyIf[f])) : [];
      try {
        await db.send(
          new UpdateItemCommand({
            TableName: tableName,
            Key: { id: { S: id } },
            UpdateExpression: 'SET received = :received, scored = :scored, failed = :failed',
            ConditionExpression: ['attribute_exists(id)', ...unchanged].join(' AND '),
            ExpressionAttributeValues: {
              ...Object.fromEntries(fields.map((f) => [`:${f}`, { N: String(counters[f]) }])),
              ...(onlyIf ? Object.fromEntries(fields.map((f) => [`:was_${f}`, { N: String(onlyIf[f]) }])) : {}),
            },
          }),
        );
        return true;
      } catch (error) {
        if (onlyIf && isConditionFailure(error)) return false;
        throw error;
      }
    },
  };
}

function fromItem(item: Record<string, AttributeValue>): DeploymentRecord {
  const s = (name: string): string => item[name]?.S ?? '';
  const n = (name: string): number => Number(item[name]?.N ?? '0');
  return {
    id: s('id'),
    name: s('name'),
    description: s('description'),
    model: s('model'),
    framework: s('framework'),
    source: { bucket: s('source_bucket'), prefix: s('source_prefix'), ...(item['source_suffix']?.S ? { suffix: s('source_suffix') } : {}) },
    target: { bucket: s('target_bucket'), prefix: s('target_prefix') },
    status: s('status') as DeploymentStatus,
    ...(item['status_details']?.S ? { statusDetails: s('status_details') } : {}),
    createdAt: s('created_at'),
    modifiedAt: s('modified_at'),
    counters: { received: n('received'), scored: n('scored'), failed: n('failed') },
    ...(item['last_error']?.S ? { lastError: s('last_error') } : {}),
    ...(item['scoring_url']?.S ? { scoringUrl: s('scoring_url') } : {}),
    ...(item['scorer_function']?.S
      ? {
          awsResources: {
            scorerFunction: s('scorer_function'),
            deadLetterQueueUrl: s('dead_letter_queue_url'),
            deadLetterQueueArn: s('dead_letter_queue_arn'),
            ...(item['delivery_queue_arn']?.S ? { deliveryQueueArn: s('delivery_queue_arn') } : {}),
          },
        }
      : {}),
    generation: n('generation'),
  };
}

const RESOURCE_ATTRIBUTES: Record<string, keyof AwsResources> = {
  scorer_function: 'scorerFunction',
  dead_letter_queue_url: 'deadLetterQueueUrl',
  dead_letter_queue_arn: 'deadLetterQueueArn',
  delivery_queue_arn: 'deliveryQueueArn',
};

/** The record's attributes for what is set of `resources`. */
function resourceAttributes(resources: AwsResources | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(RESOURCE_ATTRIBUTES).flatMap(([attribute, field]) => (resources?.[field] ? [[attribute, resources[field]!]] : [])));
}
