/**
 * The LocalStack path (`-c localstack=true`). LocalStack Community does not
 * mount Lambda layers, so each scorer must carry its model (and, for ONNX and
 * Caffe, onnxruntime-node) in its own code asset. The app is synthesized once
 * with the flag and real bundling, as `cdklocal deploy -c localstack=true`
 * would upload it; each scorer's asset directory is then checked (no layers,
 * size under Lambda's limit) and run as it is, in a fresh `node` with no /opt
 * and no NODE_PATH, against the embedded S3 + DynamoDB: its outcome must be
 * the project's own prediction for the record, and the digit it shows.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { predict } from '../../cli/predict-command.js';
import { createDropscoreApp } from '../../infra/lib/dropscore-app.js';
import { LOCAL_CREDENTIALS } from '../../infra/local/auth/local-credentials.js';
import type { LocalStack } from '../../infra/local/local-stack.js';
import { DEFAULT_TABLES, ensureBucket } from '../../infra/local/provision.js';
import { readDeploymentsManifest } from '../../infra/manifest/deployments-manifest.js';
import { readOutcome, startTestStack } from '../support/local-stack-harness.js';
import { MODELS_ROOT, REPO_ROOT } from '../support/paths.js';

const MIB = 2 ** 20;
const LAMBDA_UNZIPPED_LIMIT = 250 * MIB;
const ONNX_RUNTIME_FRAMEWORKS = ['onnx', 'caffe'];
// The sample every deployment has: a handwritten 5.
const SAMPLE = 'mnist1-digit.json';
const DIGIT = 5;

type Resource = { Type: string; Properties: Record<string, any> };
const root = mkdtempSync(join(tmpdir(), 'dropscore-localstack-'));
const outdir = join(root, 'cdk.out');
const manifest = readDeploymentsManifest(`${REPO_ROOT}deployments.json`);
let resources: Record<string, Resource>;

beforeAll(() => {
  const { app } = createDropscoreApp({ manifest, projectRoot: REPO_ROOT, localstack: true, appProps: { outdir } });
  resources = (app.synth().getStackByName('Dropscore').template as { Resources: Record<string, Resource> }).Resources;
}, 180_000);
afterAll(() => rmSync(root, { recursive: true, force: true }));

function scorerOf(deployment: string) {
  const fn = Object.values(resources).find((r) => r.Type === 'AWS::Lambda::Function' && r.Properties['Environment']?.Variables?.DEPLOYMENT_NAME === deployment)!;
  const variables = fn.Properties['Environment'].Variables as Record<string, unknown>;
  return {
    fn,
    // The function's code as uploaded: CDK's staged asset folder, zipped at publish time.
    asset: join(outdir, `asset.${String(fn.Properties['Code'].S3Key).replace(/\.zip$/, '')}`),
    // Its environment as the template sets it (table names are references to the stack's tables).
    environment: Object.fromEntries(Object.entries(variables).filter((e): e is [string, string] => typeof e[1] === 'string')),
  };
}

const frameworkOf = (model: string) => (JSON.parse(readFileSync(join(MODELS_ROOT, model, 'model-meta.json'), 'utf8')) as { framework: string }).framework;
const sizeOf = (path: string): number => (statSync(path).isDirectory() ? readdirSync(path).reduce((sum, entry) => sum + sizeOf(join(path, entry)), 0) : statSync(path).size);

/** The first list of ten numbers in an outcome (the digit scores, whatever the output convention names them). */
function digitScores(value: unknown): number[] | undefined {
  if (Array.isArray(value) && value.length === 10 && value.every((v) => typeof v === 'number')) return value as number[];
  const children = Array.isArray(value) ? value : value && typeof value === 'object' ? Object.values(value) : [];
  for (const child of children) {
    const found = digitScores(child);
    if (found) return found;
  }
  return undefined;
}

describe('-c localstack=true', () => {
  it('ships no layers: every function carries what it loads', () => {
    expect(Object.values(resources).filter((r) => r.Type === 'AWS::Lambda::LayerVersion')).toEqual([]);
    for (const fn of Object.values(resources).filter((r) => r.Type === 'AWS::Lambda::Function')) expect(fn.Properties['Layers']).toBeUndefined();
  });

  it.each(manifest.deployments.map((d) => [d.name, d.model] as const))('%s: its asset holds the model (and onnxruntime for ONNX and Caffe) within Lambda\'s 250 MiB unzipped', (name, model) => {
    const { asset, environment } = scorerOf(name);
    const size = sizeOf(asset);
    console.log(`${name} (${frameworkOf(model)}), localstack: ${(size / MIB).toFixed(1)} MiB unzipped`);
    expect(size).toBeLessThan(LAMBDA_UNZIPPED_LIMIT);
    // MODEL_DIR is relative to the function's code (LAMBDA_TASK_ROOT), and the model is there, byte for byte.
    expect(environment['MODEL_DIR']).toBe(`models/${model}`);
    for (const file of readdirSync(join(MODELS_ROOT, model)).filter((f) => statSync(join(MODELS_ROOT, model, f)).isFile())) {
      expect(readFileSync(join(asset, 'models', model, file)).equals(readFileSync(join(MODELS_ROOT, model, file)))).toBe(true);
    }
    const runtime = join(asset, 'node_modules/onnxruntime-node');
    expect(existsSync(runtime)).toBe(ONNX_RUNTIME_FRAMEWORKS.includes(frameworkOf(model)));
    if (existsSync(runtime)) {
      const napi = join(runtime, 'bin');
      const platforms = readdirSync(napi).flatMap((v) => readdirSync(join(napi, v)).flatMap((os) => readdirSync(join(napi, v, os)).map((arch) => `${os}/${arch}`)));
      expect([...new Set(platforms)]).toEqual(['linux/x64']);
    }
  });
});

