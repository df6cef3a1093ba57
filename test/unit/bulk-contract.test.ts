/**
 * The bulk-file contract (functions/scorer/bulk/): plan → parts → assembly,
 * on in-memory ports with the real ONNX and TensorFlow demo models.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { assembleBulkOutcome } from '../../functions/scorer/bulk/assemble-outcome.js';
import { partKey, partListKey } from '../../functions/scorer/bulk/bulk-keys.js';
import { bulkPartItems, planBulkFile, type BulkPlan } from '../../functions/scorer/bulk/bulk-plan.js';
import { scoreBulkFile, type BulkFileDeps } from '../../functions/scorer/bulk/score-bulk-file.js';
import { scoreBulkPart } from '../../functions/scorer/bulk/score-part.js';
import { ModelLoadError, ObjectChangedError } from '../../functions/scorer/domain/errors.js';
import type { DeploymentBinding } from '../../functions/scorer/domain/ports.js';
import { scoreRecord } from '../../functions/scorer/domain/score-record.js';
import type { LoadedModel } from '../../functions/scorer/engines/engine-registry.js';
import { loadModel } from '../../functions/scorer/engines/framework-engines.js';
import { createMemoryDeployments, createMemoryLedger, createMemoryObjectStore, createMemoryUsage } from '../support/memory-ports.js';
import { FIXTURES, MODELS_ROOT } from '../support/paths.js';

const binding: DeploymentBinding = { id: 'dep-1', name: 'mnist', model: 'mnist-cnn-onnx', source: { bucket: 'in', prefix: 'drop/' }, target: { bucket: 'out', prefix: 'scored/' } };
const quietLog = { info: () => {}, warn: () => {}, error: () => {} };
const pixels: number[] = (JSON.parse(readFileSync(`${FIXTURES}/payloads/keras/img1.json`, 'utf8')).values as unknown[]).flat(Infinity) as number[];

/** A distinct, valid image per n (the digit's pixels, dimmed). */
function image(n: number): number[] {
  const scale = 1 - (n % 7) / 10;
  return pixels.map((p) => Math.round(p * scale * 1000) / 1000);
}
function imageRecord(n: number): string {
  const rows = Array.from({ length: 28 }, (_, r) => image(n).slice(r * 28, r * 28 + 28).map((v) => [v]));
  return JSON.stringify({ values: [rows] });
}

let onnx: LoadedModel;
let tensorflow: LoadedModel;
beforeAll(async () => {
  onnx = await loadModel(`${MODELS_ROOT}/mnist-cnn-onnx`);
  tensorflow = await loadModel(`${MODELS_ROOT}/mnist-tensorflow`);
});

let s3: ReturnType<typeof createMemoryObjectStore>;
let ledger: ReturnType<typeof createMemoryLedger>;
let usage: ReturnType<typeof createMemoryUsage>;
let deployments: ReturnType<typeof createMemoryDeployments>;
beforeEach(() => {
  s3 = createMemoryObjectStore({ chunkBytes: 997 });
  ledger = createMemoryLedger();
  usage = createMemoryUsage();
  deployments = createMemoryDeployments();
});

function fileDeps(loaded: LoadedModel | ModelLoadError = onnx, extra: Partial<BulkFileDeps> = {}): BulkFileDeps {
  return { binding, objects: s3.store, usage, ledger, deployments, log: quietLog, loaded, modelRef: { name: 'mnist-cnn-onnx', framework: 'onnx', sha256: 'f'.repeat(64) }, scope: 'dep-1#m#out/scored/', ...extra };
}

function outcomeLines(key: string): any[] {
  const body = s3.get('out', key)!.body.toString('utf8');
  return body === '' ? [] : body.trimEnd().split('\n').map((l) => JSON.parse(l));
}

