/**
 * What the embedded stack costs a user, measured on `npm start`'s own process:
 * - the server's RSS during a streamed 1 GiB PUT (and its RECORD_TOO_LARGE outcome);
 * - process start to "Serving." with an empty data folder, and with N objects
 *   (default 10,000) already scored, after a clean stop and after `kill -9`
 *   (which adds the recount of the counters from the ledger).
 *
 *   npx tsx bench/embedded-stack.ts [N]
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { createDynamoDbClient, createS3Client } from '../functions/scorer/store/aws-clients.js';
import { LOCAL_CREDENTIALS } from '../infra/local/auth/local-credentials.js';
import { signedRequest } from '../test/support/raw-http.js';
import { exited, startStackProcess, type RunningStack } from '../test/support/stack-process.js';

const n = Number(process.argv[2] ?? 10_000);
const root = mkdtempSync(join(tmpdir(), 'dropscore-stack-bench-'));
const manifest = join(root, 'deployments.json');
const samples = join(root, 'no-samples');
mkdirSync(samples);
writeFileSync(manifest, JSON.stringify({ deployments: [{ name: 'bench', model: 'mnist-cnn-onnx', source: { bucket: 'bench-in' }, target: { bucket: 'bench-out' } }] }));
const record = readFileSync('samples/mnist-onnx/seven-drawn.json');
const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;

function rssOf(pid: number): number {
  return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;
}

async function timedStart(dataDir: string): Promise<{ stack: RunningStack; ms: number }> {
  const started = performance.now();
  const stack = await startStackProcess(dataDir, manifest, samples);
  return { stack, ms: performance.now() - started };
}

async function stop(stack: RunningStack, signal: NodeJS.Signals): Promise<void> {
  stack.child.kill(signal);
  await exited(stack.child);
}

// 1. A streamed 1 GiB PUT.
{
  const { stack } = await timedStart(join(root, 'big'));
  const pid = stack.child.pid!;
  const before = rssOf(pid);
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, rssOf(pid))), 20);
  const size = 1024 ** 3;
  const chunk = Buffer.alloc(2 ** 20, 0x20);
  const body = Readable.from((function* () {
    for (let sent = 0; sent < size; sent += chunk.length) yield chunk;
  })());
  const started = performance.now();
  const response = await signedRequest(stack.endpoint, LOCAL_CREDENTIALS, { method: 'PUT', path: '/bench-in/big.json', headers: { 'content-length': String(size), 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' }, body });
  const s3 = createS3Client({ region: 'us-east-1', endpoint: stack.endpoint, credentials: LOCAL_CREDENTIALS });
  let outcome = '';
  for (let i = 0; i < 100 && !outcome; i++) {
    outcome = await s3.send(new HeadObjectCommand({ Bucket: 'bench-out', Key: 'big.json' })).then((h) => h.Metadata?.['dropscore-outcome'] ?? '', () => '');
    if (!outcome) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  clearInterval(sampler);
  console.log(`1 GiB PUT: HTTP ${response.status} in ${((performance.now() - started) / 1000).toFixed(1)} s; server RSS ${mib(before)} before, peak ${mib(peak)} (+${mib(peak - before)}); outcome: ${outcome}`);
  s3.destroy();
  await stop(stack, 'SIGINT');
}

// 2. Start times.
{
  const dataDir = join(root, 'many');
  const empty = await timedStart(dataDir);
  console.log(`start, empty data folder: ${Math.round(empty.ms)} ms`);
  const s3 = createS3Client({ region: 'us-east-1', endpoint: empty.stack.endpoint, credentials: LOCAL_CREDENTIALS });
  const db = createDynamoDbClient({ region: 'us-east-1', endpoint: empty.stack.endpoint, credentials: LOCAL_CREDENTIALS });
  const keys = Array.from({ length: n }, (_, i) => `r/${String(i).padStart(6, '0')}.json`);
  for (let i = 0; i < keys.length; i += 32) await Promise.all(keys.slice(i, i + 32).map((key) => s3.send(new PutObjectCommand({ Bucket: 'bench-in', Key: key, Body: record }))));
  for (;;) {
    const items = (await db.send(new ScanCommand({ TableName: 'dropscore-deployments', ConsistentRead: true }))).Items ?? [];
    const scored = Number(items.find((item) => item['name']?.S === 'bench')?.['scored']?.N ?? 0);
    if (scored >= n) break;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  s3.destroy();
  db.destroy();
  await stop(empty.stack, 'SIGINT');
  for (let i = 1; i <= 2; i++) {
    const clean = await timedStart(dataDir);
    console.log(`start with ${n} objects scored, after a clean stop (run ${i}): ${Math.round(clean.ms)} ms`);
    await stop(clean.stack, i === 2 ? 'SIGKILL' : 'SIGINT');
  }
  const unclean = await timedStart(dataDir);
  console.log(`start with ${n} objects scored, after kill -9 (recounts from the ledger): ${Math.round(unclean.ms)} ms`);
  await stop(unclean.stack, 'SIGINT');
}
rmSync(root, { recursive: true, force: true });
