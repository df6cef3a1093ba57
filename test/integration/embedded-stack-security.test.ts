/**
 * The embedded stack is as strict as AWS and cannot be used to touch what it
 * should not: every reproduction of issue 15 against the real servers on
 * 127.0.0.1, signed by the SDK, unsigned by raw HTTP, posted as a web page
 * would, with keys built to escape, and with a streamed 1 GiB body.
 */
import { spawnSync, execFile } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { CompleteMultipartUploadCommand, CreateBucketCommand, CreateMultipartUploadCommand, GetObjectCommand, UploadPartCommand, HeadObjectCommand, ListObjectsCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamoDbClient, createS3Client } from '../../functions/scorer/store/aws-clients.js';
import { LOCAL_CREDENTIALS } from '../../infra/local/auth/local-credentials.js';
import type { LocalStack } from '../../infra/local/local-stack.js';
import { parseDeploymentsManifest } from '../../infra/manifest/deployments-manifest.js';
import { drop, exists, outcomeOf, readOutcome, startTestStack } from '../support/local-stack-harness.js';
import { tempRoot } from '../support/model-dir.js';
import { MODELS_ROOT, REPO_ROOT } from '../support/paths.js';
import { presign, send, signedRequest } from '../support/raw-http.js';

// The stack's own folder holds nothing but its data folder: whatever else appears there escaped it.
const root = tempRoot();
const dataDir = join(root, 'data');
const scratch = tempRoot();
const record = readFileSync(join(REPO_ROOT, 'samples/mnist-onnx/seven-drawn.json'));
const [spec] = parseDeploymentsManifest({ deployments: [{ name: 'sec', model: 'mnist-cnn-onnx', source: { bucket: 'sec-in' }, target: { bucket: 'sec-out' } }] }, 'test').deployments;
let stack: LocalStack;

beforeAll(async () => {
  stack = await startTestStack({ dataDir, modelsRoot: MODELS_ROOT });
  await stack.deploy(spec!);
  await drop(stack, 'sec-in', 'real.json', record);
  await outcomeOf(stack, 'sec-out', 'real.json');
});
afterAll(async () => {
  await stack?.close();
  rmSync(root, { recursive: true, force: true });
  rmSync(scratch, { recursive: true, force: true });
});

const s3With = (keys: { accessKeyId: string; secretAccessKey: string }): S3Client => createS3Client({ region: 'us-east-1', endpoint: stack.endpoint, credentials: keys });
const dbWith = (keys: { accessKeyId: string; secretAccessKey: string }): DynamoDBClient => createDynamoDbClient({ region: 'us-east-1', endpoint: stack.endpoint, credentials: keys });
const errorCode = (xml: string) => /<Code>([^<]+)<\/Code>/.exec(xml)?.[1];

async function sdkError(work: Promise<unknown>): Promise<string> {
  try {
    await work;
  } catch (error) {
    return (error as { name: string }).name;
  }
  throw new Error('the request was accepted');
}