describe('planBulkFile', () => {
  it('cuts the file into line-aligned parts covering every byte, with line numbers and record counts', async () => {
    const lines = ['{"values":1}', '', '{"values":22}', '   ', '{"values":333}', '{"values":4444}'];
    const text = `\uFEFF${lines.join('\r\n')}`; // BOM, CRLF, no final line break
    const eTag = s3.put('in', 'drop/a.jsonl', text);
    const plan = await planBulkFile(s3.store, { bucket: 'in', key: 'drop/a.jsonl', eTag }, 'jsonl', 20);
    const size = Buffer.byteLength(text);
    expect(plan.lineCount).toBe(6);
    expect(plan.records).toBe(4);
    expect(plan.parts[0]!.start).toBe(0);
    expect(plan.parts[plan.parts.length - 1]!.end).toBe(size);
    plan.parts.forEach((p, i) => {
      expect(p.index).toBe(i);
      if (i > 0) expect(p.start).toBe(plan.parts[i - 1]!.end);
      // Each part starts at a line: its first bytes are that line's.
      const first = Buffer.from(text).subarray(p.start, p.end).toString('utf8').replace(/^\uFEFF/, '').split('\r\n')[0];
      expect(first).toBe(lines[p.firstLine - 1]);
    });
    expect(plan.parts.length).toBeGreaterThan(1);
    expect(plan.parts.reduce((n, p) => n + p.records, 0)).toBe(4);
    expect(JSON.parse(JSON.stringify(plan))).toEqual(plan);
  });

  it('finds a CSV header (its first non-blank line, when not all numbers) and leaves it out of the records', async () => {
    const eTag = s3.put('in', 'drop/a.csv', '\n"pixel 1",p2\n1,2\n3,4\n');
    const plan = await planBulkFile(s3.store, { bucket: 'in', key: 'drop/a.csv', eTag }, 'csv');
    expect(plan).toMatchObject({ header: ['pixel 1', 'p2'], headerLine: 2, lineCount: 4, records: 2 });
    const numeric = s3.put('in', 'drop/b.csv', '1,2\n3,4\n');
    expect((await planBulkFile(s3.store, { bucket: 'in', key: 'drop/b.csv', eTag: numeric }, 'csv')).header).toBeUndefined();
  });

  it('plans an empty file as no parts, and refuses a version the key no longer holds', async () => {
    const eTag = s3.put('in', 'drop/e.jsonl', '');
    expect(await planBulkFile(s3.store, { bucket: 'in', key: 'drop/e.jsonl', eTag }, 'jsonl')).toMatchObject({ lineCount: 0, records: 0, parts: [] });
    s3.put('in', 'drop/e.jsonl', '{"values":1}\n');
    await expect(planBulkFile(s3.store, { bucket: 'in', key: 'drop/e.jsonl', eTag }, 'jsonl')).rejects.toBeInstanceOf(ObjectChangedError);
  });
});

