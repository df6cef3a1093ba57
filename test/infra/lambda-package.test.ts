/**
 * The real Lambda package, bundled by esbuild as `cdk deploy` would ship it:
 * its unzipped size against our ceilings per framework (and Lambda's 250 MB
 * limit), no source map, the architecture and layers its engine needs, and a
 * run of the bundle outside the project (as in /var/task, with the layers'
 * folders as /opt) scoring a record against the embedded S3 + DynamoDB,
 * loading only its own engine.
 */
import { execFile } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasCurrentRewriteSync, KERAS_GRAPH, SAVED_MODEL_GRAPH } from '../../functions/scorer/engines/graph-rewrite/graph-rewrite-files.js';
import { BUNDLE_OPTIONS } from '../../infra/lib/constructs/node-function.js';
import { createDropscoreApp } from '../../infra/lib/dropscore-app.js';
import { scorerPackageFor, TFJS_WASM_FILES } from '../../infra/lib/scorer-package.js';
import { DEFAULT_TABLES, ensureBucket } from '../../infra/local/provision.js';
import type { LocalStack } from '../../infra/local/local-stack.js';
import { LOCAL_CREDENTIALS } from '../../infra/local/auth/local-credentials.js';
import { parseDeploymentsManifest, readDeploymentsManifest } from '../../infra/manifest/deployments-manifest.js';
import { readOutcome, startTestStack } from '../support/local-stack-harness.js';
import { MODELS_ROOT, REPO_ROOT } from '../support/paths.js';

const MIB = 2 ** 20;
const LAMBDA_UNZIPPED_LIMIT = 250 * MIB;
// Issue 18's ceilings: onnxruntime's layer is most of an ONNX or Caffe package; TensorFlow.js's are small.
const CEILING_MIB: Readonly<Record<string, number>> = { onnx: 50, caffe: 50, keras: 12, tensorflow: 12, tfjs: 12 };
const ONNX_RUNTIME_FRAMEWORKS = ['onnx', 'caffe'];
const outdir = mkdtempSync(join(tmpdir(), 'dropscore-cdk-'));
const manifest = readDeploymentsManifest(`${REPO_ROOT}deployments.json`);
// The ONNX deployment once more, tracing its AWS calls: its scorer is built with Powertools' tracer.
const onnxSpec = manifest.deployments.find((d) => frameworkOfModel(d.model) === 'onnx')!;
const tracedSpec = parseDeploymentsManifest({
  deployments: [{ name: `${onnxSpec.name}-traced`, model: onnxSpec.model, source: { bucket: `${onnxSpec.source.bucket}-tr` }, target: { bucket: `${onnxSpec.target.bucket}-tr` }, traceAwsCalls: true }],
}, 'traced deployment').deployments[0]!;
let template: { Resources: Record<string, { Type: string; Properties: Record<string, any> }> };

beforeAll(() => {
  const { app } = createDropscoreApp({ manifest: { ...manifest, deployments: [...manifest.deployments, tracedSpec] }, projectRoot: REPO_ROOT, localstack: false, appProps: { outdir } });
  const assembly = app.synth();
  template = assembly.getStackByName('Dropscore').template;
}, 120_000);
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

function assetDir(code: { S3Key: string }): string {
  return join(outdir, `asset.${code.S3Key.replace(/\.zip$/, '')}`);
}

function sizeOf(path: string): number {
  const stat = statSync(path);
  return stat.isDirectory() ? readdirSync(path).reduce((sum, entry) => sum + sizeOf(join(path, entry)), 0) : stat.size;
}

function filesUnder(path: string): string[] {
  return statSync(path).isDirectory() ? readdirSync(path).flatMap((entry) => filesUnder(join(path, entry))) : [path];
}

