/**
 * The DynamoDB input ledger against the embedded DynamoDB (dynalite): who
 * counts a version, what completing tells about other versions of the key,
 * and how an often-overwritten key's item stays small.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetItemCommand, UpdateItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InputLedger } from '../../functions/scorer/domain/ports.js';
import { createDynamoDbClient } from '../../functions/scorer/store/aws-clients.js';
import { createDynamoDbInputLedger } from '../../functions/scorer/store/dynamodb-input-ledger.js';
import { LOCAL_CREDENTIALS } from '../../infra/local/auth/local-credentials.js';
import { startEmbeddedServers, type EmbeddedServers } from '../../infra/local/embedded-servers.js';
import { DEFAULT_TABLES, ensureTables } from '../../infra/local/provision.js';

const root = mkdtempSync(join(tmpdir(), 'dropscore-ledger-'));
let servers: EmbeddedServers;
let db: DynamoDBClient;
let ledger: InputLedger;

beforeAll(async () => {
  servers = await startEmbeddedServers({ dataDir: root, edgePort: 0, keys: LOCAL_CREDENTIALS, region: 'us-east-1' });
  db = createDynamoDbClient({ region: 'us-east-1', endpoint: servers.dynamoDbEndpoint, credentials: LOCAL_CREDENTIALS });
  await ensureTables(db, DEFAULT_TABLES);
  ledger = createDynamoDbInputLedger(db, DEFAULT_TABLES.ledgerTable);
});

afterAll(async () => {
  db.destroy();
  await servers.close();
  rmSync(root, { recursive: true, force: true });
});

async function versionsStored(scope: string, key: string): Promise<string[]> {
  const { Item } = await db.send(new GetItemCommand({ TableName: DEFAULT_TABLES.ledgerTable, Key: { deployment_id: { S: scope }, input: { S: key } } }));
  return Object.keys(Item ?? {}).filter((name) => name.startsWith('version ')).sort();
}

describe('DynamoDB input ledger', () => {
  it('lets exactly one of two deliveries of a version count it', async () => {
    expect(await ledger.claim('dep#a', 'x.json', '"e1"')).toBe('new');
    expect(await ledger.claim('dep#a', 'x.json', '"e1"')).toBe('claimed');
    const [first, second] = await Promise.all([ledger.complete('dep#a', 'x.json', '"e1"', 'scored'), ledger.complete('dep#a', 'x.json', '"e1"', 'scored')]);
    expect([first.counted, second.counted].sort()).toEqual([false, true]);
    expect(await ledger.claim('dep#a', 'x.json', '"e1"')).toBe('done');
  });

  it('never counts a version nobody claimed', async () => {
    expect(await ledger.complete('dep#a', 'unclaimed.json', '"e1"', 'failed')).toEqual({ counted: false, otherVersionClaimed: true });
  });

  it('says, on completing, whether another version of the key was claimed: the only case needing an overwrite check', async () => {
    await ledger.claim('dep#b', 'k.json', '"v1"');
    expect(await ledger.complete('dep#b', 'k.json', '"v1"', 'scored')).toEqual({ counted: true, otherVersionClaimed: false });

    // A stale reader: it read v2, then v3 was put, claimed and finished before v2 finishes.
    await ledger.claim('dep#b', 'k.json', '"v2"');
    await ledger.claim('dep#b', 'k.json', '"v3"');
    expect(await ledger.complete('dep#b', 'k.json', '"v3"', 'scored')).toEqual({ counted: true, otherVersionClaimed: true });
    expect(await ledger.complete('dep#b', 'k.json', '"v2"', 'failed')).toEqual({ counted: true, otherVersionClaimed: true });
  });

  it('counts a bulk file in records: none on the claim, its tally once on completion', async () => {
    expect(await ledger.claim('dep-bulk#m#t', 'big.jsonl', '"b1"', 0)).toBe('new');
    expect((await ledger.tallies()).get('dep-bulk')).toEqual({ received: 0, scored: 0, failed: 0 });
    const tally = { received: 7, scored: 5, failed: 2 };
    const [first, second] = await Promise.all([ledger.complete('dep-bulk#m#t', 'big.jsonl', '"b1"', 'scored', tally), ledger.complete('dep-bulk#m#t', 'big.jsonl', '"b1"', 'scored', tally)]);
    expect([first.counted, second.counted].sort()).toEqual([false, true]);
    expect((await ledger.tallies()).get('dep-bulk')).toEqual(tally);
    expect(await ledger.claim('dep-bulk#m#t', 'big.jsonl', '"b1"', 0)).toBe('done');
  });

  it('releases a claim still in flight (and what it counted), so the next claim is new; never one already finished', async () => {
    expect(await ledger.claim('released#r', 'r.json', '"e1"')).toBe('new');
    await ledger.release('released#r', 'r.json', '"e1"');
    expect(await versionsStored('released#r', 'r.json')).toEqual([]);
    expect(await ledger.claim('released#r', 'r.json', '"e1"')).toBe('new');
    expect(await ledger.complete('released#r', 'r.json', '"e1"', 'scored')).toMatchObject({ counted: true });
    await ledger.release('released#r', 'r.json', '"e1"');
    expect(await ledger.claim('released#r', 'r.json', '"e1"')).toBe('done');
    expect((await ledger.tallies()).get('released')).toEqual({ received: 1, scored: 1, failed: 0 });
  });

  it('keeps its items for good (their totals are what a recount sums): a claim takes away an expiry an older release set', async () => {
    const key = { deployment_id: { S: 'kept#k' }, input: { S: 'k.json' } };
    await db.send(new UpdateItemCommand({ TableName: DEFAULT_TABLES.ledgerTable, Key: key, UpdateExpression: 'SET expires_at = :soon ADD n_received :one', ExpressionAttributeValues: { ':soon': { N: '1700000000' }, ':one': { N: '1' } } }));
    expect(await ledger.claim('kept#k', 'k.json', '"e2"')).toBe('new');
    const { Item } = await db.send(new GetItemCommand({ TableName: DEFAULT_TABLES.ledgerTable, Key: key }));
    expect(Item?.['expires_at']).toBeUndefined();
    expect(Item?.['n_received']).toEqual({ N: '2' });
  });

  it('keeps scopes and keys apart', async () => {
    await ledger.claim('dep#c', 'one.json', '"same"');
    expect(await ledger.claim('dep#c', 'two.json', '"same"')).toBe('new');
    expect(await ledger.claim('dep#c2', 'one.json', '"same"')).toBe('new');
    expect(await ledger.complete('dep#c', 'one.json', '"same"', 'scored')).toEqual({ counted: true, otherVersionClaimed: false });
  });

  it('forgets the finished versions of a key overwritten many times, never one in flight', async () => {
    await ledger.claim('dep#d', 'latest.json', '"in-flight"');
    for (let i = 0; i < 14; i++) {
      await ledger.claim('dep#d', 'latest.json', `"old-${i}"`);
      await ledger.complete('dep#d', 'latest.json', `"old-${i}"`, 'scored');
    }
    expect(await versionsStored('dep#d', 'latest.json')).toHaveLength(15);
    // The sixteenth version's completion forgets the finished others.
    await ledger.claim('dep#d', 'latest.json', '"newest"');
    expect(await ledger.complete('dep#d', 'latest.json', '"newest"', 'scored')).toEqual({ counted: true, otherVersionClaimed: true });
    expect(await versionsStored('dep#d', 'latest.json')).toEqual(['version "in-flight"', 'version "newest"']);
    // The one in flight still counts, and still learns that another version was claimed.
    expect(await ledger.complete('dep#d', 'latest.json', '"in-flight"', 'scored')).toEqual({ counted: true, otherVersionClaimed: true });
    expect(await ledger.claim('dep#d', 'latest.json', '"newest"')).toBe('done');
  });
});
