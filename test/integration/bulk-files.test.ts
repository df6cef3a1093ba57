/**
 * Bulk files end to end on the embedded stack (real S3 and DynamoDB on
 * 127.0.0.1, real model files): JSON Lines and CSV dropped into a source
 * bucket come back as one ordered JSON Lines outcome each, equal line by line
 * to scoring the same records as record files; large files run their parts on
 * the worker pool; redeliveries count nothing twice; overwrites replace.
 */
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HeadObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ObjectChangedError } from '../../functions/scorer/domain/errors.js';
import { scoreRecord } from '../../functions/scorer/domain/score-record.js';
import { createS3ObjectStore } from '../../functions/scorer/store/s3-object-store.js';
import { loadModel } from '../../functions/scorer/engines/framework-engines.js';
import type { LoadedModel } from '../../functions/scorer/engines/engine-registry.js';
import type { LocalStack } from '../../infra/local/local-stack.js';
import { parseDeploymentsManifest, type DeploymentSpec } from '../../infra/manifest/deployments-manifest.js';
import { drop, readOutcome, startTestStack } from '../support/local-stack-harness.js';
import { tempRoot } from '../support/model-dir.js';
import { FIXTURES, MODELS_ROOT } from '../support/paths.js';

const root = tempRoot();
let stack: LocalStack;
let onnx: LoadedModel;
let specs: Record<string, DeploymentSpec>;
const pixels: number[] = (JSON.parse(readFileSync(`${FIXTURES}/payloads/keras/img1.json`, 'utf8')).values as unknown[]).flat(Infinity) as number[];

/** A distinct valid image per n: the digit shifted right by n % 5 columns and dimmed by n % 7 tenths. */
function image(n: number): number[] {
  const shift = n % 5;
  const scale = 1 - (n % 7) / 10;
  return pixels.map((_, i) => (i % 28 < shift ? 0 : Math.round(pixels[i - shift]! * scale * 1000) / 1000));
}
function imageRecord(n: number): string {
  const rows = Array.from({ length: 28 }, (_, r) => image(n).slice(r * 28, r * 28 + 28).map((v) => [v]));
  return JSON.stringify({ values: [rows] });
}

beforeAll(async () => {
  const manifest = parseDeploymentsManifest(
    {
      deployments: [
        { name: 'bulk', model: 'mnist-cnn-onnx', source: { bucket: 'bulk-in' }, target: { bucket: 'bulk-out' } },
        { name: 'shared', model: 'mnist-cnn-onnx', source: { bucket: 'bulk-shared', prefix: 'in/' }, target: { bucket: 'bulk-shared', prefix: 'out/' } },
        { name: 'bulk-keras', model: 'mnist-keras', source: { bucket: 'bulk-keras-in' }, target: { bucket: 'bulk-keras-out' } },
      ],
    },
    'bulk test manifest',
  );
  // Small parts, so a 2,000-line file runs as many parts on the worker pool.
  stack = await startTestStack({ dataDir: join(root, 'data'), modelsRoot: MODELS_ROOT, bulkPartBytes: 256 * 1024 });
  specs = {};
  for (const spec of manifest.deployments) {
    specs[spec.name] = spec;
    await stack.deploy(spec);
  }
  onnx = await loadModel(join(MODELS_ROOT, 'mnist-cnn-onnx'));
}, 120_000);

afterAll(async () => {
  await stack?.close();
  rmSync(root, { recursive: true, force: true });
});

async function bulkOutcome(bucket: string, key: string) {
  await stack.idle();
  const outcome = await readOutcomeText(bucket, key);
  return { ...outcome, lines: outcome.body === '' ? [] : outcome.body.trimEnd().split('\n').map((l) => JSON.parse(l)) };
}

async function readOutcomeText(bucket: string, key: string) {
  const { GetObjectCommand } = await import('@aws-sdk/client-s3');
  const response = await stack.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return { body: await response.Body!.transformToString(), metadata: response.Metadata ?? {}, contentType: response.ContentType };
}

