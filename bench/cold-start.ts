/**
 * Cold start of the scorer as Lambda runs it: the esbuild bundle `cdk deploy`
 * ships, required outside the project with the runtime layer on NODE_PATH,
 * then its first invocation: an S3 event for a record already in the source
 * bucket of the embedded stack, which loads the model, scores the record and
 * writes its outcome. Per framework, in a fresh process each: require time,
 * time from process start until the model is loaded and until the first
 * outcome is written, and peak RSS.
 *
 *   npx tsx bench/cold-start.ts
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { createDropscoreApp } from '../infra/lib/dropscore-app.js';
import { LOCAL_CREDENTIALS } from '../infra/local/auth/local-credentials.js';
import { startLocalStack } from '../infra/local/local-stack.js';
import { DEFAULT_TABLES, ensureBucket } from '../infra/local/provision.js';
import { readDeploymentsManifest } from '../infra/manifest/deployments-manifest.js';

const root = mkdtempSync(join(tmpdir(), 'dropscore-cold-'));
const outdir = join(root, 'cdk.out');
const manifest = readDeploymentsManifest('deployments.json');
const { app } = createDropscoreApp({ manifest, projectRoot: resolve('.'), directNotifications: false, appProps: { outdir } });
app.synth();
const assets = readdirSync(outdir).filter((d) => d.startsWith('asset.')).map((d) => join(outdir, d));
const bundle = assets.find((d) => readdirSync(d).includes('tfjs-backend-wasm.wasm'))!;
const runtime = assets.find((d) => readdirSync(d).includes('nodejs'))!;
const task = join(root, 'task');
cpSync(bundle, task, { recursive: true }); // outside the project: no "type": "module" above it, as in /var/task
const probe = join(root, 'probe.cjs');
writeFileSync(probe, `
const started = performance.now();
const { handler } = require(${JSON.stringify(join(task, 'index.js'))});
const required = performance.now();
const log = console.log;
let loadedAt;
console.log = (line) => { if (String(line).includes('"model loaded"')) loadedAt = performance.now(); };
const event = { Records: [{ eventVersion: '2.1', eventSource: 'aws:s3', eventName: 'ObjectCreated:Put', s3: { bucket: { name: process.env.SOURCE_BUCKET }, object: { key: process.env.RECORD_KEY } } }] };
handler(event, {}).then((result) => {
  const outcomeAt = performance.now();
  // VmHWM is this process's own peak: getrusage's maxRSS would also count the forking parent's pages.
  const peakKb = Number(/VmHWM:\\s+(\\d+) kB/.exec(require('node:fs').readFileSync('/proc/self/status', 'utf8'))[1]);
  log(JSON.stringify({ requireMs: required - started, modelLoadedMs: loadedAt, firstOutcomeMs: outcomeAt, result, peakRssMb: Math.round(peakKb / 1024) }));
}, (error) => { console.error(error); process.exit(1); });
`);

// The S3 and DynamoDB the first invocation talks to, in this process (the probe reaches them over the loopback).
const stack = await startLocalStack({ dataDir: join(root, 'data'), edgePort: 0, modelsRoot: resolve('layers/models'), log: { info() {}, warn() {}, error() {} } });
try {
  console.log('| deployment (model) | require bundle (ms) | process start → model loaded (ms) | process start → first outcome written (ms) | peak RSS (MB) |');
  console.log('|---|---|---|---|---|');
  for (const spec of manifest.deployments) {
    await ensureBucket(stack.s3, spec.source.bucket);
    await ensureBucket(stack.s3, spec.target.bucket);
    await stack.deployments.upsert({ ...spec, framework: 'cold-start-bench' });
    const key = readdirSync(`samples/${spec.name}`).sort().find((f) => !f.includes('wrong'))!;
    await stack.s3.send(new PutObjectCommand({ Bucket: spec.source.bucket, Key: key, Body: readFileSync(`samples/${spec.name}/${key}`) }));
    const env = {
      PATH: process.env['PATH'],
      NODE_PATH: join(runtime, 'nodejs/node_modules'),
      AWS_REGION: 'us-east-1',
      AWS_ENDPOINT_URL: stack.endpoint,
      AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
      DEPLOYMENT_ID: spec.id,
      DEPLOYMENT_NAME: spec.name,
      MODEL_NAME: spec.model,
      MODEL_DIR: resolve('layers/models', spec.model),
      SOURCE_BUCKET: spec.source.bucket,
      TARGET_BUCKET: spec.target.bucket,
      DEPLOYMENTS_TABLE: DEFAULT_TABLES.deploymentsTable,
      LEDGER_TABLE: DEFAULT_TABLES.ledgerTable,
      RECORD_KEY: key,
      // Lambda runs Node 22; the SDK's warning about this machine's Node 20 is noise in the table.
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    };
    const { stdout } = await promisify(execFile)('node', [probe], { encoding: 'utf8', env, timeout: 120_000 });
    const r = JSON.parse(stdout.trim().split('\n').pop()!) as { requireMs: number; modelLoadedMs: number; firstOutcomeMs: number; peakRssMb: number; result: unknown };
    const expected = JSON.stringify({ results: [{ key, result: 'scored' }] });
    if (JSON.stringify(r.result) !== expected) throw new Error(`${spec.name}: the first invocation returned ${JSON.stringify(r.result)}, expected ${expected}`);
    console.log(`| ${spec.name} (${spec.model}) | ${r.requireMs.toFixed(0)} | ${r.modelLoadedMs.toFixed(0)} | ${r.firstOutcomeMs.toFixed(0)} | ${r.peakRssMb} |`);
  }
} finally {
  await stack.close();
  rmSync(root, { recursive: true, force: true });
}