describe('authentication: only requests signed with the stack\'s key pair', () => {
  it('refuses a wrong secret or an unknown key (SDK), and stores nothing', async () => {
    const wrongSecret = s3With({ ...LOCAL_CREDENTIALS, secretAccessKey: 'WRONG' });
    expect(await sdkError(wrongSecret.send(new PutObjectCommand({ Bucket: 'sec-in', Key: 'w.json', Body: record })))).toBe('SignatureDoesNotMatch');
    const unknownKey = s3With({ accessKeyId: 'EVIL', secretAccessKey: 'EVIL' });
    expect(await sdkError(unknownKey.send(new GetObjectCommand({ Bucket: 'sec-out', Key: 'real.json' })))).toBe('InvalidAccessKeyId');
    await stack.idle();
    expect(await exists(stack, 'sec-in', 'w.json')).toBe(false);
    expect(await exists(stack, 'sec-out', 'w.json')).toBe(false);
  });

  it('refuses unsigned requests with AccessDenied: no PUT, no GET, no DELETE of an outcome', async () => {
    const put = await send(stack.endpoint, { method: 'PUT', path: '/sec-in/unsigned.json', body: record });
    expect([put.status, errorCode(put.body)]).toEqual([403, 'AccessDenied']);
    const get = await send(stack.endpoint, { method: 'GET', path: '/sec-out/real.json' });
    expect([get.status, errorCode(get.body)]).toEqual([403, 'AccessDenied']);
    const del = await send(stack.endpoint, { method: 'DELETE', path: '/sec-out/real.json' });
    expect([del.status, errorCode(del.body)]).toEqual([403, 'AccessDenied']);
    expect(await exists(stack, 'sec-out', 'real.json')).toBe(true);
    expect(await exists(stack, 'sec-in', 'unsigned.json')).toBe(false);
  });

  it('refuses a body other than the one signed, and keeps nothing of it', async () => {
    const tampered = await signedRequest(stack.endpoint, LOCAL_CREDENTIALS, { method: 'PUT', path: '/sec-in/tampered.json', body: '{"values": [1]}' }, { body: '{"values": [2]}' });
    expect([tampered.status, errorCode(tampered.body)]).toEqual([400, 'XAmzContentSHA256Mismatch']);
    expect(await exists(stack, 'sec-in', 'tampered.json')).toBe(false);
  });

  it('accepts presigned URLs within their time, refuses them altered or expired', async () => {
    const url = await presign(stack.endpoint, LOCAL_CREDENTIALS, 'GET', '/sec-out/real.json', 60);
    expect((await send(stack.endpoint, { method: 'GET', path: url })).status).toBe(200);
    const altered = url.replace('/sec-out/real.json', '/sec-in/real.json');
    expect(errorCode((await send(stack.endpoint, { method: 'GET', path: altered })).body)).toBe('SignatureDoesNotMatch');
    const expired = await presign(stack.endpoint, LOCAL_CREDENTIALS, 'GET', '/sec-out/real.json', 60, new Date(Date.now() - 120_000));
    const late = await send(stack.endpoint, { method: 'GET', path: expired });
    expect([late.status, errorCode(late.body), /<Message>([^<]*)</.exec(late.body)?.[1]]).toEqual([403, 'AccessDenied', 'Request has expired']);
  });

  it('DynamoDB: refuses other keys, a wrong secret and unsigned calls with DynamoDB\'s own errors', async () => {
    const scan = (db: DynamoDBClient) => sdkError(db.send(new ScanCommand({ TableName: 'dropscore-ledger' })));
    expect(await scan(dbWith({ accessKeyId: 'EVIL', secretAccessKey: 'EVIL' }))).toBe('UnrecognizedClientException');
    expect(await scan(dbWith({ ...LOCAL_CREDENTIALS, secretAccessKey: 'WRONG' }))).toBe('InvalidSignatureException');
    const unsigned = await send(stack.endpoint, { method: 'POST', path: '/', headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'DynamoDB_20120810.Scan' }, body: '{"TableName":"dropscore-ledger"}' });
    expect([unsigned.status, JSON.parse(unsigned.body).__type]).toEqual([400, 'com.amazonaws.dynamodb.v20120810#MissingAuthenticationTokenException']);
    const items = (await dbWith(LOCAL_CREDENTIALS).send(new ScanCommand({ TableName: 'dropscore-ledger' }))).Items;
    expect(items?.length).toBeGreaterThan(0);
  });

  const awsCli = spawnSync('aws', ['--version']).status === 0;
  it.skipIf(!awsCli)('the aws CLI with a wrong secret, or unsigned, is refused (skipped only where no aws CLI is installed; .ci/run installs it)', async () => {
    const file = join(scratch, 'cli.json');
    const base = { ...process.env, AWS_DEFAULT_REGION: 'us-east-1', AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null', AWS_EC2_METADATA_DISABLED: 'true' };
    const aws = (env: Record<string, string | undefined>, ...args: string[]) => promisify(execFile)('aws', ['--endpoint-url', stack.endpoint, ...args], { env: { ...base, ...env }, timeout: 60_000 });
    writeFileSync(file, record);
    await expect(aws({ AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: 'WRONG' }, 's3', 'cp', file, 's3://sec-in/w.json')).rejects.toMatchObject({ stderr: expect.stringContaining('SignatureDoesNotMatch') });
    await expect(aws({}, '--no-sign-request', 's3', 'cp', file, 's3://sec-in/w.json')).rejects.toMatchObject({ stderr: expect.stringContaining('AccessDenied') });
    expect(await exists(stack, 'sec-in', 'w.json')).toBe(false);
  });
});

