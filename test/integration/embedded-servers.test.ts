import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, describe, expect, it } from 'vitest';
import { createDynamoDbClient, createS3Client } from '../../functions/scorer/store/aws-clients.js';
import { LOCAL_CREDENTIALS, LOCAL_HOST, startEmbeddedServers } from '../../infra/local/embedded-servers.js';

const root = mkdtempSync(join(tmpdir(), 'dropscore-servers-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('embedded servers (each in its own thread)', () => {
  it('serve S3 and DynamoDB through the edge and directly, and report S3 events to this thread, flushed on request', async () => {
    const servers = await startEmbeddedServers({ dataDir: join(root, 'a'), edgePort: 0 });
    try {
      const events: unknown[] = [];
      servers.onS3Event((event) => events.push(event));
      for (const endpoint of [servers.endpoint, servers.s3Endpoint]) {
        const s3 = createS3Client({ region: 'us-east-1', endpoint, credentials: LOCAL_CREDENTIALS });
        const bucket = endpoint === servers.endpoint ? 'via-edge' : 'direct';
        await s3.send(new CreateBucketCommand({ Bucket: bucket }));
        await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'a b.json', Body: '{}' }));
        s3.destroy();
      }
      for (const endpoint of [servers.endpoint, servers.dynamoDbEndpoint]) {
        const db = createDynamoDbClient({ region: 'us-east-1', endpoint, credentials: LOCAL_CREDENTIALS });
        expect((await db.send(new ListTablesCommand({}))).TableNames).toEqual([]);
        db.destroy();
      }
      // No waiting: once flushed, every answered request's event is here.
      await servers.flushS3Events();
      expect(events).toHaveLength(2);
      expect(JSON.stringify(events)).toContain('via-edge');
      expect(JSON.stringify(events)).toContain('direct');
    } finally {
      await servers.close();
    }
  });

  it('fail with the reason when the edge port is taken, and leave no server running', async () => {
    const taken: Server = createServer();
    await new Promise<void>((resolve) => taken.listen(0, LOCAL_HOST, resolve));
    const port = (taken.address() as { port: number }).port;
    try {
      await expect(startEmbeddedServers({ dataDir: join(root, 'b'), edgePort: port })).rejects.toThrow(`the embedded dynamodb+edge server did not start: edge port ${port}: listen EADDRINUSE: address already in use ${LOCAL_HOST}:${port}`);
    } finally {
      taken.close();
    }
    // The S3 thread was closed too, so the folder is free to serve again.
    const again = await startEmbeddedServers({ dataDir: join(root, 'b'), edgePort: 0 });
    await again.close();
  });
});
