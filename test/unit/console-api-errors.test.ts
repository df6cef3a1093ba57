/**
 * The console's error → field mapping, fed with errors made by the real
 * management code (deploy, findDeployment): if a message changes there, the
 * field the console shows it next to is checked here first.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { toApiError, forConsole } from '../../console/api-errors.js';
import { HttpError } from '../../console/http-io.js';
import { InvalidRecordError } from '../../functions/scorer/domain/errors.js';
import type { DeploymentRecord, DeploymentStore, UsageMeter } from '../../functions/scorer/domain/ports.js';
import { deploy, findDeployment, type AdminContext, type DeployRequest } from '../../manage/deployment-admin.js';
import { tempRoot } from '../support/model-dir.js';

let root: string;
let manifestPath: string;
let records: DeploymentRecord[];

const store: DeploymentStore = {
  upsert: async () => {
    throw new Error('a refused deployment must never be written');
  },
  get: async (id) => records.find((r) => r.id === id),
  list: async () => records,
  setStatus: async () => {},
  addCounters: async () => {},
  setCounters: async () => true,
};
// deploy() and findDeployment() never touch the usage meter.
const usage = {} as UsageMeter;

function context(): AdminContext {
  // Refused deployments fail before any S3 call: an unreachable endpoint proves it.
  const s3 = new S3Client({ region: 'us-east-1', endpoint: 'http://127.0.0.1:9', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  return { target: 'local', deployments: store, usage, s3, manifestPath, modelsRoot: join(root, 'models') };
}

function existing(name: string, source: string): DeploymentRecord {
  return {
    id: `dep-${name}`, name, description: '', model: 'digits', framework: 'onnx', status: 'DEPLOY_SUCCESS',
    source: { bucket: source, prefix: '' }, target: { bucket: `${name}-out`, prefix: '' },
    createdAt: '', modifiedAt: '', counters: { received: 0, scored: 0, failed: 0 }, generation: 0,
  };
}

async function refusal(request: Partial<DeployRequest>) {
  const error = await deploy(context(), { model: 'digits', source: 'my-in', target: 'my-out', name: 'fresh', ...request }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, 'the management code should refuse this').toBeDefined();
  return toApiError(error);
}

beforeEach(() => {
  root = tempRoot('dropscore-console-');
  mkdirSync(join(root, 'models', 'digits'), { recursive: true });
  writeFileSync(join(root, 'models', 'digits', 'model-meta.json'), JSON.stringify({ name: 'digits', framework: 'onnx', artifact: 'model.onnx' }));
  manifestPath = join(root, 'deployments.json');
  const taken = { name: 'taken', model: 'digits', source: { bucket: 'taken-in' }, target: { bucket: 'taken-out' } };
  writeFileSync(manifestPath, JSON.stringify({ deployments: [taken] }));
  records = [existing('taken', 'taken-in')];
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('console API errors from the management code', () => {
  it('puts "same bucket for source and target" on the target field, without the manifest path', async () => {
    const answer = await refusal({ source: 'shared', target: 'shared' });
    expect(answer).toEqual({
      status: 422,
      body: { error: { code: 'SAME_BUCKET', field: 'target', message: 'source and target share bucket "shared" with overlapping prefixes ("" and ""): outcomes would be scored again in a loop; use another bucket or disjoint prefixes' } },
    });
    expect(JSON.parse(readFileSync(manifestPath, 'utf8')).deployments).toHaveLength(1);
  });

  it('puts an unknown model on the model field, listing the known ones', async () => {
    expect(await refusal({ model: 'nope' })).toEqual({ status: 422, body: { error: { code: 'UNKNOWN_MODEL', field: 'model', message: 'no model named "nope"; models: digits' } } });
  });

  it('puts a taken name on the name field (409), without the CLI flag hint', async () => {
    expect(await refusal({ name: 'taken' })).toEqual({
      status: 409,
      body: { error: { code: 'NAME_TAKEN', field: 'name', message: 'a deployment named "taken" exists already: choose another name, or delete that deployment first' } },
    });
  });

  it('puts an invalid name on the name field', async () => {
    const answer = await refusal({ name: 'Not Valid' });
    expect(answer.status).toBe(422);
    expect(answer.body.error).toMatchObject({ code: 'INVALID_NAME', field: 'name', message: expect.stringMatching(/^"name" must be lowercase letters, digits and hyphens/) });
  });

  it('puts invalid bucket names on the source or the target field', async () => {
    expect((await refusal({ source: 'Bad_Bucket' })).body.error).toMatchObject({ code: 'INVALID_BUCKET', field: 'source', message: expect.stringMatching(/^"bucket" must be a valid S3 bucket name, got "Bad_Bucket"$/) });
    expect((await refusal({ target: 'x' })).body.error).toMatchObject({ code: 'INVALID_BUCKET', field: 'target' });
  });

  it('puts invalid prefixes on their prefix field', async () => {
    expect((await refusal({ sourcePrefix: '/in' })).body.error).toMatchObject({ code: 'INVALID_PREFIX', field: 'sourcePrefix', message: expect.stringContaining('"prefix" must be a string not starting with "/"') });
    expect((await refusal({ targetPrefix: '/out' })).body.error).toMatchObject({ code: 'INVALID_PREFIX', field: 'targetPrefix' });
  });

  it('puts a source another deployment watches on the source field', async () => {
    const answer = await refusal({ source: 'taken-in' });
    expect(answer).toEqual({ status: 409, body: { error: { code: 'SOURCE_IN_USE', field: 'source', message: 'deployments "taken" and "fresh" watch overlapping keys in bucket "taken-in"' } } });
  });

  it('refuses a deployment that would score another one\'s outcomes, or feed its own source, naming both (409)', async () => {
    expect(await refusal({ source: 'taken-out', target: 'elsewhere' })).toEqual({
      status: 409,
      body: { error: { code: 'DEPLOYMENT_LOOP', message: 'the target of deployment "taken" (s3://taken-out/) overlaps the source of deployment "fresh" (s3://taken-out/): "fresh" would score the outcomes of "taken" (a chain, or a loop); use another bucket or disjoint prefixes' } },
    });
    expect((await refusal({ target: 'taken-in' })).body.error).toMatchObject({ code: 'DEPLOYMENT_LOOP', message: expect.stringContaining('the target of deployment "fresh" (s3://taken-in/) overlaps the source of deployment "taken"') });
    expect(JSON.parse(readFileSync(manifestPath, 'utf8')).deployments).toHaveLength(1);
  });

  it('answers the deployment limit for the whole form (no field)', async () => {
    writeFileSync(manifestPath, JSON.stringify({ deployments: [], limits: { deployment_count: 1 } }));
    expect(await refusal({})).toEqual({ status: 409, body: { error: { code: 'DEPLOYMENT_LIMIT_REACHED', message: 'the instance has 1 of its 1 deployments (limit deployment_count)' } } });
  });

  it('answers 404 for an unknown deployment, listing the known ones', async () => {
    const error = await findDeployment(context(), 'nope').catch((e: unknown) => e);
    expect(toApiError(error)).toEqual({ status: 404, body: { error: { code: 'DEPLOYMENT_NOT_FOUND', message: 'no deployment named "nope"; deployments: taken' } } });
  });

  it('keeps the API layer’s own answers and record errors as they are; anything else is a 500', () => {
    expect(toApiError(new HttpError(422, 'MISSING_FIELD', 'choose a model', 'model'))).toEqual({ status: 422, body: { error: { code: 'MISSING_FIELD', message: 'choose a model', field: 'model' } } });
    expect(toApiError(new InvalidRecordError('SHAPE_MISMATCH', 'input "values": expected shape [N,3]'))).toEqual({ status: 422, body: { error: { code: 'SHAPE_MISMATCH', message: 'input "values": expected shape [N,3]' } } });
    expect(toApiError(new Error('disk on fire'))).toEqual({ status: 500, body: { error: { code: 'INTERNAL_ERROR', message: 'disk on fire' } } });
  });

  it('leaves messages that name no manifest entry alone', () => {
    expect(forConsole('cannot read /x/deployments.json: ENOENT')).toBe('cannot read /x/deployments.json: ENOENT');
    expect(forConsole('/x/deployments.json: 3 deployments exceed limits.deployment_count (2)')).toBe('3 deployments exceed limits.deployment_count (2)');
  });
});