describe('web pages cannot reach the stack', () => {
  const form = (bucket: string, key: string, body: string) => {
    const boundary = 'dropscoreboundary';
    const payload = `--${boundary}\r\nContent-Disposition: form-data; name="key"\r\n\r\n${key}\r\n--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="f.json"\r\nContent-Type: application/json\r\n\r\n${body}\r\n--${boundary}--\r\n`;
    return send(stack.endpoint, { method: 'POST', path: `/${bucket}`, headers: { origin: 'http://evil.example', 'content-type': `multipart/form-data; boundary=${boundary}` }, body: payload });
  };

  it('refuses a cross-site form POST to a source or a target bucket, and nothing is written or scored', async () => {
    const before = (await readOutcome(stack, 'sec-out', 'real.json'))!.body;
    for (const [bucket, key] of [['sec-in', 'x.json'], ['sec-out', 'real.json']] as const) {
      const response = await form(bucket, key, '{"tampered": true}');
      expect([response.status, errorCode(response.body)]).toEqual([403, 'AccessDenied']);
    }
    await stack.idle();
    expect(await exists(stack, 'sec-in', 'x.json')).toBe(false);
    expect((await readOutcome(stack, 'sec-out', 'real.json'))!.body).toBe(before);
  });

  it('answers no CORS preflight, and refuses a signed request from a page (Origin) or for another host (DNS rebinding)', async () => {
    const preflight = await send(stack.endpoint, { method: 'OPTIONS', path: '/sec-in/x.json', headers: { origin: 'http://evil.example', 'access-control-request-method': 'PUT' } });
    expect(preflight.status).toBe(403);
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
    const fromPage = await signedRequest(stack.endpoint, LOCAL_CREDENTIALS, { method: 'GET', path: '/sec-out/real.json', headers: { origin: 'http://evil.example' } });
    expect([fromPage.status, errorCode(fromPage.body)]).toEqual([403, 'AccessDenied']);
    const rebound = await signedRequest(stack.endpoint.replace('127.0.0.1', 'evil.example'), LOCAL_CREDENTIALS, { method: 'GET', path: '/sec-out/real.json' }).catch(() => undefined);
    // evil.example does not resolve here: send the same signed request to 127.0.0.1 with the foreign Host.
    const foreignHost = rebound ?? (await signedRequest(stack.endpoint, LOCAL_CREDENTIALS, { method: 'GET', path: '/sec-out/real.json', headers: { host: 'evil.example' } }));
    expect([foreignHost.status, errorCode(foreignHost.body)]).toEqual([403, 'AccessDenied']);
  });
});

