/**
 * Cold start of the scorer as Lambda runs it, against a floor, side by side.
 *
 * The scorer: the esbuild bundle `cdk deploy` ships for each deployment
 * (only its framework's engine), imported outside the project with its layers
 * as /opt (NODE_PATH), then its first invocation: an S3 event for a record
 * already in the source bucket of the embedded stack. The floor: the least a
 * script can do for the same work (bench/floors/): import its runtime and the
 * S3 client, load a model, GET the record, predict, PUT the outcome, bundled
 * the same way. onnxruntime scorers (ONNX, Caffe) are compared with the ONNX
 * floor (the MNIST ONNX model); TensorFlow.js scorers (Keras, TensorFlow) with
 * the TensorFlow.js wasm floor (an MNIST CNN graph model). A Keras
 * deployment whose model has a graph rewrite is measured twice: as shipped
 * (the graph-only scorer) and with the Keras engine, as it shipped before and
 * still ships for models the rewrite cannot express. "Outcome written" is
 * when the target bucket answers the outcome's PUT (the floor's last step);
 * the scorer's invocation then also finishes its ledger entry, counters and
 * metrics, and the table gives that end too. The ONNX deployment is
 * also measured as a deployment tracing its AWS calls (the manifest's
 * traceAwsCalls: its scorer built with Powertools' tracer), as Lambda runs it
 * for a sampled invocation. Each round runs
 * both in fresh processes, alternating which goes first; the table gives the
 * median and the range over rounds.
 *
 *   npx tsx bench/cold-start.ts [rounds=5]
 */
import { execFile } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { build } from 'esbuild';
import { KERAS_GRAPH } from '../functions/scorer/engines/graph-rewrite/graph-rewrite-files.js';
import { createDropscoreApp } from '../infra/lib/dropscore-app.js';
import { BUNDLE_OPTIONS } from '../infra/lib/constructs/node-function.js';
import { scorerPackageFor, TFJS_WASM_FILES } from '../infra/lib/scorer-package.js';
import { LOCAL_CREDENTIALS } from '../infra/local/auth/local-credentials.js';
import { startLocalStack } from '../infra/local/local-stack.js';
import { DEFAULT_TABLES, ensureBucket } from '../infra/local/provision.js';
import { parseDeploymentsManifest, readDeploymentsManifest } from '../infra/manifest/deployments-manifest.js';

const ROUNDS = Number(process.argv[2] ?? 5);
const root = mkdtempSync(join(tmpdir(), 'dropscore-cold-'));
const outdir = join(root, 'cdk.out');
const framework = (model: string) => (JSON.parse(readFileSync(`layers/models/${model}/model-meta.json`, 'utf8')) as { framework: string }).framework;
const manifest = readDeploymentsManifest('deployments.json');
// The ONNX deployment once more, tracing its AWS calls (its scorer is built with Powertools' tracer).
const onnxSpec = manifest.deployments.find((d) => framework(d.model) === 'onnx')!;
const tracedSpec = parseDeploymentsManifest({
  deployments: [{ name: `${onnxSpec.name}-traced`, model: onnxSpec.model, source: { bucket: `${onnxSpec.source.bucket}-tr` }, target: { bucket: `${onnxSpec.target.bucket}-tr` }, traceAwsCalls: true }],
}, 'traced deployment').deployments[0]!;
const { app } = createDropscoreApp({ manifest: { ...manifest, deployments: [...manifest.deployments, tracedSpec] }, projectRoot: resolve('.'), localstack: false, appProps: { outdir } });
const template = app.synth().getStackByName('Dropscore').template as { Resources: Record<string, { Type: string; Properties: Record<string, any> }> };
const assetDir = (code: { S3Key: string }) => join(outdir, `asset.${code.S3Key.replace(/\.zip$/, '')}`);

type Floor = 'onnx' | 'tfjs';
interface Measured {
  modelLoadedMs: number;
  /** When the outcome's PUT was answered. */
  firstOutcomeMs: number;
  /** When the invocation returned: for the scorer, after the ledger completion, counters and metrics too; for a floor, the same as firstOutcomeMs. */
  invocationMs?: number;
  peakRssMb: number;
}

