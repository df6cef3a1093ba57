/**
 * Cold start of the scorer as Lambda runs it: the esbuild bundle `cdk deploy`
 * ships, required outside the project with the runtime layer on NODE_PATH,
 * then a warm-up invocation that loads the model. Per framework, in a fresh
 * process each: require time, time from process start until the model is
 * loaded, and peak RSS. (The warm-up's status write has no DynamoDB to reach
 * here and fails after the load, which is what is being timed.)
 *
 *   npx tsx bench/cold-start.ts
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createDropscoreApp } from '../infra/lib/dropscore-app.js';
import { readDeploymentsManifest } from '../infra/manifest/deployments-manifest.js';

const root = mkdtempSync(join(tmpdir(), 'dropscore-cold-'));
const outdir = join(root, 'cdk.out');
const { app } = createDropscoreApp({ manifest: readDeploymentsManifest('deployments.json'), projectRoot: resolve('.'), directNotifications: false, appProps: { outdir } });
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
handler({ dropscore: 'warm-up' }, {}).catch(() => {}).finally(() => {
  log(JSON.stringify({ requireMs: required - started, modelLoadedMs: loadedAt, peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024) }));
});
`);

console.log('| framework (model) | require bundle (ms) | process start → model loaded (ms) | peak RSS (MB) |');
console.log('|---|---|---|---|');
for (const model of readdirSync('layers/models').sort()) {
  const env = {
    PATH: process.env['PATH'],
    NODE_PATH: join(runtime, 'nodejs/node_modules'),
    AWS_REGION: 'us-east-1',
    AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
    AWS_ACCESS_KEY_ID: 'bench',
    AWS_SECRET_ACCESS_KEY: 'bench',
    AWS_MAX_ATTEMPTS: '1',
    DEPLOYMENT_ID: 'bench',
    DEPLOYMENT_NAME: 'bench',
    MODEL_NAME: model,
    MODEL_DIR: resolve('layers/models', model),
    SOURCE_BUCKET: 'bench-in',
    TARGET_BUCKET: 'bench-out',
    DEPLOYMENTS_TABLE: 'bench',
    LEDGER_TABLE: 'bench',
    // Lambda runs Node 22; the SDK's warning about this machine's Node 20 is noise in the table.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
  const r = JSON.parse(execFileSync('node', [probe], { encoding: 'utf8', env }).trim().split('\n').pop()!) as Record<string, number>;
  console.log(`| ${model} | ${r['requireMs']!.toFixed(0)} | ${r['modelLoadedMs']!.toFixed(0)} | ${r['peakRssMb']} |`);
}
rmSync(root, { recursive: true, force: true });