describe('keys: any key S3 holds is stored byte-exact, and none escapes the data folder', () => {
  const longSegment = `${'b'.repeat(229)}.json`;
  const keys = ['../../../escape-proof/x.json', '../sec-other/cross.json', '../dotdot.json', './dot.json', 'a//b.json', '/leading.json', 'ctl\u0001.json', 'sp ace+plus%.json', longSegment, `k/${'é'.repeat(510)}`];

  it('stores, lists, scores and reads back every key; nothing lands outside the data folder or in another bucket', async () => {
    await stack.s3.send(new CreateBucketCommand({ Bucket: 'sec-other' }));
    for (const key of keys) await drop(stack, 'sec-in', key, record);
    await stack.idle();
    for (const key of keys) {
      const read = await stack.s3.send(new GetObjectCommand({ Bucket: 'sec-in', Key: key }));
      expect(Buffer.from(await read.Body!.transformToByteArray()).equals(record)).toBe(true);
      expect((await readOutcome(stack, 'sec-out', key))?.metadata['dropscore-outcome']).toBe('result');
    }
    const listed = await stack.s3.send(new ListObjectsV2Command({ Bucket: 'sec-in', EncodingType: 'url' }));
    const decoded = (listed.Contents ?? []).map((o) => decodeURIComponent(o.Key!.replace(/\+/g, ' ')));
    expect(decoded.sort()).toEqual([...keys, 'real.json'].sort());
    expect((await stack.s3.send(new ListObjectsV2Command({ Bucket: 'sec-other' }))).KeyCount).toBe(0);
    // Every file the stack wrote is inside its data folder.
    const outside = walk(root).filter((file) => relative(dataDir, file).startsWith('..'));
    expect(outside).toEqual([]);
  });

  it('refuses what S3 refuses, with S3\'s codes: bad bucket names, too much metadata, unsatisfiable ranges, parts too small, streaming-signed bodies', async () => {
    expect(await sdkError(stack.s3.send(new CreateBucketCommand({ Bucket: 'Bad_Bucket' })))).toBe('InvalidBucketName');
    expect(await sdkError(stack.s3.send(new PutObjectCommand({ Bucket: 'sec-in', Key: 'meta.json', Body: '{}', Metadata: { big: 'x'.repeat(2100) } })))).toBe('MetadataTooLarge');
    expect(await sdkError(stack.s3.send(new GetObjectCommand({ Bucket: 'sec-out', Key: 'real.json', Range: 'bytes=999999-' })))).toBe('InvalidRange');
    const upload = await stack.s3.send(new CreateMultipartUploadCommand({ Bucket: 'sec-in', Key: 'parts.bin' }));
    const parts = [];
    for (const partNumber of [1, 2]) {
      const part = await stack.s3.send(new UploadPartCommand({ Bucket: 'sec-in', Key: 'parts.bin', UploadId: upload.UploadId, PartNumber: partNumber, Body: 'small' }));
      parts.push({ PartNumber: partNumber, ETag: part.ETag });
    }
    expect(await sdkError(stack.s3.send(new CompleteMultipartUploadCommand({ Bucket: 'sec-in', Key: 'parts.bin', UploadId: upload.UploadId, MultipartUpload: { Parts: parts } })))).toBe('EntityTooSmall');
    const streaming = await signedRequest(stack.endpoint, LOCAL_CREDENTIALS, { method: 'PUT', path: '/sec-in/chunked.json', headers: { 'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD' }, body: '{}' });
    expect([streaming.status, errorCode(streaming.body)]).toEqual([501, 'NotImplemented']);
    // A body streamed with Transfer-Encoding: chunked and no Content-Length, which S3 refuses.
    const unsized = await signedRequest(stack.endpoint, LOCAL_CREDENTIALS, { method: 'PUT', path: '/sec-in/unsized.json', headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' }, body: Readable.from([Buffer.from('{"values":'), Buffer.from('[1]}')]) });
    expect([unsized.status, errorCode(unsized.body)]).toEqual([411, 'MissingContentLength']);
    expect(await exists(stack, 'sec-in', 'unsized.json')).toBe(false);
    expect(await exists(stack, 'sec-in', 'meta.json')).toBe(false);
    expect(await exists(stack, 'sec-in', 'parts.bin')).toBe(false);
  });

  it('refuses a key over 1,024 bytes with KeyTooLongError', async () => {
    expect(await sdkError(stack.s3.send(new PutObjectCommand({ Bucket: 'sec-in', Key: 'k'.repeat(1025), Body: '{}' })))).toBe('KeyTooLongError');
  });

  it('restarts with all of them, and lists them', async () => {
    await stack.close();
    stack = await startTestStack({ dataDir, modelsRoot: MODELS_ROOT });
    await stack.deploy(spec!);
    const listed = await stack.s3.send(new ListObjectsCommand({ Bucket: 'sec-in' }));
    expect(listed.Contents?.length).toBe(keys.length + 1);
    const head = await stack.s3.send(new HeadObjectCommand({ Bucket: 'sec-in', Key: longSegment }));
    expect(head.ContentLength).toBe(record.length);
  });
});

describe('listings', () => {
  const awsCli = spawnSync('aws', ['--version']).status === 0;

  it('V1 (markers) and V2 (continuation tokens) paginate past 1,000 keys; the aws CLI lists 2,500 with a control character among them', async () => {
    await stack.s3.send(new CreateBucketCommand({ Bucket: 'sec-many' }));
    const keys = Array.from({ length: 2500 }, (_, i) => `p/${String(i).padStart(5, '0')}${i === 7 ? '\u0001' : ''}.json`);
    for (let i = 0; i < keys.length; i += 50) await Promise.all(keys.slice(i, i + 50).map((key) => stack.s3.send(new PutObjectCommand({ Bucket: 'sec-many', Key: key, Body: '{}' }))));
    const v2: string[] = [];
    let token: string | undefined;
    do {
      const page = await stack.s3.send(new ListObjectsV2Command({ Bucket: 'sec-many', Prefix: 'p/', ContinuationToken: token, MaxKeys: 700 }));
      v2.push(...(page.Contents ?? []).map((o) => o.Key!));
      token = page.NextContinuationToken;
    } while (token);
    expect(v2).toEqual(keys);
    const v1: string[] = [];
    let marker: string | undefined;
    for (;;) {
      const page = await stack.s3.send(new ListObjectsCommand({ Bucket: 'sec-many', Marker: marker }));
      v1.push(...(page.Contents ?? []).map((o) => o.Key!));
      if (!page.IsTruncated) break;
      marker = v1[v1.length - 1];
    }
    expect(v1).toEqual(keys);
    const folders = await stack.s3.send(new ListObjectsV2Command({ Bucket: 'sec-in', Delimiter: '/' }));
    expect(folders.CommonPrefixes?.map((p) => p.Prefix)).toEqual(['../', './', '/', 'a/', 'k/']);
    if (awsCli) {
      const env = { ...process.env, AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey, AWS_DEFAULT_REGION: 'us-east-1', AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null' };
      const { stdout } = await promisify(execFile)('aws', ['--endpoint-url', stack.endpoint, 's3', 'ls', '--recursive', 's3://sec-many/'], { env, timeout: 60_000, maxBuffer: 16 * 1024 * 1024 });
      expect(stdout.trim().split('\n')).toHaveLength(2500);
      expect(stdout).toContain('p/00007\u0001.json');
    }
  });
});

describe('bodies stream to disk', () => {
  it('a 1 GiB PUT raises RSS by less than 300 MiB, and the over-size record still gets its RECORD_TOO_LARGE outcome', async () => {
    const size = 1024 ** 3;
    const chunk = Buffer.alloc(1024 * 1024, 0x20);
    const body = Readable.from((function* () {
      for (let sent = 0; sent < size; sent += chunk.length) yield chunk;
    })());
    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
    try {
      const response = await signedRequest(stack.endpoint, LOCAL_CREDENTIALS, { method: 'PUT', path: '/sec-in/big.json', headers: { 'content-length': String(size), 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' }, body });
      expect(response.status).toBe(200);
      await stack.idle();
    } finally {
      clearInterval(sampler);
    }
    const head = await stack.s3.send(new HeadObjectCommand({ Bucket: 'sec-in', Key: 'big.json' }));
    expect(head.ContentLength).toBe(size);
    expect((await readOutcome(stack, 'sec-out', 'big.json'))?.json.error.code).toBe('RECORD_TOO_LARGE');
    console.log(`1 GiB PUT: RSS ${(baseline / 2 ** 20).toFixed(0)} MiB before, peak ${(peak / 2 ** 20).toFixed(0)} MiB (+${((peak - baseline) / 2 ** 20).toFixed(0)} MiB)`);
    expect(peak - baseline).toBeLessThan(300 * 2 ** 20);
  });
});

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}
