/**
 * Small bulk files on the embedded stack: N JSON Lines files of L records
 * each (the usual drop: well under one part) dropped into a deployment's
 * source bucket, 8 uploads in flight, timed from the first drop to the last
 * outcome. Reports files/s, records/s, CPU per file (every thread of this
 * process: scorer, servers, uploads), the counters, and the intermediate
 * objects left in the target (none, when every file finished).
 *
 *   npx tsx bench/small-bulk-files.ts [N=400] [L=10] [model=mnist-cnn-onnx] [rounds=3]
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import type { Logger } from '../functions/scorer/domain/ports.js';
import { inParallel } from '../functions/scorer/domain/in-parallel.js';
import { startLocalStack } from '../infra/local/local-stack.js';
import { parseDeploymentsManifest } from '../infra/manifest/deployments-manifest.js';
import { sampleRecordPath } from './sample-records.js';

const N = Number(process.argv[2] ?? 400);
const L = Number(process.argv[3] ?? 10);
const MODEL = process.argv[4] ?? 'mnist-cnn-onnx';
const ROUNDS = Number(process.argv[5] ?? 3);
const quiet: Logger = { info: () => {}, warn: () => {}, error: (m, f) => console.error(m, f) };

const dataDir = mkdtempSync(join(tmpdir(), 'dropscore-small-bulk-'));
const line = JSON.stringify(JSON.parse(readFileSync(sampleRecordPath(MODEL), 'utf8')));
const file = `${Array.from({ length: L }, () => line).join('\n')}\n`;

const stack = await startLocalStack({ dataDir, edgePort: 0, modelsRoot: 'layers/models', log: quiet });
const [spec] = parseDeploymentsManifest({ deployments: [{ name: 'bench', model: MODEL, source: { bucket: 'small-in' }, target: { bucket: 'small-out' } }] }, 'bench').deployments;
await stack.deploy(spec!);

async function round(prefix: string, count: number) {
  await stack.idle();
  const started = performance.now();
  const cpu = process.cpuUsage();
  await inParallel(Array.from({ length: count }, (_, i) => `${prefix}${String(i).padStart(5, '0')}.jsonl`), 8, async (key) => {
    await stack.s3.send(new PutObjectCommand({ Bucket: 'small-in', Key: key, Body: file }));
  });
  await stack.idle();
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  return { filesPerSecond: count / seconds, cpuMsPerFile: (used.user + used.system) / 1000 / count };
}

await round('warm-up/', Math.max(50, N / 5));
const rounds = [];
for (let r = 0; r < ROUNDS; r++) rounds.push(await round(`r${r}/`, N));

const counters = (await stack.deployments.get(spec!.id))!.counters;
const leftOver = await stack.s3.send(new ListObjectsV2Command({ Bucket: 'small-out', Prefix: '.dropscore-parts/' }));
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const fixed = (x: number, digits = 1) => Number(x.toFixed(digits));
console.log(JSON.stringify({
  model: MODEL,
  files: N,
  recordsPerFile: L,
  fileBytes: Buffer.byteLength(file),
  filesPerSecond: rounds.map((r) => fixed(r.filesPerSecond)),
  medianFilesPerSecond: fixed(median(rounds.map((r) => r.filesPerSecond))),
  medianRecordsPerSecond: fixed(median(rounds.map((r) => r.filesPerSecond)) * L),
  cpuMsPerFile: rounds.map((r) => fixed(r.cpuMsPerFile, 2)),
  medianCpuMsPerFile: fixed(median(rounds.map((r) => r.cpuMsPerFile)), 2),
  counters,
  intermediatesLeft: leftOver.KeyCount,
}));
await stack.close();
rmSync(dataDir, { recursive: true, force: true });
