import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import type { DeploymentRecord } from '../../functions/scorer/domain/ports.js';
import { runBatch, type BatchProgress } from '../../manage/batch-run.js';

const s3Mock = mockClient(S3Client);
const dir = mkdtempSync(join(tmpdir(), 'dropscore-batch-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
for (const name of ['a.json', 'b.json', 'c.json']) writeFileSync(join(dir, name), '{"values": [[1]]}');

const deployment = {
  id: 'dep-1', name: 'digits', model: 'm', description: '', framework: 'onnx', status: 'DEPLOY_SUCCESS', createdAt: '', modifiedAt: '', generation: 0,
  counters: { received: 0, scored: 0, failed: 0 },
  source: { bucket: 'in', prefix: '' },
  target: { bucket: 'out', prefix: '' },
} satisfies DeploymentRecord;

const accessDenied = () => Object.assign(new Error('Access Denied'), { name: 'AccessDenied' });

beforeEach(() => s3Mock.reset());

describe('runBatch', () => {
  it('gives every file an end: one refused upload does not stop the others, and says why', async () => {
    s3Mock.on(PutObjectCommand).resolves({ ETag: '"e"' });
    // a.json's upload finishes last: results still come in the files' order.
    s3Mock.on(PutObjectCommand, { Key: 'a.json' }).callsFake(() => new Promise((resolve) => setTimeout(() => resolve({ ETag: '"e"' }), 30)));
    s3Mock.on(PutObjectCommand, { Key: 'b.json' }).rejects(accessDenied());
    s3Mock.on(HeadObjectCommand).resolves({ Metadata: { 'dropscore-input-etag': 'e', 'dropscore-outcome': 'result' } });
    const results = await runBatch({ s3: new S3Client({ region: 'us-east-1' }), deployment, paths: [dir], pollMs: 1 });
    expect(results.map((r) => [r.key, r.state, r.reason])).toEqual([
      ['a.json', 'result', undefined],
      ['c.json', 'result', undefined],
      ['b.json', 'not-uploaded', 'AccessDenied: Access Denied'],
    ]);
  });

  it('keeps looking for an outcome through a failed look, and names the failure while still pending', async () => {
    s3Mock.on(PutObjectCommand).resolves({ ETag: '"e"' });
    s3Mock.on(HeadObjectCommand)
      .rejectsOnce(Object.assign(new Error('slow down'), { name: 'SlowDown' }))
      .resolves({ Metadata: { 'dropscore-input-etag': 'e', 'dropscore-outcome': 'error' } });
    s3Mock.on(GetObjectCommand).resolves({ Body: { transformToString: async () => '{"error": {"code": "SHAPE_MISMATCH", "message": "m"}}' } as never });
    const results = await runBatch({ s3: new S3Client({ region: 'us-east-1' }), deployment, paths: [join(dir, 'a.json')], pollMs: 1 });
    expect(results).toMatchObject([{ key: 'a.json', state: 'error', error: { code: 'SHAPE_MISMATCH' } }]);
    expect(results[0]!.reason).toBeUndefined();

    s3Mock.on(HeadObjectCommand).rejects(accessDenied());
    const stuck = await runBatch({ s3: new S3Client({ region: 'us-east-1' }), deployment, paths: [join(dir, 'a.json')], pollMs: 1, timeoutMs: 20 });
    expect(stuck).toMatchObject([{ key: 'a.json', state: 'pending', reason: 'the last look for its outcome failed: AccessDenied: Access Denied' }]);
  });

  it('shows a bulk file\'s records done of its total while it is scored, and its line counts at the end', async () => {
    // Its own folder: the first test uploads all of `dir`.
    mkdirSync(join(dir, 'bulk'));
    writeFileSync(join(dir, 'bulk', 'big.jsonl'), '{"values": [[1]]}\n{"values": [[2]]}\n');
    s3Mock.on(PutObjectCommand).resolves({ ETag: '"e"' });
    const notFound = Object.assign(new Error('NotFound'), { name: 'NotFound', $metadata: { httpStatusCode: 404 } });
    s3Mock.on(HeadObjectCommand).rejectsOnce(notFound).rejectsOnce(notFound)
      .resolves({ Metadata: { 'dropscore-input-etag': 'e', 'dropscore-outcome': 'result', 'dropscore-records': '5', 'dropscore-scored': '4', 'dropscore-failed': '1' } });
    // Two parts of 3 and 2 records; the first finished.
    s3Mock.on(ListObjectsV2Command, { Prefix: '.dropscore-parts/big.jsonl/e/' }).resolves({ Contents: [{ Key: '.dropscore-parts/big.jsonl/e/000000.jsonl' }, { Key: '.dropscore-parts/big.jsonl/e/parts.json' }] });
    const items = [{ part: { index: 0, records: 3 } }, { part: { index: 1, records: 2 } }];
    s3Mock.on(GetObjectCommand, { Key: '.dropscore-parts/big.jsonl/e/parts.json' }).resolves({ Body: { transformToString: async () => JSON.stringify(items) } as never });
    const seen: BatchProgress[] = [];
    const results = await runBatch({ s3: new S3Client({ region: 'us-east-1' }), deployment, paths: [join(dir, 'bulk', 'big.jsonl')], pollMs: 1, onProgress: (p) => seen.push(p) });
    expect(seen[0]!.bulk).toEqual([{ key: 'big.jsonl', done: 3, total: 5 }]);
    expect(seen.at(-1)!.bulk).toBeUndefined();
    expect(results).toMatchObject([{ key: 'big.jsonl', state: 'result', records: { records: 5, scored: 4, failed: 1 } }]);
    expect(s3Mock.commandCalls(PutObjectCommand)[0]!.args[0].input.ContentType).toBe('application/x-ndjson');
  });
});
