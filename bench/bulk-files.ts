/**
 * Bulk files on the embedded stack: records/s for one JSON Lines file of N
 * records against the same record dropped as M single files (M smaller than N
 * when N single files would take too long: the rate is per record either way),
 * the process's peak RSS while the bulk file is uploaded and scored, and the
 * peak RSS of a scorer alone in its own process scoring that file (what a
 * Lambda without fan-out would hold; bench/bulk-scorer-process.ts). With
 * the demo model's record (11 KB a line), 100,000 lines make a 1.1 GB file.
 * Everything runs in this process: the embedded S3 and DynamoDB threads, the
 * scorer and its part workers; the file is generated into a temp folder, streamed
 * up as a multipart upload (as `aws s3 cp` does), and deleted after.
 *
 *   npx tsx bench/bulk-files.ts [N=100000] [M=5000] [model=mnist-cnn-onnx]
 */
import { createReadStream, createWriteStream, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { Logger } from '../functions/scorer/domain/ports.js';
import { writeInParts } from '../functions/scorer/store/s3-multipart-writer.js';
import { startLocalStack } from '../infra/local/local-stack.js';
import { ensureBucket } from '../infra/local/provision.js';
import { parseDeploymentsManifest } from '../infra/manifest/deployments-manifest.js';
import { sampleRecordPath } from './sample-records.js';

const N = Number(process.argv[2] ?? 100_000);
const M = Number(process.argv[3] ?? 5000);
const MODEL = process.argv[4] ?? 'mnist-cnn-onnx';
const quiet: Logger = { info: () => {}, warn: () => {}, error: (m, f) => console.error(m, f) };
const MiB = 1024 * 1024;

const root = mkdtempSync(join(tmpdir(), 'dropscore-bulk-bench-'));
const line = JSON.stringify(JSON.parse(readFileSync(sampleRecordPath(MODEL), 'utf8')));

let peakRss = 0;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage.rss())), 20);

try {
  const stack = await startLocalStack({ dataDir: join(root, 'data'), edgePort: 0, modelsRoot: 'layers/models', log: quiet });
  const [spec] = parseDeploymentsManifest({ deployments: [{ name: 'bench', model: MODEL, source: { bucket: 'bulk-bench-in' }, target: { bucket: 'bulk-bench-out' } }] }, 'bench').deployments;
  await stack.deploy(spec!);
  console.log(`bulk files bench: ${MODEL}, ${availableParallelism()} cores, record ${line.length} bytes; node ${process.version}`);

  // Warm-up: a small bulk file (starts the part workers and loads their models) and a few single files.
  const warm = Array.from({ length: 2000 }, () => line).join('\n');
  await stack.s3.send(new PutObjectCommand({ Bucket: 'bulk-bench-in', Key: 'warm.jsonl', Body: warm }));
  await Promise.all(Array.from({ length: 50 }, (_, i) => stack.s3.send(new PutObjectCommand({ Bucket: 'bulk-bench-in', Key: `warm/${i}.json`, Body: line }))));
  await stack.idle();

  // Single files: M puts (8 at a time, as `dropscore batch` does), timed from the first put to the last outcome.
  let started = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: 8 }, async () => {
    while (next < M) await stack.s3.send(new PutObjectCommand({ Bucket: 'bulk-bench-in', Key: `single/${next++}.json`, Body: line }));
  }));
  await stack.idle();
  const singleSeconds = (performance.now() - started) / 1000;
  const single = (await stack.deployments.get(spec!.id))!.counters;

  // The bulk file: generated to disk, streamed up, timed from the first byte up to its outcome written.
  const file = join(root, 'records.jsonl');
  const out = createWriteStream(file);
  for (let i = 0; i < N; i++) if (!out.write(`${line}\n`)) await once(out, 'drain');
  out.end();
  await once(out, 'finish');
  const bytes = statSync(file).size;
  const rssBefore = process.memoryUsage.rss();
  peakRss = rssBefore;
  started = performance.now();
  await writeInParts(stack.s3, { Bucket: 'bulk-bench-in', Key: 'records.jsonl', ContentType: 'application/x-ndjson', Metadata: {} }, createReadStream(file, { highWaterMark: MiB }));
  const uploaded = (performance.now() - started) / 1000;
  await stack.idle();
  const bulkSeconds = (performance.now() - started) / 1000;
  const outcome = await stack.s3.send(new HeadObjectCommand({ Bucket: 'bulk-bench-out', Key: 'records.jsonl' }));
  const scored = Number(outcome.Metadata?.['dropscore-scored']);
  if (scored !== N) throw new Error(`the bulk outcome says ${scored} of ${N} records scored`);
  if (single.scored < M) throw new Error(`only ${single.scored} single files scored`);

  // A scorer alone in its process (as a Lambda without fan-out) scoring the same file, its parts one after another.
  await ensureBucket(stack.s3, 'bulk-bench-alone');
  await ensureBucket(stack.s3, 'bulk-bench-alone-out');
  await writeInParts(stack.s3, { Bucket: 'bulk-bench-alone', Key: 'records.jsonl', ContentType: 'application/x-ndjson', Metadata: {} }, createReadStream(file, { highWaterMark: MiB }));
  const alone = spawnSync(process.execPath, ['--import', 'tsx', 'bench/bulk-scorer-process.ts', stack.endpoint, 'bulk-bench-alone', 'records.jsonl', MODEL], { encoding: 'utf8', env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' } });
  if (alone.status !== 0) throw new Error(`the scorer process failed: ${alone.stderr}`);
  const aloneReport = JSON.parse(alone.stdout.trim().split('\n').at(-1)!) as { result: string; seconds: number; peakRssMiB: number };
  if (aloneReport.result !== 'scored') throw new Error(`the scorer process says ${JSON.stringify(aloneReport)}`);

  console.log(`single files: ${M} in ${singleSeconds.toFixed(1)} s = ${(M / singleSeconds).toFixed(0)} records/s (put → outcome)`);
  console.log(`bulk file:    ${N} lines, ${(bytes / MiB).toFixed(0)} MiB in ${bulkSeconds.toFixed(1)} s = ${(N / bulkSeconds).toFixed(0)} records/s (upload ${uploaded.toFixed(1)} s included; outcome ${((outcome.ContentLength ?? 0) / MiB).toFixed(1)} MiB)`);
  console.log(`ratio bulk/single: ${((N / bulkSeconds) / (M / singleSeconds)).toFixed(1)}x`);
  console.log(`peak RSS of this process (stack, scorer, part workers) while the bulk file was uploaded and scored: ${(peakRss / MiB).toFixed(0)} MiB (${(rssBefore / MiB).toFixed(0)} MiB before)`);
  console.log(`a scorer alone in its process (no part workers), the same file: ${aloneReport.seconds.toFixed(1)} s = ${(N / aloneReport.seconds).toFixed(0)} records/s, peak RSS ${aloneReport.peakRssMiB.toFixed(0)} MiB (VmHWM)`);
  await stack.close();
} finally {
  clearInterval(sampler);
  rmSync(root, { recursive: true, force: true });
}