interface Staged {
  task: string;
  opt: string;
  env: Record<string, string>;
}

/** The deployment's function as Lambda would run it: its bundle in task-<name>, its layers merged in opt-<name>. */
function stagePackage(name: string): Staged {
  const fn = Object.values(template.Resources).find((r) => r.Type === 'AWS::Lambda::Function' && r.Properties['Environment']?.Variables?.DEPLOYMENT_NAME === name)!;
  const task = join(root, `task-${name}`);
  const opt = join(root, `opt-${name}`);
  cpSync(assetDir(fn.Properties['Code']), task, { recursive: true }); // outside the project, as in /var/task
  for (const ref of fn.Properties['Layers'] as { Ref: string }[]) cpSync(assetDir(template.Resources[ref.Ref]!.Properties['Content']), opt, { recursive: true });
  const vars = fn.Properties['Environment'].Variables as Record<string, unknown>;
  const env = Object.fromEntries(Object.entries(vars).filter((e): e is [string, string] => typeof e[1] === 'string'));
  return { task, opt, env: { ...env, MODEL_DIR: join(opt, String(vars['MODEL_DIR']).replace(/^\/opt\//, '')) } };
}

/** A floor bundled as the scorer is (one minified ES module, TensorFlow.js's wasm binaries beside it). */
async function buildFloor(floor: Floor): Promise<string> {
  const dir = join(root, `floor-${floor}`);
  await build({
    entryPoints: [`bench/floors/${floor}-floor.ts`], outfile: join(dir, 'index.mjs'), ...BUNDLE_OPTIONS,
    external: ['onnxruntime-node'], logLevel: 'error',
  });
  if (floor === 'tfjs') for (const file of TFJS_WASM_FILES) cpSync(`node_modules/@tensorflow/tfjs-backend-wasm/dist/${file}`, join(dir, file));
  return join(dir, 'index.mjs');
}

/**
 * A Keras deployment whose model has a graph rewrite ships the graph-only scorer. For comparison,
 * the same deployment as it shipped before (and still ships for models the rewrite cannot express):
 * the keras entry bundled the same way, its layers without keras-graph/, so the Keras engine loads.
 */
async function stageKerasEngine(staged: Staged, name: string): Promise<Staged> {
  const kerasEngine = scorerPackageFor('keras'); // no model folder: the Keras engine's entry, as synth builds it
  const task = join(root, `task-${name}-keras-engine`);
  await build({
    entryPoints: [kerasEngine.entry], outfile: join(task, 'index.mjs'), ...BUNDLE_OPTIONS,
    external: [...kerasEngine.externalModules], alias: Object.fromEntries(Object.entries(kerasEngine.aliases).map(([from, to]) => [from, resolve(to)])), logLevel: 'error',
  });
  for (const file of TFJS_WASM_FILES) cpSync(`node_modules/@tensorflow/tfjs-backend-wasm/dist/${file}`, join(task, file));
  const opt = join(root, `opt-${name}-keras-engine`);
  cpSync(staged.opt, opt, { recursive: true });
  const modelDir = join(opt, staged.env['MODEL_DIR']!.slice(staged.opt.length));
  rmSync(join(modelDir, KERAS_GRAPH.dir), { recursive: true, force: true });
  return { task, opt, env: { ...staged.env, MODEL_DIR: modelDir } };
}

const probe = join(root, 'probe.mjs');
writeFileSync(probe, `
// Powertools' logger writes to process.stdout through its own Console: watch the stream, keep it quiet.
const write = process.stdout.write.bind(process.stdout);
const log = (line) => write(line + '\\n');
let modelLoadedMs;
process.stdout.write = (chunk) => { if (String(chunk).includes('"model loaded"')) modelLoadedMs ??= performance.now(); return true; };
// The outcome is written when the target bucket answers its PUT; the scorer's bookkeeping follows.
let firstOutcomeMs;
const { subscribe } = await import('node:diagnostics_channel');
subscribe('http.client.response.finish', ({ request }) => {
  if (request.method === 'PUT' && request.path.startsWith('/' + process.env.TARGET_BUCKET + '/')) firstOutcomeMs ??= performance.now();
});
const { handler } = await import(process.env.BUNDLE_URL);
const event = { Records: [{ eventVersion: '2.1', eventSource: 'aws:s3', eventName: 'ObjectCreated:Put', s3: { bucket: { name: process.env.SOURCE_BUCKET }, object: { key: process.env.RECORD_KEY } } }] };
const result = await handler(event, {});
const invocationMs = performance.now();
if (JSON.stringify(result) !== JSON.stringify({ results: [{ key: process.env.RECORD_KEY, result: 'scored' }] })) throw new Error('first invocation returned ' + JSON.stringify(result));
if (firstOutcomeMs === undefined) throw new Error('no PUT to the target bucket was seen');
const { readFileSync } = await import('node:fs');
const peakKb = Number(/VmHWM:\\s+(\\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))[1]);
log(JSON.stringify({ modelLoadedMs, firstOutcomeMs, invocationMs, peakRssMb: Math.round(peakKb / 1024) }));
`);

async function run(script: string, env: Record<string, string>): Promise<Measured> {
  const { stdout } = await promisify(execFile)('node', [script], { encoding: 'utf8', env: { PATH: process.env['PATH']!, ...env }, timeout: 120_000 });
  return JSON.parse(stdout.trim().split('\n').pop()!) as Measured;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const range = (xs: number[], digits = 0) => `${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)}`;

const floors: Record<Floor, { script: string; model: string; sample: string }> = {
  onnx: { script: await buildFloor('onnx'), model: resolve('layers/models/mnist-cnn-onnx/mnist-cnn.onnx'), sample: 'samples/mnist-onnx/mnist1-digit.json' },
  tfjs: { script: await buildFloor('tfjs'), model: resolve('test/fixtures/models/tfjs_graph/jsimluken_tiny_mnist_cnn_tf1_15'), sample: 'samples/mnist-keras/mnist1-digit.json' },
};
const FLOOR_BUCKET = 'dropscore-cold-floor';

const stack = await startLocalStack({ dataDir: join(root, 'data'), edgePort: 0, modelsRoot: resolve('layers/models'), log: { info() {}, warn() {}, error() {} } });
// A deployment with traceAwsCalls, as Lambda runs it for a sampled invocation: the X-Ray SDK sends its segments to a daemon on loopback.
const daemon = createSocket('udp4');
await new Promise<void>((bound) => daemon.bind(0, '127.0.0.1', bound));
try {
  const common = {
    AWS_REGION: 'us-east-1',
    AWS_ENDPOINT_URL: stack.endpoint,
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    // Lambda runs Node 22; the SDK's warning about this machine's Node 20 is noise.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
  await ensureBucket(stack.s3, FLOOR_BUCKET);
  const put = (bucket: string, key: string, file: string) => stack.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: readFileSync(file) }));
  const rows: string[] = [];
  const traced = (staged: Staged): Staged => ({
    ...staged,
    env: {
      ...staged.env, AWS_XRAY_DAEMON_ADDRESS: `127.0.0.1:${daemon.address().port}`, LAMBDA_TASK_ROOT: staged.task,
      AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x', AWS_LAMBDA_FUNCTION_NAME: 'scorer', _X_AMZN_TRACE_ID: 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1',
    },
  });
  const variants = manifest.deployments.flatMap((spec) => {
    const samples = spec.name;
    const shipped = { spec, samples, label: `${spec.name} (${framework(spec.model)})`, stage: async () => stagePackage(spec.name) };
    if (spec === onnxSpec) return [shipped, { spec: tracedSpec, samples, label: `${tracedSpec.name} (onnx, AWS calls traced)`, stage: async () => traced(stagePackage(tracedSpec.name)) }];
    if (!existsSync(join('layers/models', spec.model, KERAS_GRAPH.dir))) return [shipped];
    return [
      { ...shipped, label: `${spec.name} (keras, graph rewrite: shipped)` },
      { spec, samples, label: `${spec.name} (keras engine, before)`, stage: async () => stageKerasEngine(stagePackage(spec.name), spec.name) },
    ];
  });
  for (const { spec, samples, label, stage } of variants) {
    const floor: Floor = ['onnx', 'caffe'].includes(framework(spec.model)) ? 'onnx' : 'tfjs';
    const staged = await stage();
    await ensureBucket(stack.s3, spec.source.bucket);
    await ensureBucket(stack.s3, spec.target.bucket);
    await stack.deployments.upsert({ ...spec, framework: 'cold-start-bench' });
    const sample = readdirSync(`samples/${samples}`).sort().find((f) => f.endsWith('.json') && !f.includes('wrong'))!; // one record, as the floor scores
    const prefix = `cold-${rows.length}`;
    const floorRuns: Measured[] = [];
    const scorerRuns: Measured[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const key = `${prefix}-${round}-${sample}`; // a new key each round: the ledger would call a repeat a duplicate
      await put(spec.source.bucket, key, `samples/${samples}/${sample}`);
      await put(FLOOR_BUCKET, key, floors[floor].sample);
      const runFloor = async () => floorRuns.push(await run(floors[floor].script, { ...common, NODE_PATH: join(staged.opt, 'nodejs/node_modules'), FLOOR_MODEL: floors[floor].model, SOURCE_BUCKET: FLOOR_BUCKET, TARGET_BUCKET: FLOOR_BUCKET, RECORD_KEY: `${key}` }));
      const runScorer = async () => scorerRuns.push(await run(probe, {
        ...common, ...staged.env, NODE_PATH: join(staged.opt, 'nodejs/node_modules'), BUNDLE_URL: pathToFileURL(join(staged.task, 'index.mjs')).href,
        DEPLOYMENTS_TABLE: DEFAULT_TABLES.deploymentsTable, LEDGER_TABLE: DEFAULT_TABLES.ledgerTable, RECORD_KEY: key,
      }));
      if (round % 2 === 0) { await runFloor(); await runScorer(); } else { await runScorer(); await runFloor(); }
    }
    const ratios = scorerRuns.map((s, i) => s.firstOutcomeMs / floorRuns[i]!.firstOutcomeMs);
    const returnRatios = scorerRuns.map((s, i) => s.invocationMs! / floorRuns[i]!.firstOutcomeMs);
    const f = floorRuns.map((r) => r.firstOutcomeMs);
    const s = scorerRuns.map((r) => r.firstOutcomeMs);
    const returned = scorerRuns.map((r) => r.invocationMs!);
    rows.push(`| ${label} | ${floor} | ${median(f).toFixed(0)} (${range(f)}) | ${median(s).toFixed(0)} (${range(s)}) | ${median(ratios).toFixed(2)}x (${range(ratios, 2)}) | ${median(returned).toFixed(0)}, ${median(returnRatios).toFixed(2)}x (${range(returnRatios, 2)}) | ${median(floorRuns.map((r) => r.modelLoadedMs)).toFixed(0)} / ${median(scorerRuns.map((r) => r.modelLoadedMs)).toFixed(0)} | ${median(floorRuns.map((r) => r.peakRssMb))} / ${median(scorerRuns.map((r) => r.peakRssMb))} |`);
    console.error(`${label}: done`);
  }
  console.log(`${ROUNDS} rounds, floor and scorer alternating; medians (min–max):\n`);
  console.log('| deployment (framework) | floor | floor: process start → outcome written (ms) | scorer bundle: process start → outcome written (ms) | scorer / floor | scorer: process start → invocation returned (ms), / floor | process start → model loaded, floor / scorer at init (ms) | peak RSS floor / scorer (MiB) |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const row of rows) console.log(row);
} finally {
  daemon.close();
  await stack.close();
  rmSync(root, { recursive: true, force: true });
}