function scorerPackage(deployment: string) {
  const [fn] = Object.values(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Function' && r.Properties['Environment']?.Variables?.DEPLOYMENT_NAME === deployment);
  const layers = (fn!.Properties['Layers'] as { Ref: string }[]).map((ref) => assetDir(template.Resources[ref.Ref]!.Properties['Content']));
  return { fn: fn!, bundle: assetDir(fn!.Properties['Code']), layers, modelDir: fn!.Properties['Environment'].Variables.MODEL_DIR as string };
}

/** The scorer's environment as the template sets it, but for the values CloudFormation resolves (table names). */
function functionEnv(deployment: string): Record<string, string> {
  const variables = scorerPackage(deployment).fn.Properties['Environment'].Variables as Record<string, unknown>;
  return Object.fromEntries(Object.entries(variables).filter((e): e is [string, string] => typeof e[1] === 'string'));
}

function frameworkOfModel(model: string): string {
  return (JSON.parse(readFileSync(join(MODELS_ROOT, model, 'model-meta.json'), 'utf8')) as { framework: string }).framework;
}

function frameworkOf(deployment: string): string {
  const { modelDir } = scorerPackage(deployment);
  return (JSON.parse(readFileSync(join(MODELS_ROOT, modelDir.replace(/^\/opt\/models\//, ''), 'model-meta.json'), 'utf8')) as { framework: string }).framework;
}

const kerasDeployments = manifest.deployments.filter((d) => frameworkOfModel(d.model) === 'keras').map((d) => d.name);

describe('the Lambda package', () => {
  it.each(manifest.deployments.map((d) => d.name))('of %s fits its framework\'s ceiling unzipped (bundle + layers)', (name) => {
    const { bundle, layers } = scorerPackage(name);
    const framework = frameworkOf(name);
    const sizes = [bundle, ...layers].map(sizeOf);
    const total = sizes.reduce((a, b) => a + b, 0);
    const mib = (bytes: number) => (bytes / MIB).toFixed(1);
    console.log(`${name} (${framework}): bundle ${mib(sizes[0]!)} MiB + layers ${sizes.slice(1).map(mib).join(' + ')} MiB = ${mib(total)} MiB unzipped (ceiling ${CEILING_MIB[framework]} MiB)`);
    expect(total).toBeLessThan(CEILING_MIB[framework]! * MIB);
    expect(total).toBeLessThan(LAMBDA_UNZIPPED_LIMIT);
  });

  it.each(manifest.deployments.map((d) => d.name))('of %s is one minified ES module with no source map, loaded without --enable-source-maps', (name) => {
    const { fn, bundle } = scorerPackage(name);
    expect(readdirSync(bundle).filter((f) => /\.(m?js|cjs)$/.test(f))).toEqual(['index.mjs']);
    expect(filesUnder(bundle).filter((f) => f.endsWith('.map'))).toEqual([]);
    const code = readFileSync(join(bundle, 'index.mjs'), 'utf8');
    expect(code).not.toContain('sourceMappingURL');
    // Minified: our own module-internal names are gone (esbuild renames what it does not export).
    expect(code).not.toContain('createStoredScorerWith');
    expect(code).toContain('handler');
    expect(JSON.stringify(fn.Properties['Environment'].Variables)).not.toContain('source-maps');
  });

  it.each(manifest.deployments.map((d) => d.name))('of %s runs on the architecture its engine allows, with only the layers it loads', (name) => {
    const { fn, layers } = scorerPackage(name);
    const native = ONNX_RUNTIME_FRAMEWORKS.includes(frameworkOf(name));
    expect(fn.Properties['Architectures']).toEqual([native ? 'x86_64' : 'arm64']);
    expect(layers.some((dir) => readdirSync(dir).includes('nodejs'))).toBe(native);
  });

  it.each(kerasDeployments)('of %s runs its model\'s graph rewrite: no h5wasm, no TensorFlow.js layers in the bundle', (name) => {
    const { bundle, modelDir } = scorerPackage(name);
    expect(hasCurrentRewriteSync(join(MODELS_ROOT, modelDir.replace(/^\/opt\/models\//, '')), KERAS_GRAPH)).toBe(true);
    const code = readFileSync(join(bundle, 'index.mjs'), 'utf8');
    // h5wasm's HDF5 calls and TensorFlow.js layers' model class, present in a bundle of the Keras engine.
    expect(code).not.toContain('H5Fopen');
    expect(code).not.toContain('LayersModel');
    expect(code).toContain('_FusedConv2D');
  });

  it.each(manifest.deployments.filter((d) => frameworkOfModel(d.model) === 'tensorflow').map((d) => d.name))('of %s runs its SavedModel\'s frozen graph: no SavedModel decoder in the bundle', (name) => {
    const { bundle, modelDir } = scorerPackage(name);
    expect(hasCurrentRewriteSync(join(MODELS_ROOT, modelDir.replace(/^\/opt\/models\//, '')), SAVED_MODEL_GRAPH)).toBe(true);
    const code = readFileSync(join(bundle, 'index.mjs'), 'utf8');
    // The SavedModel loader skips TF2's initialiser signature by this name.
    expect(code).not.toContain('__saved_model_init_op');
    expect(code).toContain('tf-graph');
  });

  it('of the deployment-record provider loads outside the project (its packages\' ES module builds)', async () => {
    const [provider] = Object.values(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Function' && String(r.Properties['Description']).includes('writes deployment records'));
    const bundle = assetDir(provider!.Properties['Code']);
    expect(readdirSync(bundle)).toEqual(['index.mjs']);
    const script = `const { handler } = await import(${JSON.stringify(pathToFileURL(join(bundle, 'index.mjs')).href)}); console.log(typeof handler);`;
    const { stdout } = await promisify(execFile)('node', ['--input-type=module', '-e', script], { env: { PATH: process.env['PATH'], AWS_REGION: 'us-east-1', DEPLOYMENTS_TABLE: 'deployments', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' }, timeout: 60_000, cwd: tmpdir() });
    expect(stdout.trim()).toBe('function');
  });

  it('ships only linux-x64 native binaries', () => {
    const onnx = manifest.deployments.find((d) => ONNX_RUNTIME_FRAMEWORKS.includes(frameworkOf(d.name)))!;
    const runtime = scorerPackage(onnx.name).layers.find((dir) => readdirSync(dir).includes('nodejs'))!;
    const napi = join(runtime, 'nodejs/node_modules/onnxruntime-node/bin');
    const platforms = readdirSync(napi).flatMap((v) => readdirSync(join(napi, v)).flatMap((os) => readdirSync(join(napi, v, os)).map((arch) => `${os}/${arch}`)));
    expect([...new Set(platforms)]).toEqual(['linux/x64']);
  });
});

describe('the bundled scorer, run as Lambda runs it', () => {
  let stack: LocalStack;
  const root = mkdtempSync(join(tmpdir(), 'dropscore-lambda-'));
  beforeAll(async () => {
    stack = await startTestStack({ dataDir: join(root, 'data'), modelsRoot: MODELS_ROOT });
  });
  afterAll(async () => {
    await stack?.close();
    rmSync(root, { recursive: true, force: true });
  });

  it.each(manifest.deployments.map((d) => [d.name, d] as const))('%s scores a dropped record from its layers, loading only its engine', async (_name, spec) => {
    const { bundle, layers, modelDir } = scorerPackage(spec.name);
    // Outside the project: /var/task has no package.json saying "type": "module".
    const task = join(root, `task-${spec.name}`);
    cpSync(bundle, task, { recursive: true });
    const opt = join(root, `opt-${spec.name}`);
    for (const layer of layers) cpSync(layer, opt, { recursive: true });
    await scoresFromLayers(spec, task, opt, modelDir);
  });

  // What a Keras model the graph rewrite cannot express ships: the Keras engine's entry, bundled as
  // NodeFunction bundles it, with the model layer as it is without keras-graph/.
  it.each(manifest.deployments.filter((d) => kerasDeployments.includes(d.name)).map((d) => [d.name, d] as const))('%s without its graph rewrite scores with the Keras engine\'s bundle', async (_name, spec) => {
    const { layers, modelDir } = scorerPackage(spec.name);
    const task = join(root, `task-${spec.name}-keras-engine`);
    const kerasEngine = scorerPackageFor('keras'); // no model folder: the Keras engine's entry, as synth builds it
    await build({
      entryPoints: [join(REPO_ROOT, kerasEngine.entry)], outfile: join(task, 'index.mjs'), ...BUNDLE_OPTIONS,
      external: [...kerasEngine.externalModules], alias: Object.fromEntries(Object.entries(kerasEngine.aliases).map(([from, to]) => [from, join(REPO_ROOT, to)])), logLevel: 'error',
    });
    for (const file of TFJS_WASM_FILES) cpSync(join(REPO_ROOT, 'node_modules/@tensorflow/tfjs-backend-wasm/dist', file), join(task, file));
    expect(readFileSync(join(task, 'index.mjs'), 'utf8')).toContain('H5Fopen');
    const opt = join(root, `opt-${spec.name}-keras-engine`);
    for (const layer of layers) cpSync(layer, opt, { recursive: true });
    rmSync(join(opt, modelDir.replace(/^\/opt\//, ''), KERAS_GRAPH.dir), { recursive: true });
    // A fresh deployment record and buckets: the counters below start from zero.
    const fresh = { ...spec, id: `${spec.id}-keras-engine`, source: { ...spec.source, bucket: `${spec.source.bucket}-ke` }, target: { ...spec.target, bucket: `${spec.target.bucket}-ke` } };
    await scoresFromLayers(fresh, task, opt, modelDir);
  });

  it('of a deployment that traces AWS calls sends X-Ray subsegments of each S3 and DynamoDB call', async () => {
    const { bundle, layers, modelDir, fn } = scorerPackage(tracedSpec.name);
    expect(fn.Properties['Environment'].Variables.TRACE_AWS_CALLS).toBe('true');
    expect(readFileSync(join(bundle, 'index.mjs'), 'utf8')).toContain('AWS_XRAY_DAEMON_ADDRESS');
    const task = join(root, `task-${tracedSpec.name}`);
    cpSync(bundle, task, { recursive: true });
    const opt = join(root, `opt-${tracedSpec.name}`);
    for (const layer of layers) cpSync(layer, opt, { recursive: true });
    // The X-Ray daemon Lambda runs beside the function: a UDP port on loopback.
    const daemon = createSocket('udp4');
    const segments: Record<string, any>[] = [];
    daemon.on('message', (datagram) => segments.push(JSON.parse(String(datagram).split('\n')[1]!)));
    await new Promise<void>((bound) => daemon.bind(0, '127.0.0.1', bound));
    try {
      // What Lambda sets for an invocation whose trace is sampled.
      const env = {
        AWS_XRAY_DAEMON_ADDRESS: `127.0.0.1:${daemon.address().port}`,
        LAMBDA_TASK_ROOT: task,
        AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
        AWS_LAMBDA_FUNCTION_NAME: 'scorer',
        _X_AMZN_TRACE_ID: 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1',
      };
      await scoresFromLayers(tracedSpec, task, opt, modelDir, { env, traced: true, samples: onnxSpec.name });
      const calls = () => segments.flatMap((segment) => [segment, ...(segment['subsegments'] ?? [])]).filter((s) => s['namespace'] === 'aws').map((s) => `${s['name']}.${s['aws']['operation']}`);
      const expected = ['S3.GetObject', 'S3.PutObject', 'DynamoDB.UpdateItem'];
      // Datagrams the process sent before it exited may still be on their way to this socket.
      for (let waited = 0; waited < 5000 && !expected.every((c) => calls().includes(c)); waited += 50) await new Promise((later) => setTimeout(later, 50));
      expect(calls()).toEqual(expect.arrayContaining(expected));
    } finally {
      daemon.close();
    }
  });

  it('of a deployment that does not trace AWS calls has no tracer, and says so if told to trace', async () => {
    const { bundle } = scorerPackage(onnxSpec.name);
    expect(readFileSync(join(bundle, 'index.mjs'), 'utf8')).not.toContain('AWS_XRAY_DAEMON_ADDRESS');
    const script = `await import(${JSON.stringify(pathToFileURL(join(bundle, 'index.mjs')).href)});`;
    const env = { PATH: process.env['PATH'], ...functionEnv(onnxSpec.name), DEPLOYMENTS_TABLE: 'deployments', LEDGER_TABLE: 'ledger', TRACE_AWS_CALLS: 'true' };
    const run = promisify(execFile)('node', ['--input-type=module', '-e', script], { env, timeout: 60_000 });
    await expect(run).rejects.toMatchObject({ stderr: expect.stringContaining('this scorer was built without AWS call tracing: set "traceAwsCalls": true') });
  });

  /** `env` on top of the function's own; `traced`: whether it then traces its AWS calls; `samples`: the deployment whose samples/ it scores. */
  async function scoresFromLayers(spec: (typeof manifest.deployments)[number], task: string, opt: string, modelDir: string, options: { env?: Record<string, string>; traced?: boolean; samples?: string } = {}) {
    const { env: extraEnv = {}, traced = false, samples = spec.name } = options;
    await ensureBucket(stack.s3, spec.source.bucket);
    await ensureBucket(stack.s3, spec.target.bucket);
    await stack.deployments.upsert({ ...spec, framework: 'from-cdk-test' });
    const record = readdirSync(`${REPO_ROOT}samples/${samples}`).sort().find((f) => f.endsWith('.json') && !f.includes('wrong'))!;
    await stack.s3.send(new PutObjectCommand({ Bucket: spec.source.bucket, Key: record, Body: readFileSync(`${REPO_ROOT}samples/${samples}/${record}`, 'utf8') }));

    const driver = join(root, `invoke-${spec.id}.mjs`);
    writeFileSync(driver, `
      import { createRequire } from 'node:module';
      const { handler } = await import(${JSON.stringify(pathToFileURL(join(task, 'index.mjs')).href)});
      const event = { Records: [{ eventVersion: '2.1', eventSource: 'aws:s3', eventName: 'ObjectCreated:Put', s3: { bucket: { name: ${JSON.stringify(spec.source.bucket)} }, object: { key: ${JSON.stringify(record)} } } }] };
      const result = await handler(event, { awsRequestId: 'req-package-test', functionName: 'scorer', invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:scorer' });
      // Which runtimes this process loaded: onnxruntime through require (from the layer), TensorFlow.js by its global engine,
      // the X-Ray SDK by the namespace table its context tracking (cls-hooked) puts on process.
      const onnxruntime = Object.keys(createRequire(import.meta.url).cache).some((path) => path.includes('onnxruntime-node'));
      const tfjsBackends = Object.keys(globalThis._tfengine?.registryFactory ?? {});
      console.log(JSON.stringify({ result, onnxruntime, tfjs: '_tfengine' in globalThis, tfjsBackends, xray: 'namespaces' in process }));
    `);
    const env = {
      PATH: process.env['PATH'],
      NODE_PATH: join(opt, 'nodejs/node_modules'),
      AWS_REGION: 'us-east-1',
      AWS_ENDPOINT_URL: stack.endpoint,
      AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      ...functionEnv(spec.name),
      DEPLOYMENT_ID: spec.id,
      SOURCE_BUCKET: spec.source.bucket,
      TARGET_BUCKET: spec.target.bucket,
      MODEL_DIR: join(opt, modelDir.replace(/^\/opt\//, '')),
      DEPLOYMENTS_TABLE: DEFAULT_TABLES.deploymentsTable,
      LEDGER_TABLE: DEFAULT_TABLES.ledgerTable,
      ...extraEnv,
    } as NodeJS.ProcessEnv;
    const { stdout } = await promisify(execFile)('node', [driver], { env, timeout: 60_000 });
    const native = ONNX_RUNTIME_FRAMEWORKS.includes(frameworkOf(spec.name));
    // TensorFlow.js scorers run on wasm alone: the cpu backend is not in their bundle.
    expect(JSON.parse(stdout.trim().split('\n').pop()!)).toEqual({ result: { results: [{ key: record, result: 'scored' }] }, onnxruntime: native, tfjs: !native, tfjsBackends: native ? [] : ['wasm'], xray: traced });
    // Loaded at init: the model-loaded log line comes before the record is read.
    expect(stdout.indexOf('"model loaded"')).toBeGreaterThanOrEqual(0);
    // Powertools in the bundle: log lines with the request id and deployment, metrics in the embedded metric format.
    const lines = stdout.trim().split('\n').flatMap((line) => (line.startsWith('{') ? [JSON.parse(line) as Record<string, any>] : []));
    expect(lines.some((l) => l['function_request_id'] === 'req-package-test' && l['deployment'] === spec.name)).toBe(true);
    const emf = lines.find((l) => l['_aws']?.CloudWatchMetrics);
    expect(emf).toMatchObject({ RecordsScored: 1, RecordsFailed: 0, deployment: spec.name, _aws: { CloudWatchMetrics: [{ Namespace: 'dropscore' }] } });
    expect(emf!['ModelLoadTime']).toBeGreaterThan(0);
    const outcome = await readOutcome(stack, spec.target.bucket, record);
    expect(outcome!.metadata['dropscore-outcome']).toBe('result');
    expect(JSON.stringify(outcome!.json)).toContain(record);
    expect((await stack.deployments.get(spec.id))!).toMatchObject({ status: 'DEPLOY_SUCCESS', counters: { received: 1, scored: 1, failed: 0 } });
  }
});
