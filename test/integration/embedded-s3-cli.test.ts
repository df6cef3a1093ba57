/**
 * The aws CLI's large-file paths against the embedded S3, as a user drops big
 * bulk files: multipart upload, ranged download, multipart copy
 * (UploadPartCopy) and batch delete (DeleteObjects), bytes compared.
 */
import { execFile, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { LOCAL_CREDENTIALS } from '../../infra/local/auth/local-credentials.js';
import { ensureBucket } from '../../infra/local/provision.js';
import { startTestStack } from '../support/local-stack-harness.js';
import { tempRoot } from '../support/model-dir.js';
import { MODELS_ROOT } from '../support/paths.js';

const root = tempRoot();
afterAll(() => rmSync(root, { recursive: true, force: true }));
const awsCli = spawnSync('aws', ['--version']).status === 0;
const md5 = (bytes: Buffer) => createHash('md5').update(bytes).digest('hex');

describe('the aws CLI on the embedded S3', () => {
  it.skipIf(!awsCli)('uploads 20 MB in parts, downloads it in ranges, copies it in parts and removes it all (skipped only where no aws CLI is installed; .ci/run installs it)', async () => {
    const stack = await startTestStack({ dataDir: join(root, 'data'), modelsRoot: MODELS_ROOT });
    try {
      await ensureBucket(stack.s3, 'cli-big');
      const original = randomBytes(20_000_000);
      writeFileSync(join(root, 'big.bin'), original);
      const env = { ...process.env, AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey, AWS_DEFAULT_REGION: 'us-east-1', AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null' };
      const aws = async (...args: string[]) => (await promisify(execFile)('aws', ['--endpoint-url', stack.endpoint, ...args], { env, timeout: 120_000 })).stdout;
      await aws('s3', 'cp', join(root, 'big.bin'), 's3://cli-big/in/big.bin');
      await aws('s3', 'cp', 's3://cli-big/in/big.bin', join(root, 'back.bin'));
      expect(md5(readFileSync(join(root, 'back.bin')))).toBe(md5(original));
      await aws('s3', 'cp', 's3://cli-big/in/big.bin', 's3://cli-big/copy.bin');
      await aws('s3', 'cp', 's3://cli-big/copy.bin', join(root, 'copy.bin'));
      expect(md5(readFileSync(join(root, 'copy.bin')))).toBe(md5(original));
      // A multipart object's ETag is the MD5 of its parts' MD5s, with the part count.
      expect(JSON.parse(await aws('s3api', 'head-object', '--bucket', 'cli-big', '--key', 'in/big.bin')).ETag).toMatch(/^"[0-9a-f]{32}-\d+"$/);
      await aws('s3', 'rm', '--recursive', 's3://cli-big/');
      expect(JSON.parse(await aws('s3api', 'list-objects-v2', '--bucket', 'cli-big')).Contents ?? []).toEqual([]);
    } finally {
      await stack.close();
    }
  }, 120_000);
});