describe('scoreBulkPart', () => {
  async function planOf(key: string, text: string, partBytes?: number): Promise<BulkPlan> {
    const eTag = s3.put('in', key, text);
    return planBulkFile(s3.store, { bucket: 'in', key, eTag }, key.endsWith('.csv') ? 'csv' : 'jsonl', partBytes);
  }

  it('reads only its range, writes one line per record in order (bad lines as errors naming them), counts blank lines', async () => {
    const text = [imageRecord(1), '{"values": [1,', '', imageRecord(2), '{"values": [[1,2,3]]}', '[1]', imageRecord(3)].join('\n') + '\n';
    const plan = await planOf('drop/mixed.jsonl', text);
    const [item] = bulkPartItems(plan);
    const result = await scoreBulkPart({ binding, objects: s3.store, usage, loaded: onnx }, item!);
    expect(result).toMatchObject({ index: 0, records: 6, scored: 3, failed: 3, blank: 1 });
    expect(s3.calls.filter((c) => c.op === 'stream').at(-1)!.range).toEqual({ start: 0, end: Buffer.byteLength(text) });
    const lines = outcomeLines(partKey(binding, 'drop/mixed.jsonl', plan.input.eTag, 0));
    expect(lines.map((l) => (l.error ? `${l.error.line} ${l.error.code}` : Object.keys(l)[0]))).toEqual([
      'mixed.jsonl#1', '2 INVALID_JSON', 'mixed.jsonl#4', '5 SHAPE_MISMATCH', '6 NOT_AN_OBJECT', 'mixed.jsonl#7',
    ]);
    // Each result is the single-record result of that line.
    for (const [n, i] of [[1, 0], [2, 2], [3, 5]] as const) {
      const single = await scoreRecord(Buffer.from(imageRecord(n)), 'r.json', onnx);
      expect(Object.values(lines[i])[0]).toEqual((single as { body: Record<string, unknown> }).body['r.json']);
    }
    expect(usage.predictions()).toBe(3);
  });

  it('rewrites the same bytes when run again', async () => {
    const plan = await planOf('drop/a.jsonl', `${imageRecord(1)}\nnot json\n${imageRecord(2)}\n`);
    const [item] = bulkPartItems(plan);
    await scoreBulkPart({ binding, objects: s3.store, usage, loaded: onnx }, item!);
    const first = s3.get('out', partKey(binding, 'drop/a.jsonl', plan.input.eTag, 0))!.body;
    await scoreBulkPart({ binding, objects: s3.store, usage, loaded: onnx }, item!);
    expect(s3.get('out', partKey(binding, 'drop/a.jsonl', plan.input.eTag, 0))!.body.equals(first)).toBe(true);
  });

  it('refuses to read a range of a newer version of the key', async () => {
    const plan = await planOf('drop/a.jsonl', `${imageRecord(1)}\n`);
    s3.put('in', 'drop/a.jsonl', `${imageRecord(2)}\n`);
    await expect(scoreBulkPart({ binding, objects: s3.store, usage, loaded: onnx }, bulkPartItems(plan)[0]!)).rejects.toBeInstanceOf(ObjectChangedError);
  });

  it('gives every line an error when the model failed to load', async () => {
    const plan = await planOf('drop/a.jsonl', `${imageRecord(1)}\n${imageRecord(2)}\n`);
    const result = await scoreBulkPart({ binding, objects: s3.store, usage, loaded: new ModelLoadError('no model file') }, bulkPartItems(plan)[0]!);
    expect(result).toMatchObject({ records: 2, scored: 0, failed: 2 });
    expect(outcomeLines(partKey(binding, 'drop/a.jsonl', plan.input.eTag, 0)).map((l) => l.error.code)).toEqual(['MODEL_LOAD_FAILED', 'MODEL_LOAD_FAILED']);
    expect(usage.predictions()).toBe(0);
  });

  it('refuses records past the prediction limit, line by line, and counts only predictions made', async () => {
    usage = createMemoryUsage(2);
    const plan = await planOf('drop/a.jsonl', [1, 2, 3].map(imageRecord).join('\n'));
    const result = await scoreBulkPart({ binding, objects: s3.store, usage, loaded: onnx }, bulkPartItems(plan)[0]!);
    expect(result).toMatchObject({ records: 3, scored: 2, failed: 1 });
    expect(outcomeLines(partKey(binding, 'drop/a.jsonl', plan.input.eTag, 0))[2].error.code).toBe('PREDICTION_LIMIT_REACHED');
    expect(usage.predictions()).toBe(2);
  });

  it('scores CSV rows as the single input flattened, checking the header and each row', async () => {
    const header = Array.from({ length: 784 }, (_, i) => `p${i}`).join(',');
    const row = (n: number) => image(n).join(',');
    const plan = await planOf('drop/a.csv', `\uFEFF${header}\r\n${row(1)}\r\n1,2,3\r\n\r\n${row(2).replace(/^[^,]*/, 'x')}\r\n${row(3)}\r\n`);
    const result = await scoreBulkPart({ binding, objects: s3.store, usage, loaded: tensorflow }, bulkPartItems(plan)[0]!);
    expect(result).toMatchObject({ records: 4, scored: 2, failed: 2, blank: 1 });
    const lines = outcomeLines(partKey(binding, 'drop/a.csv', plan.input.eTag, 0));
    expect(lines.map((l) => (l.error ? `${l.error.line} ${l.error.code}` : 'result'))).toEqual(['result', '3 SHAPE_MISMATCH', '5 INVALID_VALUE', 'result']);
    const single = await scoreRecord(Buffer.from(JSON.stringify({ x: [image(1)] })), 'a.csv#2', tensorflow);
    expect(lines[0]).toEqual((single as { body: unknown }).body);
  });

  it('reshapes CSV rows to an image input, and reports a header of the wrong width on every row', async () => {
    const plan = await planOf('drop/img.csv', `${image(1).join(',')}\n`);
    await scoreBulkPart({ binding, objects: s3.store, usage, loaded: onnx }, bulkPartItems(plan)[0]!);
    const single = await scoreRecord(Buffer.from(imageRecord(1)), 'img.csv#1', onnx);
    expect(outcomeLines(partKey(binding, 'drop/img.csv', plan.input.eTag, 0))).toEqual([(single as { body: unknown }).body]);

    const bad = await planOf('drop/bad.csv', `a,b,c\n${image(1).join(',')}\n`);
    const result = await scoreBulkPart({ binding, objects: s3.store, usage, loaded: onnx }, bulkPartItems(bad)[0]!);
    expect(result).toMatchObject({ records: 1, failed: 1 });
    expect(outcomeLines(partKey(binding, 'drop/bad.csv', bad.input.eTag, 0))[0].error).toMatchObject({ line: 2, code: 'CSV_HEADER_MISMATCH' });
  });
});

