/**
 * Pipeline throughput on the embedded stack: N records dropped into a
 * deployment's source bucket, timed from drop to outcome (files/s, p50/p99
 * latency), against a floor loop in the same process that does only what
 * scoring physically needs: S3 get + bare predict + S3 put, on the same
 * servers, with the same concurrency; and against the same loop that first puts
 * each file itself (the "drop floor": the pipeline's files arrive by a PUT the
 * plain floor never makes). After a warm-up, they run twice in the order floor,
 * drop floor, pipeline, pipeline, drop floor, floor; ratios are of the means.
 *
 * Two more figures explain the ratio: uploading alone (the live pipeline's
 * ceiling here, since the uploads share this machine's CPU with the scorer),
 * and the scoring side alone: a deployment started over files already in S3
 * catches up on them (one burst of N events), timed to the last outcome.
 *
 *   npx tsx bench/pipeline.ts [N] [model] [concurrency]
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { Logger } from '../functions/scorer/domain/ports.js';
import { loadModel } from '../functions/scorer/engines/framework-engines.js';
import { startLocalStack } from '../infra/local/local-stack.js';
import { ensureBucket } from '../infra/local/provision.js';
import { parseDeploymentsManifest } from '../infra/manifest/deployments-manifest.js';
import { sampleRecordPath } from './sample-records.js';

const N = Number(process.argv[2] ?? 1000);
const MODEL = process.argv[3] ?? 'mnist-cnn-onnx';
const CONCURRENCY = Number(process.argv[4] ?? 8);

const quiet: Logger = { info: () => {}, warn: () => {}, error: (m, f) => console.error(m, f) };
const dataDir = mkdtempSync(join(tmpdir(), 'dropscore-bench-'));
const record = readFileSync(sampleRecordPath(MODEL));

/** Drop time per key of the pipeline run being timed, and its outcomes as they come. */
let timing: { dropped: Map<string, number>; latencies: number[]; deliveries: number; lastOutcome: number } | undefined;
let lastDrained = 0;

const stack = await startLocalStack({
  dataDir,
  edgePort: 0,
  modelsRoot: 'layers/models',
  log: quiet,
  concurrency: CONCURRENCY,
  onDelivered: (delivery) => {
    if ('error' in delivery) return;
    if (delivery.deployment === 'drain') {
      lastDrained = performance.now();
      return;
    }
    const now = performance.now();
    const timed = timing ? delivery.report.results.filter(({ key }) => timing!.dropped.has(key)) : [];
    if (timed.length === 0) return; // no file of the run being timed
    timing!.deliveries++;
    for (const { key } of timed) timing!.latencies.push(now - timing!.dropped.get(key)!);
    timing!.lastOutcome = now;
  },
});
const [spec] = parseDeploymentsManifest({ deployments: [{ name: 'bench', model: MODEL, source: { bucket: 'bench-in' }, target: { bucket: 'bench-out' } }] }, 'bench').deployments;
await stack.deploy(spec!);
const keys = Array.from({ length: N }, (_, i) => `r-${String(i).padStart(6, '0')}.json`);

// The floor's own copy of the files, in a bucket no deployment watches (not timed).
const loaded = await loadModel(join('layers/models', MODEL));
await ensureBucket(stack.s3, 'floor-in');
await inParallel(keys, CONCURRENCY, async (key) => void (await stack.s3.send(new PutObjectCommand({ Bucket: 'floor-in', Key: key, Body: record }))));

interface Run {
  readonly rate: number;
  readonly cpuMsPerFile: number;
}

/**
 * Get + bare predict + put for each of `count` files, nothing else. Each run writes
 * new objects into a bucket of its own, as the pipeline writes new outcomes (an
 * overwrite can cost less than a creation). `dropFirst`: each file is also put
 * first (into a bucket nobody watches), as the pipeline's files are dropped: the
 * floor of a service whose input arrives by a PUT.
 */
async function floorLoop(outBucket: string, count = N, dropFirst = false): Promise<Run> {
  await ensureBucket(stack.s3, outBucket);
  const inBucket = dropFirst ? `${outBucket}-in` : 'floor-in';
  if (dropFirst) await ensureBucket(stack.s3, inBucket);
  const started = performance.now();
  const cpu = process.cpuUsage();
  const input = loaded.model.signature.inputs[0]!;
  await inParallel(keys.slice(0, count), CONCURRENCY, async (key) => {
    if (dropFirst) await stack.s3.send(new PutObjectCommand({ Bucket: inBucket, Key: key, Body: record }));
    const object = await stack.s3.send(new GetObjectCommand({ Bucket: inBucket, Key: key }));
    const body = JSON.parse(await object.Body!.transformToString()) as Record<string, unknown>;
    const values = (body[input.name] ?? body['values']) as unknown[];
    const flat = Float32Array.from((values as number[][]).flat(Infinity) as number[]);
    const outputs = await loaded.model.predict({ [input.name]: { dtype: 'float32', shape: [1, ...input.shape.slice(1).map((d) => d ?? 1)], data: flat } });
    await stack.s3.send(new PutObjectCommand({ Bucket: outBucket, Key: key, Body: JSON.stringify(Array.from(outputs[loaded.model.signature.outputs[0]!.name]!.data as Float32Array)) }));
  });
  return { rate: count / ((performance.now() - started) / 1000), cpuMsPerFile: cpuMs(process.cpuUsage(cpu)) / count };
}

