/**
 * `npm start`: the whole product on this machine. Starts the embedded stack,
 * deploys the manifest, drops the sample records, prints each outcome as it
 * lands and the deployments' status and counters, then keeps serving
 * (or exits with `--once`, for CI and scripts).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { bulkFormatOf, inputContentTypeOf } from '../../functions/scorer/bulk/bulk-keys.js';
import { describeError } from '../../functions/scorer/domain/errors.js';
import { outcomeKey } from '../../functions/scorer/domain/outcome-object.js';
import type { DeploymentBinding, DeploymentRecord, Logger } from '../../functions/scorer/domain/ports.js';
import { startConsole, type ConsoleHandle } from '../../console/console-server.js';
import { readDeploymentsManifest, type DeploymentSpec } from '../manifest/deployments-manifest.js';
import type { Delivery } from './event-dispatcher.js';
import { awsCliExports } from './auth/local-credentials.js';
import { startLocalStack } from './local-stack.js';

const { values: args } = parseArgs({
  options: {
    once: { type: 'boolean', default: false },
    port: { type: 'string', default: process.env['DROPSCORE_PORT'] ?? '4566' },
    'data-dir': { type: 'string', default: '.dropscore' },
    manifest: { type: 'string', default: 'deployments.json' },
    samples: { type: 'string', default: 'samples' },
    // The web console (127.0.0.1 only); `off` starts none. Not with --once.
    'console-port': { type: 'string', default: process.env['DROPSCORE_CONSOLE_PORT'] ?? '4567' },
  },
});

const stderrLogger: Logger = {
  info: () => {},
  warn: (message, fields) => console.error(`warn: ${message} ${JSON.stringify(fields ?? {})}`),
  error: (message, fields) => console.error(`error: ${message} ${JSON.stringify(fields ?? {})}`),
};

const manifest = readDeploymentsManifest(resolve(args.manifest!));
const specs = new Map(manifest.deployments.map((d) => [d.name, d]));
let failures = 0;

const stack = await startLocalStack({
  dataDir: resolve(args['data-dir']!),
  edgePort: Number(args.port),
  modelsRoot: resolve('layers/models'),
  log: stderrLogger,
  limits: manifest.limits,
  // Deployments made with the CLI from another terminal start scoring here.
  watchIntervalMs: 500,
  onDelivered: printDelivery,
}).catch((error: unknown) => {
  console.error(`error: ${describeError(error)}`);
  if (/EADDRINUSE/.test(String(error))) console.error(`Is another local stack running? Stop it, or pick another port with --port (or DROPSCORE_PORT).`);
  process.exit(1);
});
console.log(`dropscore local stack on ${stack.endpoint} (S3 + DynamoDB, SigV4-signed requests only), data in ${args['data-dir']}/`);

for (const spec of manifest.deployments) {
  const existed = (await stack.deployments.get(spec.id)) !== undefined;
  const record = await stack.deploy(spec);
  console.log(`deployed ${spec.name}: model ${spec.model} (${record.framework}), s3://${spec.source.bucket}/${spec.source.prefix} → s3://${spec.target.bucket}/${spec.target.prefix}: ${record.status}${record.statusDetails ? ` (${record.statusDetails})` : ''}`);
  // A new deployment over a bucket that already has objects scores them; a known one only replays what a crash left.
  const caught = existed ? 0 : await stack.catchUp(spec.name);
  if (caught > 0) console.log(`  ${caught} object(s) already in the source bucket dispatched (scored only if they have no outcome)`);
}
const replayed = stack.replayUnfinishedEvents();
if (replayed > 0) console.log(`${replayed} event(s) the last run had not finished delivering: delivered again`);

for (const spec of manifest.deployments) await dropSamples(spec);
await stack.idle();
console.log('');
printDeployments(await stack.deployments.list());

if (args.once) {
  await stack.close();
  process.exit(failures > 0 ? 1 : 0);
}
let webConsole: ConsoleHandle | undefined;
if (args['console-port'] !== 'off') {
  webConsole = await startConsole({ stack, manifestPath: resolve(args.manifest!), modelsRoot: resolve('layers/models'), port: Number(args['console-port']), log: stderrLogger });
}
printHowToDrop();
if (webConsole) console.log(`Web console: ${webConsole.url} (models, Add Deployment, drop records, live outcomes; this machine only)`);
process.on('SIGINT', () => void (webConsole?.close() ?? Promise.resolve()).then(() => stack.close()).then(() => process.exit(0)));

async function dropSamples(spec: DeploymentSpec): Promise<void> {
  const dir = join(args.samples!, spec.name);
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.json') || bulkFormatOf(f) !== undefined).sort();
  } catch {
    return;
  }
  for (const file of files) {
    const key = `${spec.source.prefix}${file}`;
    await stack.s3.send(new PutObjectCommand({ Bucket: spec.source.bucket, Key: key, Body: readFileSync(join(dir, file)), ContentType: inputContentTypeOf(file) }));
    console.log(`dropped s3://${spec.source.bucket}/${key}`);
  }
}

async function printDelivery(delivery: Delivery): Promise<void> {
  // Deployments made since start (CLI, web console) are not in the manifest read above.
  const spec: DeploymentBinding | undefined = specs.get(delivery.deployment) ?? (await stack.deployments.list()).find((d) => d.name === delivery.deployment);
  if (!spec) return;
  if ('error' in delivery) {
    failures++;
    console.log(`✖ ${delivery.deployment}  ${delivery.keys.join(', ')}: not finished (${delivery.error}); event saved to ${delivery.deadLetter}`);
    return;
  }
  for (const { key, result } of delivery.report.results) {
    if (result !== 'scored' && result !== 'failed') {
      const why = { duplicate: 'already scored (same content): outcome unchanged', ignored: 'not watched', missing: 'deleted before scoring', 'fanned-out': 'handed to the fan-out' }[result];
      console.log(`· ${delivery.deployment}  ${key}: ${why}`);
      continue;
    }
    const target = outcomeKey(spec, key);
    const response = await stack.s3.send(new GetObjectCommand({ Bucket: spec.target.bucket, Key: target }));
    const body = await response.Body!.transformToString();
    const mark = result === 'scored' ? '✔' : '✖';
    // A bulk file's outcome is JSON Lines: one line per record, in order.
    const shown = bulkFormatOf(key) ? body.trimEnd().split('\n').map(summarise).join('\n    ') : summarise(body);
    console.log(`${mark} ${delivery.deployment}  ${key} → s3://${spec.target.bucket}/${target}\n    ${shown}`);
  }
}

/** Outcomes can be long: show them with 4-decimal numbers, cut at one line's worth. */
function summarise(body: string): string {
  const compact = JSON.stringify(JSON.parse(body), (_k, v: unknown) => (typeof v === 'number' && !Number.isInteger(v) ? Number(v.toFixed(4)) : v));
  return compact.length > 400 ? `${compact.slice(0, 400)}…` : compact;
}

function printDeployments(records: DeploymentRecord[]): void {
  console.log('deployments (from the deployments table):');
  for (const r of records) {
    const c = r.counters;
    console.log(`  ${r.name}  ${r.status}  received ${c.received}, scored ${c.scored}, failed ${c.failed}${r.lastError ? `\n    last error: ${r.lastError}` : ''}`);
  }
}

function printHowToDrop(): void {
  const spec = manifest.deployments[0];
  if (!spec) return;
  console.log(`
Serving. Drop more records with any S3 client signing with the stack's key pair, e.g. the aws CLI:
  ${awsCliExports(stack.connection.credentials!, stack.connection.region)}
  aws --endpoint-url ${stack.endpoint} s3 cp samples/${spec.name}/seven-drawn.json s3://${spec.source.bucket}/${spec.source.prefix}my-record.json
  aws --endpoint-url ${stack.endpoint} s3 cp s3://${spec.target.bucket}/${spec.target.prefix}my-record.json -
The dropscore CLI talks to this stack with (not needed on the default port 4566):
  export DROPSCORE_ENDPOINT=${stack.endpoint}
  npx dropscore deployments list
Outcomes are printed here as they land. Ctrl-C stops (data stays in ${args['data-dir']}/).`);
}
