/**
 * CPU per request on the embedded stack, every thread of the process counted
 * (SDK client, signing, the edge's signature check, the S3 server or dynalite):
 * what each request the pipeline makes beyond the floor's GET + PUT costs.
 * Each kind runs N times with 8 in flight, as the pipeline bench does, after a
 * warm-up; the kinds alternate in two mirrored rounds.
 *
 *   npx tsx bench/request-costs.ts [N=2000]
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { startLocalStack } from '../infra/local/local-stack.js';
import { DEFAULT_TABLES, ensureBucket } from '../infra/local/provision.js';

const N = Number(process.argv[2] ?? 2000);
const CONCURRENCY = 8;
const record = readFileSync('samples/mnist-onnx/seven-drawn.json');
const dataDir = mkdtempSync(join(tmpdir(), 'dropscore-requests-'));
const stack = await startLocalStack({ dataDir, edgePort: 0, modelsRoot: 'layers/models', log: { info() {}, warn() {}, error() {} } });
await ensureBucket(stack.s3, 'costs');

let round = 0;
const kinds: Record<string, (i: number) => Promise<unknown>> = {
  'S3 PUT (new object)': (i) => stack.s3.send(new PutObjectCommand({ Bucket: 'costs', Key: `r${round}-${i}.json`, Body: record })),
  'S3 GET': (i) => stack.s3.send(new GetObjectCommand({ Bucket: 'costs', Key: `r0-${i % N}.json` })).then((r) => r.Body!.transformToByteArray()),
  'S3 HEAD': (i) => stack.s3.send(new HeadObjectCommand({ Bucket: 'costs', Key: `r0-${i % N}.json` })),
  // A ledger-like conditional write: one attribute set if absent, a counter added.
  'DynamoDB conditional UpdateItem (new item)': (i) => stack.db.send(new UpdateItemCommand({
    TableName: DEFAULT_TABLES.ledgerTable,
    Key: { deployment_id: { S: 'costs' }, input: { S: `r${round}-${i}` } },
    UpdateExpression: 'SET #v = :r ADD n_received :one',
    ConditionExpression: 'attribute_not_exists(#v)',
    ExpressionAttributeNames: { '#v': 'version x' },
    ExpressionAttributeValues: { ':r': { S: 'received' }, ':one': { N: '1' } },
  })),
  // A counter update on one hot item, as the deployment's counters are.
  'DynamoDB counter UpdateItem (one item)': () => stack.db.send(new UpdateItemCommand({
    TableName: DEFAULT_TABLES.ledgerTable,
    Key: { deployment_id: { S: 'costs' }, input: { S: 'counters' } },
    UpdateExpression: 'ADD scored :one',
    ExpressionAttributeValues: { ':one': { N: '1' } },
  })),
};

async function measure(run: (i: number) => Promise<unknown>, count: number): Promise<number> {
  const cpu = process.cpuUsage();
  let next = 0;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < count) await run(next++);
  }));
  const used = process.cpuUsage(cpu);
  return (used.user + used.system) / 1000 / count;
}

try {
  for (const run of Object.values(kinds)) await measure(run, Math.max(200, N / 5)); // warm-up (round 0 creates the objects read below)
  await measure(kinds['S3 PUT (new object)']!, N); // round 0 again: every key GET and HEAD read exists
  const results = new Map<string, number[]>();
  const order = [...Object.keys(kinds), ...Object.keys(kinds).reverse()];
  for (const [i, name] of order.entries()) {
    round = 10 + i;
    results.set(name, [...(results.get(name) ?? []), await measure(kinds[name]!, N)]);
  }
  console.log(`${N} requests per measurement, ${CONCURRENCY} in flight, CPU of every thread per request (ms), two measurements each:\n`);
  console.log('| request | CPU per request (ms) |');
  console.log('|---|---|');
  for (const [name, values] of results) console.log(`| ${name} | ${values.map((v) => v.toFixed(2)).join(', ')} |`);
} finally {
  await stack.close();
  rmSync(dataDir, { recursive: true, force: true });
}
