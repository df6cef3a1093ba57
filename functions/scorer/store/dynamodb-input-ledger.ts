/**
 * The InputLedger port on DynamoDB: one item per (ledger scope, input key),
 * with one attribute per version (eTag) of the key a scorer claimed:
 * "received" until its outcome is written, then "scored" or "failed".
 *
 * Each transition is a single conditional write, so concurrent deliveries of
 * one event agree on who counts it. Keeping every version of a key in one item
 * lets completing a version tell, for free, whether any other version of the
 * key was claimed beside it (see InputLedger.complete).
 *
 * The same writes keep the item's running totals (`n_received`, `n_scored`,
 * `n_failed`), which survive the forgetting of old versions: summed over the
 * table, they are what the deployments' counters must say, whatever crash
 * fell between a ledger write and a counter write.
 */
import { GetItemCommand, ScanCommand, UpdateItemCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { isConditionFailure } from './dynamodb-conditions.js';
import { ownerOfScope } from '../domain/ledger-scope.js';
import type { ClaimState, Completion, InputLedger, LedgerTally } from '../domain/ports.js';

const VERSION_PREFIX = 'version ';
const RECEIVED = 'received';
/**
 * A key overwritten again and again (a `latest.json`) would grow its item towards
 * DynamoDB's 400 KB limit: from this many versions on, completing a version forgets
 * the finished ones other than its own. A redelivered event reads the key's current
 * object, so an old finished version is only ever claimed again by a new put of
 * identical bytes, which is then scored and counted as the new input it is.
 * Forgetting happens on completion, never on claim: a version still in flight then
 * always finds, on completing, either the forgetter's version or (if the forgetter
 * was another delivery of itself) a refused completion, and checks for an overwrite.
 */
const PRUNE_FROM_VERSIONS = 16;

type Item = Record<string, AttributeValue>;

export function createDynamoDbInputLedger(db: DynamoDBClient, tableName: string): InputLedger {
  const keyOf = (scope: string, key: string) => ({ deployment_id: { S: scope }, input: { S: key } });

  /** Best effort: a failure leaves the versions for the next claim to forget. */
  async function forgetFinished(scope: string, key: string, versions: readonly string[]): Promise<void> {
    const names = Object.fromEntries(versions.map((version, i) => [`#v${i}`, version]));
    const placeholders = Object.keys(names);
    try {
      await db.send(
        new UpdateItemCommand({
          TableName: tableName,
          Key: keyOf(scope, key),
          UpdateExpression: `REMOVE ${placeholders.join(', ')}`,
          // A version claimed again meanwhile (identical bytes put anew) is in use: keep everything then.
          ConditionExpression: placeholders.map((p) => `${p} <> :received`).join(' AND '),
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: { ':received': { S: RECEIVED } },
        }),
      );
    } catch {
      // The completion itself succeeded and must be reported as such (its caller counts the input once).
    }
  }

  return {
    async claim(scope, key, eTag, received = 1): Promise<ClaimState> {
      const version = VERSION_PREFIX + eTag;
      try {
        await db.send(
          new UpdateItemCommand({
            TableName: tableName,
            Key: keyOf(scope, key),
            // Items are kept for good: their totals are what a recount sums, and a TTL would take them away.
            // An item written when claims still set an expiry (`expires_at`) loses it when claimed again.
            UpdateExpression: 'SET #version = :received REMOVE expires_at ADD n_received :one',
            ConditionExpression: 'attribute_not_exists(#version)',
            ExpressionAttributeNames: { '#version': version },
            ExpressionAttributeValues: {
              ':received': { S: RECEIVED },
              ':one': { N: String(received) },
            },
          }),
        );
        return 'new';
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
      }
      // Seen before (a redelivery): read where it stands.
      const { Item } = await db.send(new GetItemCommand({ TableName: tableName, Key: keyOf(scope, key), ConsistentRead: true, ProjectionExpression: '#version', ExpressionAttributeNames: { '#version': version } }));
      return Item?.[version]?.S === RECEIVED ? 'claimed' : 'done';
    },

    async release(scope, key, eTag) {
      try {
        await db.send(
          new UpdateItemCommand({
            TableName: tableName,
            Key: keyOf(scope, key),
            UpdateExpression: 'REMOVE #version ADD n_received :minus_one',
            ConditionExpression: '#version = :received',
            ExpressionAttributeNames: { '#version': VERSION_PREFIX + eTag },
            ExpressionAttributeValues: { ':received': { S: RECEIVED }, ':minus_one': { N: '-1' } },
          }),
        );
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
      }
    },

    async complete(scope, key, eTag, outcome, tally): Promise<Completion> {
      const version = VERSION_PREFIX + eTag;
      // A bulk file adds its records' counts; a record file, one input.
      const totals: { UpdateExpression: string; values: Record<string, AttributeValue> } = tally
        ? { UpdateExpression: 'SET #version = :outcome ADD n_received :received_n, n_scored :scored_n, n_failed :failed_n', values: { ':received_n': { N: String(tally.received) }, ':scored_n': { N: String(tally.scored) }, ':failed_n': { N: String(tally.failed) } } }
        : { UpdateExpression: `SET #version = :outcome ADD ${outcome === 'scored' ? 'n_scored' : 'n_failed'} :one`, values: { ':one': { N: '1' } } };
      try {
        const response = await db.send(
          new UpdateItemCommand({
            TableName: tableName,
            Key: keyOf(scope, key),
            UpdateExpression: totals.UpdateExpression,
            ConditionExpression: '#version = :received',
            ExpressionAttributeNames: { '#version': version },
            ExpressionAttributeValues: { ':outcome': { S: outcome }, ':received': { S: RECEIVED }, ...totals.values },
            ReturnValues: 'ALL_NEW',
          }),
        );
        const after = response.Attributes ?? {};
        const others = versionsOf(after).filter((v) => v !== version);
        if (others.length + 1 >= PRUNE_FROM_VERSIONS) {
          const finished = others.filter((v) => after[v]?.S !== RECEIVED);
          if (finished.length > 0) await forgetFinished(scope, key, finished);
        }
        return { counted: true, otherVersionClaimed: others.length > 0 };
      } catch (error) {
        // Another delivery finished it; what else the item holds is unknown here.
        if (isConditionFailure(error)) return { counted: false, otherVersionClaimed: true };
        throw error;
      }
    },

    async tallies() {
      const totals = new Map<string, { received: number; scored: number; failed: number }>();
      let start: Record<string, AttributeValue> | undefined;
      do {
        const page = await db.send(new ScanCommand({ TableName: tableName, ExclusiveStartKey: start, ConsistentRead: true, ProjectionExpression: 'deployment_id, n_received, n_scored, n_failed' }));
        for (const item of page.Items ?? []) {
          const id = ownerOfScope(item['deployment_id']?.S ?? '');
          const total = totals.get(id) ?? { received: 0, scored: 0, failed: 0 };
          total.received += Number(item['n_received']?.N ?? 0);
          total.scored += Number(item['n_scored']?.N ?? 0);
          total.failed += Number(item['n_failed']?.N ?? 0);
          totals.set(id, total);
        }
        start = page.LastEvaluatedKey;
      } while (start);
      return totals as ReadonlyMap<string, LedgerTally>;
    },
  };
}

function versionsOf(item: Item): string[] {
  return Object.keys(item).filter((name) => name.startsWith(VERSION_PREFIX));
}