describe('assembleBulkOutcome and scoreBulkFile', () => {
  const text = [imageRecord(1), '', 'oops', imageRecord(2), imageRecord(3), '{"values": 7}', imageRecord(4)].join('\n') + '\n';

  it('assembles the parts in order into one outcome with lineage and line counts, counts records once, deletes the parts', async () => {
    const eTag = s3.put('in', 'drop/f.jsonl', text);
    const plan = await planBulkFile(s3.store, { bucket: 'in', key: 'drop/f.jsonl', eTag }, 'jsonl', 1500);
    expect(plan.parts.length).toBeGreaterThan(2);
    const deps = fileDeps();
    // Parts finish in any order.
    const results = await Promise.all(bulkPartItems(plan).reverse().map((item) => scoreBulkPart(deps, item)));
    await ledger.claim(deps.scope, 'drop/f.jsonl', eTag, 0);
    const first = await assembleBulkOutcome(deps, plan, results);
    expect(first.counts).toEqual({ records: 6, scored: 4, failed: 2, blank: 1 });
    expect(first.completion.counted).toBe(true);
    const outcome = s3.get('out', 'scored/f.jsonl')!;
    expect(outcome.contentType).toBe('application/x-ndjson');
    expect(outcome.metadata).toMatchObject({ 'dropscore-outcome': 'result', 'dropscore-input-etag': eTag, 'dropscore-records': '6', 'dropscore-scored': '4', 'dropscore-failed': '2', 'dropscore-blank': '1' });
    expect(outcomeLines('scored/f.jsonl').map((l) => (l.error ? l.error.line : Object.keys(l)[0]))).toEqual(['f.jsonl#1', 3, 'f.jsonl#4', 'f.jsonl#5', 6, 'f.jsonl#7']);
    expect(deployments.counters.get('dep-1')).toMatchObject({ received: 6, scored: 4, failed: 2 });
    expect(deployments.counters.get('dep-1')!.lastError).toMatch(/^drop\/f\.jsonl: line 6: SHAPE_MISMATCH/);
    expect(usage.predictions()).toBe(4);
    expect(s3.keys('out')).toEqual(['scored/f.jsonl']);

    // Another delivery of the same version, finishing after: same outcome, nothing counted, its predictions given back.
    const again = await Promise.all(bulkPartItems(plan).map((item) => scoreBulkPart(deps, item)));
    const second = await assembleBulkOutcome(deps, plan, again);
    expect(second.completion.counted).toBe(false);
    expect(deployments.counters.get('dep-1')).toMatchObject({ received: 6, scored: 4, failed: 2 });
    expect(usage.predictions()).toBe(4);
    expect([...ledger.totals.values()]).toEqual([{ received: 6, scored: 4, failed: 2 }]);
  });

  it('refuses to assemble with a part missing', async () => {
    const eTag = s3.put('in', 'drop/f.jsonl', text);
    const plan = await planBulkFile(s3.store, { bucket: 'in', key: 'drop/f.jsonl', eTag }, 'jsonl', 4000);
    const results = await Promise.all(bulkPartItems(plan).slice(1).map((item) => scoreBulkPart(fileDeps(), item)));
    await expect(assembleBulkOutcome(fileDeps(), plan, results)).rejects.toThrow(/part\(s\) not scored/);
  });

  it('gives the same outcome whatever the part size, and a redelivery is a no-op', async () => {
    const eTag = s3.put('in', 'drop/f.jsonl', text);
    const many = await scoreBulkFile(fileDeps(onnx, { partBytes: 3000 }), { bucket: 'in', key: 'drop/f.jsonl' }, 'jsonl');
    expect(many).toMatchObject({ kind: 'scored', eTag, counts: { records: 6, scored: 4, failed: 2, blank: 1 } });
    const manyBytes = s3.get('out', 'scored/f.jsonl')!.body;
    expect(await scoreBulkFile(fileDeps(onnx, { partBytes: 3000 }), { bucket: 'in', key: 'drop/f.jsonl' }, 'jsonl')).toEqual({ kind: 'duplicate' });

    s3.put('in', 'drop/g.jsonl', text);
    await scoreBulkFile(fileDeps(), { bucket: 'in', key: 'drop/g.jsonl' }, 'jsonl');
    expect(s3.get('out', 'scored/g.jsonl')!.body.toString().replaceAll('g.jsonl#', 'f.jsonl#')).toBe(manyBytes.toString());
    expect(deployments.counters.get('dep-1')).toMatchObject({ received: 12, scored: 8, failed: 4 });
    expect(s3.keys('out')).toEqual(['scored/f.jsonl', 'scored/g.jsonl']);
  });

  it('writes the parts list a fan-out reads (JSON array of self-contained items), and runs multi-part files through the injected runner', async () => {
    const eTag = s3.put('in', 'drop/f.jsonl', text);
    let seen: unknown;
    const runParts: BulkFileDeps['runParts'] = async (items) => {
      seen = JSON.parse(s3.get('out', partListKey(binding, 'drop/f.jsonl', eTag))!.body.toString());
      return Promise.all(items.map((item) => scoreBulkPart(fileDeps(), JSON.parse(JSON.stringify(item)))));
    };
    await scoreBulkFile(fileDeps(onnx, { partBytes: 3000, runParts }), { bucket: 'in', key: 'drop/f.jsonl' }, 'jsonl');
    expect(Array.isArray(seen) && (seen as unknown[]).length).toBeGreaterThan(1);
    expect((seen as any[])[1]).toMatchObject({ input: { bucket: 'in', key: 'drop/f.jsonl', eTag }, format: 'jsonl', part: { index: 1 } });
    expect(outcomeLines('scored/f.jsonl')).toHaveLength(6);
  });

  it('scores a file smaller than one part from one read of it, writing only its outcome (no parts list, no part objects)', async () => {
    const eTag = s3.put('in', 'drop/f.jsonl', text);
    s3.calls.length = 0;
    expect(await scoreBulkFile(fileDeps(), { bucket: 'in', key: 'drop/f.jsonl' }, 'jsonl')).toMatchObject({ kind: 'scored', eTag, counts: { records: 6, scored: 4, failed: 2, blank: 1 } });
    expect(s3.calls.map(({ op, bucket, key }) => `${op} ${bucket}/${key}`)).toEqual(['head in/drop/f.jsonl', 'stream in/drop/f.jsonl', 'writeStream out/scored/f.jsonl']);
    expect(s3.get('out', 'scored/f.jsonl')!.metadata).toMatchObject({ 'dropscore-input-etag': eTag, 'dropscore-records': '6', 'dropscore-scored': '4', 'dropscore-failed': '2', 'dropscore-blank': '1' });
    expect(deployments.counters.get('dep-1')).toMatchObject({ received: 6, scored: 4, failed: 2 });
    expect(deployments.counters.get('dep-1')!.lastError).toMatch(/^drop\/f\.jsonl: line 6: SHAPE_MISMATCH/);
    expect(usage.predictions()).toBe(4);
    expect(s3.keys('out')).toEqual(['scored/f.jsonl']);
  });

  it('takes the one-read path for a file one byte under a part, and plans parts from a file of a part\'s size', async () => {
    const line = `${imageRecord(1)}\n`;
    const partBytes = Buffer.byteLength(line) * 2;
    s3.put('in', 'drop/under.jsonl', `${line}${line.slice(0, -2)}\n`);
    s3.put('in', 'drop/whole.jsonl', `${line}${line}`);
    for (const key of ['drop/under.jsonl', 'drop/whole.jsonl']) await scoreBulkFile(fileDeps(onnx, { partBytes }), { bucket: 'in', key }, 'jsonl');
    const listed = s3.calls.filter((c) => c.op === 'write' && c.key.endsWith('parts.json')).map((c) => c.key);
    expect(listed).toEqual([partListKey(binding, 'drop/whole.jsonl', s3.get('in', 'drop/whole.jsonl')!.eTag)]);
  });

  it('writes an outcome that outgrows the one-read limit (many short bad lines) through a part object, the same bytes in bounded memory', async () => {
    const text = `${imageRecord(2)}\n${'1\n'.repeat(400)}`;
    s3.put('in', 'drop/small.jsonl', text);
    await scoreBulkFile(fileDeps(), { bucket: 'in', key: 'drop/small.jsonl' }, 'jsonl');
    const inMemory = s3.get('out', 'scored/small.jsonl')!.body.toString();
    expect(s3.calls.some((c) => c.key.includes('.dropscore-parts/'))).toBe(false);

    s3.put('in', 'drop/tight.jsonl', text);
    const partBytes = Buffer.byteLength(text) + 1; // still one part, but its outcome (400 error lines) is far larger
    expect(await scoreBulkFile(fileDeps(onnx, { partBytes }), { bucket: 'in', key: 'drop/tight.jsonl' }, 'jsonl')).toMatchObject({ kind: 'scored', counts: { records: 401, scored: 1, failed: 400, blank: 0 } });
    // Read once; parts list, part object; the outcome streamed from the part object; both removed.
    expect(s3.calls.filter((c) => c.key.endsWith('tight.jsonl') || c.key.includes('/tight.jsonl/')).map((c) => `${c.op} ${c.key.replace(/\/[0-9a-f]{32}\//, '/<eTag>/')}`)).toEqual([
      'head drop/tight.jsonl',
      'stream drop/tight.jsonl',
      'write scored/.dropscore-parts/tight.jsonl/<eTag>/parts.json',
      'writeStream scored/.dropscore-parts/tight.jsonl/<eTag>/000000.jsonl',
      'writeStream scored/tight.jsonl',
      'stream scored/.dropscore-parts/tight.jsonl/<eTag>/000000.jsonl',
      'remove scored/.dropscore-parts/tight.jsonl/<eTag>/000000.jsonl',
      'remove scored/.dropscore-parts/tight.jsonl/<eTag>/parts.json',
    ]);
    expect(s3.get('out', 'scored/tight.jsonl')!.body.toString()).toBe(inMemory.replaceAll('small.jsonl#', 'tight.jsonl#'));
    expect(s3.keys('out')).toEqual(['scored/small.jsonl', 'scored/tight.jsonl']);
    expect(deployments.counters.get('dep-1')).toMatchObject({ received: 802, scored: 2, failed: 800 });
  });

  it('reports a small file overwritten between its look and its read', async () => {
    s3.put('in', 'drop/f.jsonl', text);
    const head = s3.store.head.bind(s3.store);
    s3.store.head = async (bucket, key) => {
      const seen = await head(bucket, key);
      s3.put('in', 'drop/f.jsonl', `${imageRecord(9)}\n`);
      return seen;
    };
    expect(await scoreBulkFile(fileDeps(), { bucket: 'in', key: 'drop/f.jsonl' }, 'jsonl')).toEqual({ kind: 'overwritten' });
    expect(s3.keys('out')).toEqual([]);
  });

  it('an empty file gets an empty outcome saying it held no records', async () => {
    s3.put('in', 'drop/e.jsonl', '');
    expect(await scoreBulkFile(fileDeps(), { bucket: 'in', key: 'drop/e.jsonl' }, 'jsonl')).toMatchObject({ kind: 'scored', counts: { records: 0, scored: 0, failed: 0, blank: 0 } });
    expect(s3.get('out', 'scored/e.jsonl')!.body.length).toBe(0);
    expect(s3.get('out', 'scored/e.jsonl')!.metadata['dropscore-records']).toBe('0');
  });

  it('reports a file overwritten while it was scored, leaving no parts behind', async () => {
    s3.put('in', 'drop/f.jsonl', text);
    const runParts: BulkFileDeps['runParts'] = async (items) => {
      const first = await scoreBulkPart(fileDeps(), items[0]!);
      s3.put('in', 'drop/f.jsonl', `${imageRecord(9)}\n`);
      return [first, ...(await Promise.all(items.slice(1).map((item) => scoreBulkPart(fileDeps(), item))))];
    };
    expect(await scoreBulkFile(fileDeps(onnx, { partBytes: 3000, runParts }), { bucket: 'in', key: 'drop/f.jsonl' }, 'jsonl')).toEqual({ kind: 'overwritten' });
    expect(s3.keys('out')).toEqual([]);
  });
});