/** Drops `count` new files into the deployment's source with CONCURRENCY uploads in flight; timed from the first drop to the last outcome. */
async function pipelineRun(prefix: string, count = N): Promise<Run & { latencies: number[]; meanBatch: number }> {
  const run = (timing = { dropped: new Map<string, number>(), latencies: [], deliveries: 0, lastOutcome: 0 });
  await stack.idle();
  const started = performance.now();
  const cpu = process.cpuUsage();
  await inParallel(keys.slice(0, count).map((key) => `${prefix}${key}`), CONCURRENCY, async (key) => {
    run.dropped.set(key, performance.now());
    await stack.s3.send(new PutObjectCommand({ Bucket: 'bench-in', Key: key, Body: record }));
  });
  await stack.idle();
  timing = undefined;
  if (run.latencies.length !== count) throw new Error(`${run.latencies.length} of ${count} dropped files got an outcome`);
  return { rate: count / ((run.lastOutcome - started) / 1000), cpuMsPerFile: cpuMs(process.cpuUsage(cpu)) / count, latencies: run.latencies.sort((a, b) => a - b), meanBatch: count / run.deliveries };
}

// Both sides warm up first (code paths, connections, the first files this process creates).
await floorLoop('floor-warm-up', Math.max(100, N / 5));
await pipelineRun('warm-up-', Math.max(100, N / 5));

// Then CYCLES times floor, pipeline, pipeline, floor: this shared machine's speed drifts
// during a run, and the mirrored order cancels a steady drift.
const CYCLES = 2;
const floors: Run[] = [];
const dropFloors: Run[] = [];
const pipelines: (Run & { latencies: number[]; meanBatch: number })[] = [];
const runOrder: number[] = [];
for (let cycle = 0; cycle < CYCLES; cycle++) {
  for (const side of ['floor', 'drop floor', 'pipeline', 'pipeline', 'drop floor', 'floor'] as const) {
    if (side === 'floor') floors.push(await floorLoop(`floor-out-${floors.length}`));
    else if (side === 'drop floor') dropFloors.push(await floorLoop(`drop-floor-out-${dropFloors.length}`, N, true));
    else pipelines.push(await pipelineRun(`p${pipelines.length}-`));
    runOrder.push((side === 'floor' ? floors : side === 'drop floor' ? dropFloors : pipelines).at(-1)!.rate);
  }
}
const counters = (await stack.deployments.get(spec!.id))!.counters; // warm-up included
// For reference: the floor again over its own outputs, overwriting instead of creating them.
const floorOverwriting = await floorLoop('floor-out-0');

// Uploading alone, to a bucket nobody watches.
await ensureBucket(stack.s3, 'upload-only');
const uploadStarted = performance.now();
await inParallel(keys, CONCURRENCY, async (key) => void (await stack.s3.send(new PutObjectCommand({ Bucket: 'upload-only', Key: key, Body: record }))));
const uploadRate = N / ((performance.now() - uploadStarted) / 1000);

// The scoring side alone: a deployment over the floor's files catches up on all of them at once.
const [drainSpec] = parseDeploymentsManifest({ deployments: [{ name: 'drain', model: MODEL, source: { bucket: 'floor-in' }, target: { bucket: 'drain-out' } }] }, 'bench').deployments;
await stack.deploy(drainSpec!);
const drainStarted = performance.now();
const drainCpu = process.cpuUsage();
await stack.catchUp('drain');
await stack.idle();
const drainRate = N / ((lastDrained - drainStarted) / 1000);
const drainCpuMs = cpuMs(process.cpuUsage(drainCpu));
const drainCounters = (await stack.deployments.get(drainSpec!.id))!.counters;

const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
const pipelineRate = mean(pipelines.map((r) => r.rate));
const floorRate = mean(floors.map((r) => r.rate));
const latencies = pipelines.flatMap((r) => r.latencies).sort((a, b) => a - b);
const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))]!;
const round = (x: number, digits = 1) => Number(x.toFixed(digits));
console.log(JSON.stringify({
  model: MODEL,
  n: N,
  concurrency: CONCURRENCY,
  counters,
  meanBatch: round(mean(pipelines.map((r) => r.meanBatch))),
  pipelineFilesPerSecond: round(pipelineRate),
  floorFilesPerSecond: round(floorRate),
  ratioToFloor: round(pipelineRate / floorRate, 2),
  dropFloorFilesPerSecond: round(mean(dropFloors.map((r) => r.rate))),
  ratioToDropFloor: round(pipelineRate / mean(dropFloors.map((r) => r.rate)), 2),
  // In run order: floor, drop floor, pipeline, pipeline, drop floor, floor, per cycle.
  runs: runOrder.map((r) => round(r)),
  floorOverwritingFilesPerSecond: round(floorOverwriting.rate),
  uploadOnlyFilesPerSecond: round(uploadRate),
  drainFilesPerSecond: round(drainRate),
  drainRatioToFloor: round(drainRate / floorRate, 2),
  drainCounters,
  // CPU time of every thread (scorers, servers, uploads) per file: on a machine with few cores, the bound.
  pipelineCpuMsPerFile: round(mean(pipelines.map((r) => r.cpuMsPerFile)), 2),
  drainCpuMsPerFile: round(drainCpuMs / N, 2),
  floorCpuMsPerFile: round(mean(floors.map((r) => r.cpuMsPerFile)), 2),
  dropFloorCpuMsPerFile: round(mean(dropFloors.map((r) => r.cpuMsPerFile)), 2),
  p50Ms: round(pct(50)),
  p99Ms: round(pct(99)),
  peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
}));
await stack.close();
rmSync(dataDir, { recursive: true, force: true });

function cpuMs(usage: NodeJS.CpuUsage): number {
  return (usage.user + usage.system) / 1000;
}

async function inParallel<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < items.length) await work(items[next++]!);
  }));
}