describe('each scorer asset, run as LocalStack Community runs it (no layers: no /opt, no NODE_PATH)', () => {
  let stack: LocalStack;
  beforeAll(async () => {
    // Nothing of a layer may be found on this machine by accident.
    expect(existsSync('/opt/models') || existsSync('/opt/nodejs')).toBe(false);
    stack = await startTestStack({ dataDir: join(root, 'data'), modelsRoot: MODELS_ROOT });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it.each(manifest.deployments.map((d) => [d.name, d] as const))('%s writes the real score of a dropped record', async (_name, spec) => {
    const { asset, environment } = scorerOf(spec.name);
    await ensureBucket(stack.s3, spec.source.bucket);
    await ensureBucket(stack.s3, spec.target.bucket);
    await stack.deployments.upsert({ ...spec, framework: frameworkOf(spec.model) });
    const sample = `${REPO_ROOT}samples/${spec.name}/${SAMPLE}`;
    await stack.s3.send(new PutObjectCommand({ Bucket: spec.source.bucket, Key: SAMPLE, Body: readFileSync(sample) }));

    const driver = join(root, `invoke-${spec.name}.mjs`);
    writeFileSync(driver, `
      import { createRequire } from 'node:module';
      const { handler } = await import(${JSON.stringify(pathToFileURL(join(asset, 'index.mjs')).href)});
      const event = { Records: [{ eventVersion: '2.1', eventSource: 'aws:s3', eventName: 'ObjectCreated:Put', s3: { bucket: { name: ${JSON.stringify(spec.source.bucket)} }, object: { key: ${JSON.stringify(SAMPLE)} } } }] };
      const result = await handler(event, { awsRequestId: 'req-localstack-test', functionName: 'scorer', invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:scorer' });
      const onnxruntime = Object.keys(createRequire(import.meta.url).cache).find((path) => path.endsWith('onnxruntime_binding.node')) ?? null;
      console.log(JSON.stringify({ result, onnxruntime }));
    `);
    const env = {
      ...environment,
      // What Lambda (and LocalStack's Lambda containers) set: the runtime, where the function's code is, the endpoint LocalStack injects.
      AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
      AWS_LAMBDA_FUNCTION_NAME: `scorer-${spec.name}`,
      LAMBDA_TASK_ROOT: asset,
      AWS_REGION: 'us-east-1',
      AWS_ENDPOINT_URL: stack.endpoint,
      AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      DEPLOYMENTS_TABLE: DEFAULT_TABLES.deploymentsTable,
      LEDGER_TABLE: DEFAULT_TABLES.ledgerTable,
    };
    expect(env).not.toHaveProperty('NODE_PATH');
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [driver], { cwd: root, env, timeout: 90_000 }).catch((error: { stdout?: string; stderr?: string; message: string }) => {
      throw new Error(`the scorer did not run: ${error.message}\n${error.stdout ?? ''}\n${error.stderr ?? ''}`);
    });
    const { result, onnxruntime } = JSON.parse(stdout.trim().split('\n').pop()!) as { result: unknown; onnxruntime: string | null };
    expect(result).toEqual({ results: [{ key: SAMPLE, result: 'scored' }] });
    // No X-Ray in LocalStack Community: the tracer is off, so nothing complains about missing trace data.
    expect(`${stdout}${stderr}`).not.toMatch(/x-?ray|segment/i);
    // onnxruntime's native binding came from inside the function's own code, and only where the engine needs it.
    if (ONNX_RUNTIME_FRAMEWORKS.includes(frameworkOf(spec.model))) expect(onnxruntime).toMatch(new RegExp(`^${asset}/node_modules/onnxruntime-node/bin/napi-v\\d+/linux/x64/`));
    else expect(onnxruntime).toBeNull();

    const outcome = await readOutcome(stack, spec.target.bucket, SAMPLE);
    expect(outcome!.metadata['dropscore-outcome']).toBe('result');
    // The real score: what the project's engine predicts for the record in this process, from the model's source folder...
    const expected = await predict(join(MODELS_ROOT, spec.model), sample);
    expect(outcome!.json).toEqual(JSON.parse(expected.json));
    // ...and the digit the record shows.
    const scores = digitScores(outcome!.json)!;
    expect(scores.indexOf(Math.max(...scores))).toBe(DIGIT);
    expect((await stack.deployments.get(spec.id))!).toMatchObject({ status: 'DEPLOY_SUCCESS', counters: { received: 1, scored: 1, failed: 0 } });
  });
});
