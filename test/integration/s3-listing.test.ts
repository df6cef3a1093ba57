/** Listing past 1,000 keys on the embedded S3 through the SDK helper the stack uses (ListObjectsV2 continuation tokens). */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, describe, expect, it } from 'vitest';
import { listObjects } from '../../functions/scorer/store/s3-listing.js';
import { ensureBucket } from '../../infra/local/provision.js';
import { tempRoot } from '../support/model-dir.js';
import { startTestStack } from '../support/local-stack-harness.js';
import { MODELS_ROOT } from '../support/paths.js';

const root = tempRoot();
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('listing a bucket', () => {
  it('returns every key past the first page of 1,000', async () => {
    const stack = await startTestStack({ dataDir: join(root, 'data'), modelsRoot: MODELS_ROOT });
    try {
      await ensureBucket(stack.s3, 'many');
      const keys = Array.from({ length: 1050 }, (_, i) => `p/${String(i).padStart(5, '0')}.json`);
      for (let i = 0; i < keys.length; i += 25) {
        await Promise.all(keys.slice(i, i + 25).map((key) => stack.s3.send(new PutObjectCommand({ Bucket: 'many', Key: key, Body: '{}' }))));
      }
      const listed = await listObjects(stack.s3, 'many', 'p/');
      expect(listed.map((o) => o.Key)).toEqual(keys);
    } finally {
      await stack.close();
    }
  });
});
