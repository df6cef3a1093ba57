/**
 * The real Lambda package, bundled by esbuild as `cdk deploy` would ship it:
 * its unzipped size against Lambda's 250 MB limit, and a run of the bundle
 * outside the project (as in /var/task, with the layers' folders as /opt)
 * scoring a record against the embedded S3 + DynamoDB.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDropscoreApp } from '../../infra/lib/dropscore-app.js';
import { DEFAULT_TABLES, ensureBucket } from '../../infra/local/provision.js';
import type { LocalStack } from '../../infra/local/local-stack.js';
import { LOCAL_CREDENTIALS } from '../../infra/local/auth/local-credentials.js';
import { readDeploymentsManifest } from '../../infra/manifest/deployments-manifest.js';
import { readOutcome, startTestStack } from '../support/local-stack-harness.js';
import { MODELS_ROOT, REPO_ROOT } from '../support/paths.js';

const LAMBDA_UNZIPPED_LIMIT = 250 * 1024 * 1024;
const outdir = mkdtempSync(join(tmpdir(), 'dropscore-cdk-'));
const manifest = readDeploymentsManifest(`${REPO_ROOT}deployments.json`);
let template: { Resources: Record<string, { Type: string; Properties: Record<string, any> }> };

beforeAll(() => {
  const { app } = createDropscoreApp({ manifest, projectRoot: REPO_ROOT, directNotifications: false, appProps: { outdir } });
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

function scorerPackage(deployment: string) {
  const [fn] = Object.values(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Function' && r.Properties['Environment']?.Variables?.DEPLOYMENT_NAME === deployment);
  const layers = (fn!.Properties['Layers'] as { Ref: string }[]).map((ref) => assetDir(template.Resources[ref.Ref]!.Properties['Content']));
  return { bundle: assetDir(fn!.Properties['Code']), layers, modelDir: fn!.Properties['Environment'].Variables.MODEL_DIR as string };
}

describe('the Lambda package', () => {
  it.each(manifest.deployments.map((d) => d.name))('of %s fits in 250 MB unzipped (bundle + layers)', (name) => {
    const { bundle, layers } = scorerPackage(name);
    const sizes = [bundle, ...layers].map(sizeOf);
    const total = sizes.reduce((a, b) => a + b, 0);
    const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
    console.log(`${name}: bundle ${mib(sizes[0]!)} MiB + layers ${sizes.slice(1).map(mib).join(' + ')} MiB = ${mib(total)} MiB unzipped (limit 250 MiB)`);
    expect(total).toBeLessThan(LAMBDA_UNZIPPED_LIMIT);
  });

  it('ships only linux-x64 native binaries', () => {
    const runtime = scorerPackage(manifest.deployments[0]!.name).layers.find((dir) => readdirSync(dir).includes('nodejs'))!;
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

  it.each(manifest.deployments.map((d) => [d.name, d] as const))('%s scores a dropped record from its layers', async (_name, spec) => {
    const { bundle, layers, modelDir } = scorerPackage(spec.name);
    // Outside the project: /var/task has no package.json saying "type": "module".
    const task = join(root, `task-${spec.name}`);
    cpSync(bundle, task, { recursive: true });
    const opt = join(root, `opt-${spec.name}`);
    for (const layer of layers) cpSync(layer, opt, { recursive: true });
    await ensureBucket(stack.s3, spec.source.bucket);
    await ensureBucket(stack.s3, spec.target.bucket);
    await stack.deployments.upsert({ ...spec, framework: 'from-cdk-test' });
    const record = readdirSync(`${REPO_ROOT}samples/${spec.name}`).sort().find((f) => !f.includes('wrong'))!;
    await stack.s3.send(new PutObjectCommand({ Bucket: spec.source.bucket, Key: record, Body: readFileSync(`${REPO_ROOT}samples/${spec.name}/${record}`, 'utf8') }));

    const driver = join(root, `invoke-${spec.name}.cjs`);
    writeFileSync(driver, `
      const { handler } = require(${JSON.stringify(join(task, 'index.js'))});
      const event = { Records: [{ eventVersion: '2.1', eventSource: 'aws:s3', eventName: 'ObjectCreated:Put', s3: { bucket: { name: ${JSON.stringify(spec.source.bucket)} }, object: { key: ${JSON.stringify(record)} } } }] };
      handler(event, {}).then((r) => console.log(JSON.stringify(r)), (e) => { console.error(e); process.exit(1); });
    `);
    const env = {
      PATH: process.env['PATH'],
      NODE_PATH: join(opt, 'nodejs/node_modules'),
      AWS_REGION: 'us-east-1',
      AWS_ENDPOINT_URL: stack.endpoint,
      AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      ...Object.fromEntries(Object.entries(template.Resources).filter(([, r]) => r.Properties['Environment']?.Variables?.DEPLOYMENT_NAME === spec.name).flatMap(([, r]) => Object.entries(r.Properties['Environment'].Variables as Record<string, unknown>)).filter(([, v]) => typeof v === 'string')),
      MODEL_DIR: join(opt, modelDir.replace(/^\/opt\//, '')),
      DEPLOYMENTS_TABLE: DEFAULT_TABLES.deploymentsTable,
      LEDGER_TABLE: DEFAULT_TABLES.ledgerTable,
    } as NodeJS.ProcessEnv;
    const { stdout } = await promisify(execFile)('node', [driver], { env, timeout: 60_000 });
    expect(JSON.parse(stdout.trim().split('\n').pop()!)).toEqual({ results: [{ key: record, result: 'scored' }] });
    const outcome = await readOutcome(stack, spec.target.bucket, record);
    expect(outcome!.metadata['dropscore-outcome']).toBe('result');
    expect(JSON.stringify(outcome!.json)).toContain(record);
    expect((await stack.deployments.get(spec.id))!).toMatchObject({ status: 'DEPLOY_SUCCESS', counters: { received: 1, scored: 1, failed: 0 } });
  });
});