describe('the scorer routes bulk files', () => {
  it('scores .jsonl/.ndjson/.csv keys as bulk files and others as record files, and counts records', async () => {
    const { createScorer } = await import('../../functions/scorer/domain/scorer.js');
    const scorer = createScorer({ binding, modelDir: 'unused', load: async () => onnx, objects: s3.store, deployments, ledger, usage, log: quietLog, bulk: { partBytes: 3000 } });
    s3.put('in', 'drop/a.ndjson', `${imageRecord(1)}\n${imageRecord(2)}\n`);
    s3.put('in', 'drop/b.json', imageRecord(3));
    s3.put('in', 'drop/c.CSV', `${image(4).join(',')}\n`);
    s3.put('in', 'drop/.dropscore-parts/d.jsonl', `${imageRecord(1)}\n`);
    const refs = ['drop/a.ndjson', 'drop/b.json', 'drop/c.CSV', 'drop/.dropscore-parts/d.jsonl'].map((key) => ({ bucket: 'in', key }));
    expect(await scorer.scoreObjects(refs)).toEqual(['scored', 'scored', 'scored', 'ignored']);
    expect(outcomeLines('scored/a.ndjson')).toHaveLength(2);
    expect(JSON.parse(s3.get('out', 'scored/b.json')!.body.toString())).toHaveProperty(['b.json']);
    expect(outcomeLines('scored/c.CSV')[0]).toHaveProperty(['c.CSV#1']);
    expect(deployments.counters.get('dep-1')).toMatchObject({ received: 4, scored: 4, failed: 0 });
    // A redelivery of the whole set counts nothing.
    expect(await scorer.scoreObjects(refs)).toEqual(['duplicate', 'duplicate', 'duplicate', 'ignored']);
    expect(deployments.counters.get('dep-1')).toMatchObject({ received: 4, scored: 4, failed: 0 });
    expect(usage.predictions()).toBe(4);
  });
});

