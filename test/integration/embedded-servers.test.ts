import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, describe, expect, it } from 'vitest';
import { createDynamoDbClient, createS3Client } from '../../functions/scorer/store/aws-clients.js';
import { LOCAL_CREDENTIALS } from '../../infra/local/auth/local-credentials.js';
import { LOCAL_HOST, startEmbeddedServers } from '../../infra/local/embedded-servers.js';

const root = mkdtempSync(join(tmpdir(), 'dropscore-servers-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('embedded servers (each in its own thread)', () => {
  it('serve S3 and DynamoDB through the edge and directly, and report S3 events to this thread, flushed on request', async () => {
    const servers = await startEmbeddedServers({ dataDir: join(root, 'a'), edgePort: 0, keys: LOCAL_CREDENTIALS, region: 'us-east-1' });
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

  it('read and write each object atomically, as S3 does: a GET racing PUTs of its key gets one version whole', async () => {
    const servers = await startEmbeddedServers({ dataDir: join(root, 'c'), edgePort: 0, keys: LOCAL_CREDENTIALS, region: 'us-east-1' });
    const s3 = createS3Client({ region: 'us-east-1', endpoint: servers.s3Endpoint, credentials: LOCAL_CREDENTIALS });
    try {
      await s3.send(new CreateBucketCommand({ Bucket: 'race' }));
      // Versions of different sizes, so a torn read shows in the length as well as the MD5.
      const versions = Array.from({ length: 6 }, (_, i) => 'x'.repeat(1000 * (i + 1)));
      await s3.send(new PutObjectCommand({ Bucket: 'race', Key: 'k', Body: versions[0] }));
      const reads: { eTag: string; body: Uint8Array }[] = [];
      await Promise.all([
        ...Array.from({ length: 60 }, (_, i) => s3.send(new PutObjectCommand({ Bucket: 'race', Key: 'k', Body: versions[i % versions.length] }))),
        ...Array.from({ length: 60 }, async () => {
          const object = await s3.send(new GetObjectCommand({ Bucket: 'race', Key: 'k' }));
          reads.push({ eTag: object.ETag!, body: await object.Body!.transformToByteArray() });
        }),
      ]);
      for (const { eTag, body } of reads) expect(eTag).toBe(`"${createHash('md5').update(body).digest('hex')}"`);
      const { Metadata } = await s3.send(new HeadObjectCommand({ Bucket: 'race', Key: 'k' }));
      expect(Metadata).toEqual({});
    } finally {
      s3.destroy();
      await servers.close();
    }
  });

  it('fail with the reason when the edge port is taken, and leave no server running', async () => {
    const taken: Server = createServer();
    await new Promise<void>((resolve) => taken.listen(0, LOCAL_HOST, resolve));
    const port = (taken.address() as { port: number }).port;
    try {
      await expect(startEmbeddedServers({ dataDir: join(root, 'b'), edgePort: port, keys: LOCAL_CREDENTIALS, region: 'us-east-1' })).rejects.toThrow(`the embedded dynamodb+edge server did not start: edge port ${port}: listen EADDRINUSE: address already in use ${LOCAL_HOST}:${port}`);
    } finally {
      taken.close();
    }
    // The S3 thread was closed too, so the folder is free to serve again.
    const again = await startEmbeddedServers({ dataDir: join(root, 'b'), edgePort: 0, keys: LOCAL_CREDENTIALS, region: 'us-east-1' });
    await again.close();
  });
});