async function counters(name: string) {
  return (await stack.deployments.get(specs[name]!.id))!.counters;
}

async function keysUnder(bucket: string, prefix: string): Promise<string[]> {
  const listed = await stack.s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  return (listed.Contents ?? []).map((o) => o.Key!);
}

describe('bulk files on the embedded stack', () => {
  it('scores a 2,000-line JSON Lines file (many parts, on the worker pool) equal line by line to record-file scoring', async () => {
    const before = await counters('bulk');
    const records = Array.from({ length: 2000 }, (_, i) => imageRecord(i));
    const eTag = await drop(stack, 'bulk-in', 'big.jsonl', `${records.join('\n')}\n`);
    const outcome = await bulkOutcome('bulk-out', 'big.jsonl');
    expect(outcome.contentType).toBe('application/x-ndjson');
    expect(outcome.metadata).toMatchObject({ 'dropscore-outcome': 'result', 'dropscore-input-etag': eTag, 'dropscore-records': '2000', 'dropscore-scored': '2000', 'dropscore-failed': '0', 'dropscore-blank': '0' });
    expect(outcome.lines).toHaveLength(2000);
    for (let i = 0; i < records.length; i++) {
      const single = (await scoreRecord(Buffer.from(records[i]!), `big.jsonl#${i + 1}`, onnx)) as { kind: string; body: unknown };
      expect(outcome.lines[i]).toEqual(single.body);
    }
    // And the same as the stack's own outcomes for some of them dropped as record files.
    for (const i of [0, 1, 999, 1999]) await drop(stack, 'bulk-in', `single/r${i}.json`, records[i]!);
    await stack.idle();
    for (const i of [0, 1, 999, 1999]) {
      const single = (await readOutcome(stack, 'bulk-out', `single/r${i}.json`))!.json;
      expect(outcome.lines[i][`big.jsonl#${i + 1}`]).toEqual(single[`r${i}.json`]);
    }
    expect(await counters('bulk')).toEqual({ received: before.received + 2004, scored: before.scored + 2004, failed: before.failed });
    expect(await keysUnder('bulk-out', '.dropscore-parts/')).toEqual([]);
  }, 120_000);

  it('keeps the order with good and bad lines mixed, and every bad line says what and where', async () => {
    const text = [imageRecord(1), '{"values": [[1, 2', imageRecord(2), '{"values": [[1,2,3]]}', '', '"just a string"', imageRecord(3)].join('\n');
    await drop(stack, 'bulk-in', 'mixed.jsonl', text);
    const { lines, metadata } = await bulkOutcome('bulk-out', 'mixed.jsonl');
    expect(lines.map((l) => (l.error ? `${l.error.line}:${l.error.code}` : Object.keys(l)[0]))).toEqual(['mixed.jsonl#1', '2:INVALID_JSON', 'mixed.jsonl#3', '4:SHAPE_MISMATCH', '6:NOT_AN_OBJECT', 'mixed.jsonl#7']);
    expect(lines[1].error.message).toMatch(/not valid JSON/);
    expect(metadata).toMatchObject({ 'dropscore-records': '6', 'dropscore-scored': '3', 'dropscore-failed': '3', 'dropscore-blank': '1' });
    const deployment = await stack.deployments.get(specs['bulk']!.id);
    expect(deployment!.lastError).toMatch(/^mixed\.jsonl: line 6: NOT_AN_OBJECT/);
  });

  it('scores CSV rows (CRLF, BOM, a header naming the features) and reports rows of the wrong width by line', async () => {
    const header = Array.from({ length: 784 }, (_, i) => `px${i}`).join(',');
    const text = `\uFEFF${header}\r\n${image(1).join(',')}\r\n1,2,3\r\n\r\n${image(2).join(',')}\r\n`;
    await drop(stack, 'bulk-in', 'rows.csv', text);
    const { lines, metadata } = await bulkOutcome('bulk-out', 'rows.csv');
    expect(lines.map((l) => (l.error ? `${l.error.line}:${l.error.code}` : Object.keys(l)[0]))).toEqual(['rows.csv#2', '3:SHAPE_MISMATCH', 'rows.csv#5']);
    const single = (await scoreRecord(Buffer.from(imageRecord(1)), 'rows.csv#2', onnx)) as { body: unknown };
    expect(lines[0]).toEqual(single.body);
    expect(metadata).toMatchObject({ 'dropscore-records': '3', 'dropscore-scored': '2', 'dropscore-failed': '1', 'dropscore-blank': '1' });
  });

  it('reads CRLF line breaks and a byte order mark in JSON Lines', async () => {
    await drop(stack, 'bulk-in', 'windows.ndjson', `\uFEFF${imageRecord(4)}\r\n${imageRecord(5)}\r\n`);
    const { lines } = await bulkOutcome('bulk-out', 'windows.ndjson');
    expect(lines.map((l) => Object.keys(l)[0])).toEqual(['windows.ndjson#1', 'windows.ndjson#2']);
  });

  it('gives an empty file and a header-only CSV an empty outcome that says no records, losing nothing', async () => {
    const before = await counters('bulk');
    await drop(stack, 'bulk-in', 'empty.jsonl', '');
    await drop(stack, 'bulk-in', 'header-only.csv', 'a,b,c\n');
    for (const key of ['empty.jsonl', 'header-only.csv']) {
      const outcome = await bulkOutcome('bulk-out', key);
      expect(outcome.body).toBe('');
      expect(outcome.metadata).toMatchObject({ 'dropscore-outcome': 'result', 'dropscore-records': '0', 'dropscore-scored': '0', 'dropscore-failed': '0' });
    }
    expect(await counters('bulk')).toEqual(before);
  });

  it('counts nothing twice when every event is delivered again, and a new version replaces the outcome', async () => {
    await drop(stack, 'bulk-in', 'again.jsonl', `${imageRecord(1)}\nbad\n${imageRecord(2)}\n`);
    const first = await bulkOutcome('bulk-out', 'again.jsonl');
    const before = await counters('bulk');
    const predictions = (await stack.usage.read()).predictions;
    // Every object of the source delivered again (as after a lost acknowledgement): all duplicates.
    await stack.catchUp('bulk');
    const again = await bulkOutcome('bulk-out', 'again.jsonl');
    expect(again.body).toBe(first.body);
    expect(await counters('bulk')).toEqual(before);
    expect((await stack.usage.read()).predictions).toBe(predictions);

    const newer = await drop(stack, 'bulk-in', 'again.jsonl', `${imageRecord(3)}\n`);
    const replaced = await bulkOutcome('bulk-out', 'again.jsonl');
    expect(replaced.metadata['dropscore-input-etag']).toBe(newer);
    expect(replaced.lines.map((l) => Object.keys(l)[0])).toEqual(['again.jsonl#1']);
    expect(await counters('bulk')).toEqual({ received: before.received + 1, scored: before.scored + 1, failed: before.failed });
  });

  it('never scores a bulk file\'s parts where source and target share a bucket', async () => {
    const records = Array.from({ length: 200 }, (_, i) => imageRecord(i));
    await drop(stack, 'bulk-shared', 'in/shared.jsonl', `${records.join('\n')}\n`);
    const { lines } = await bulkOutcome('bulk-shared', 'out/shared.jsonl');
    expect(lines).toHaveLength(200);
    expect(await keysUnder('bulk-shared', '')).toEqual(['in/shared.jsonl', 'out/shared.jsonl']);
    expect(await counters('shared')).toEqual({ received: 200, scored: 200, failed: 0 });
  });

  it('reads a pinned version by ranges from the embedded S3, which refuses (412) once the key holds another', async () => {
    const objects = createS3ObjectStore(stack.s3);
    const eTag = await drop(stack, 'bulk-out', 'pinned.txt', 'line one\nline two\n');
    const read = await objects.stream('bulk-out', 'pinned.txt', { version: { eTag }, range: { start: 9, end: 18 } });
    const chunks: Uint8Array[] = [];
    for await (const chunk of read!.body) chunks.push(chunk);
    expect(Buffer.concat(chunks).toString()).toBe('line two\n');
    await drop(stack, 'bulk-out', 'pinned.txt', 'changed\n');
    await expect(objects.stream('bulk-out', 'pinned.txt', { version: { eTag }, range: { start: 0, end: 4 } })).rejects.toBeInstanceOf(ObjectChangedError);
  });

  it('dropscore batch streams a file larger than a part up in parts (never whole in memory), and knows its outcome on the next run', async () => {
    const { runBatch } = await import('../../manage/batch-run.js');
    const { PART_BYTES } = await import('../../functions/scorer/store/s3-multipart-writer.js');
    // Two records and enough whitespace-only lines (blank: skipped and counted) to pass two parts.
    const blankLine = `${' '.repeat(1023)}\n`;
    const blanks = Math.ceil((2 * PART_BYTES) / blankLine.length) + 1;
    const file = join(root, 'big-for-batch.jsonl');
    writeFileSync(file, `${imageRecord(11)}\n${blankLine.repeat(blanks)}${imageRecord(12)}\n`);
    const deployment = (await stack.deployments.get(specs['bulk']!.id))!;
    const [first] = await runBatch({ s3: stack.s3, deployment, paths: [file], pollMs: 50, timeoutMs: 60_000 });
    expect(first).toMatchObject({ key: 'big-for-batch.jsonl', state: 'result', records: { records: 2, scored: 2, failed: 0 } });
    const head = await stack.s3.send(new HeadObjectCommand({ Bucket: 'bulk-in', Key: 'big-for-batch.jsonl' }));
    expect(head.ETag).toMatch(/-3"$/); // a multipart upload of three parts
    expect(head.ContentLength).toBe(statSync(file).size);
    // The same file again: its eTag, computed from the file, is the one its outcome names.
    const [again] = await runBatch({ s3: stack.s3, deployment, paths: [file], pollMs: 50, timeoutMs: 60_000 });
    expect(again).toMatchObject({ state: 'result', alreadyScored: true });
  }, 120_000);

  it('knows the eTag S3 gives a file written in parts, at the edges: empty, one byte under a part, one part, two parts and a byte', async () => {
    const { writeInParts } = await import('../../functions/scorer/store/s3-multipart-writer.js');
    const { eTagOfParts } = await import('../../functions/scorer/store/s3-etag.js');
    const partBytes = 5 * 1024 * 1024; // S3's smallest part
    for (const size of [0, partBytes - 1, partBytes, 2 * partBytes + 1]) {
      const bytes = Buffer.alloc(size, size % 251);
      const chunks = async function* () {
        for (let at = 0; at < size; at += 700_001) yield bytes.subarray(at, at + 700_001);
      };
      const written = await writeInParts(stack.s3, { Bucket: 'bulk-out', Key: `etag/${size}.bin`, ContentType: 'application/octet-stream', Metadata: {} }, chunks(), partBytes);
      const head = await stack.s3.send(new HeadObjectCommand({ Bucket: 'bulk-out', Key: `etag/${size}.bin` }));
      expect([written, head.ContentLength]).toEqual([head.ETag!.replaceAll('"', ''), size]);
      expect(await eTagOfParts(chunks(), partBytes)).toBe(written);
    }
  }, 60_000);

  it('follows the deployment\'s convention: Keras records give Keras rows', async () => {
    await drop(stack, 'bulk-keras-in', 'k.jsonl', `${imageRecord(1)}\n{"values": [1]}\n`);
    const { lines } = await bulkOutcome('bulk-keras-out', 'k.jsonl');
    expect(lines[0]['k.jsonl#1'].fields).toEqual(['prediction', 'prediction_classes', 'probability']);
    expect(lines[1].error).toMatchObject({ line: 2, code: 'SHAPE_MISMATCH' });
  });
});
