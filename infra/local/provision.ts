/**
 * Creates what a deployment needs on an S3/DynamoDB endpoint, idempotently:
 * the two tables and the source and target buckets. Used by the embedded stack
 * (and by anything pointing at LocalStack), never on the AWS path, where CDK owns these.
 */
import { CreateTableCommand, DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';

export interface TableNames {
  readonly deploymentsTable: string;
  readonly ledgerTable: string;
}

export const DEFAULT_TABLES: TableNames = Object.freeze({ deploymentsTable: 'dropscore-deployments', ledgerTable: 'dropscore-ledger' });

export async function ensureTables(db: DynamoDBClient, tables: TableNames): Promise<void> {
  await createTableIfMissing(db, tables.deploymentsTable, [{ name: 'id', keyType: 'HASH' }]);
  await createTableIfMissing(db, tables.ledgerTable, [
    { name: 'deployment_id', keyType: 'HASH' },
    { name: 'input', keyType: 'RANGE' },
  ]);
  // A table answers reads only once ACTIVE (a scan of a CREATING table is "not found").
  for (const name of [tables.deploymentsTable, tables.ledgerTable]) await waitUntilActive(db, name);
}

const ACTIVE_WAIT_MS = 10_000;

async function waitUntilActive(db: DynamoDBClient, name: string): Promise<void> {
  const deadline = Date.now() + ACTIVE_WAIT_MS;
  for (;;) {
    const { Table } = await db.send(new DescribeTableCommand({ TableName: name }));
    if (Table?.TableStatus === 'ACTIVE') return;
    if (Date.now() > deadline) throw new Error(`table ${name} is still ${Table?.TableStatus} after ${ACTIVE_WAIT_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export async function ensureBucket(s3: S3Client, bucket: string): Promise<void> {
  try {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  } catch (error) {
    const name = (error as { name?: string }).name;
    if (name !== 'BucketAlreadyOwnedByYou' && name !== 'BucketAlreadyExists') throw error;
  }
}

async function createTableIfMissing(db: DynamoDBClient, name: string, keys: { name: string; keyType: 'HASH' | 'RANGE' }[]): Promise<void> {
  try {
    await db.send(
      new CreateTableCommand({
        TableName: name,
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: keys.map((k) => ({ AttributeName: k.name, KeyType: k.keyType })),
        AttributeDefinitions: keys.map((k) => ({ AttributeName: k.name, AttributeType: 'S' })),
      }),
    );
  } catch (error) {
    if ((error as { name?: string }).name !== 'ResourceInUseException') throw error;
  }
}