describe('the item-batch handler contract', () => {
  it('scores a batch of part items given as JSON (as a fan-out passes them) and returns their results', async () => {
    const { createScorer } = await import('../../functions/scorer/domain/scorer.js');
    const { handleInvocation } = await import('../../functions/scorer/domain/invocation.js');
    const scorer = createScorer({ binding, modelDir: 'unused', load: async () => onnx, objects: s3.store, deployments, ledger, usage, log: quietLog });
    const text = [imageRecord(1), 'nope', '', imageRecord(2), imageRecord(3)].join('\n');
    const eTag = s3.put('in', 'drop/f.jsonl', text);
    const plan = await planBulkFile(s3.store, { bucket: 'in', key: 'drop/f.jsonl', eTag }, 'jsonl', 2000);
    const items = JSON.parse(JSON.stringify(bulkPartItems(plan))).slice(1);
    const reply = (await handleInvocation(scorer, { dropscore: 'bulk-parts', items })) as { results: unknown[] };
    expect(reply.results).toEqual(plan.parts.slice(1).map((p) => expect.objectContaining({ index: p.index, records: p.records })));
    for (const p of plan.parts.slice(1)) expect(s3.get('out', partKey(binding, 'drop/f.jsonl', eTag, p.index))).toBeDefined();
    expect(s3.get('out', partKey(binding, 'drop/f.jsonl', eTag, 0))).toBeUndefined();
    // Nothing is counted before assembly but the predictions made.
    expect(deployments.counters.size).toBe(0);

    const foreign = [{ ...items[0], input: { ...items[0].input, bucket: 'elsewhere' } }];
    await expect(handleInvocation(scorer, { dropscore: 'bulk-parts', items: foreign })).rejects.toThrow(/not a bulk file deployment mnist scores/);
    await expect(handleInvocation(scorer, { dropscore: 'bulk-parts' })).rejects.toThrow(/needs an "items" array/);
  });
});
