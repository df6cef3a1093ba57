/**
 * The console's JSON API. Every route calls the management code the CLI uses
 * (manage/) or the scoring domain (scoreOnline + loadModel): the console adds
 * HTTP, never a second implementation of deployments or scoring.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { strToU8, zipSync } from 'fflate';
import { ListBucketsCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { ConfigError, describeError } from '../functions/scorer/domain/errors.js';
import { bulkFormatOf, inputContentTypeOf } from '../functions/scorer/bulk/bulk-keys.js';
import { fileNameOf, outcomeKey } from '../functions/scorer/domain/outcome-object.js';
import type { DeploymentRecord, DeploymentStore, Logger } from '../functions/scorer/domain/ports.js';
import type { OnlineOutcome } from '../functions/scorer/domain/score-online.js';
import { stripQuotes } from '../functions/scorer/store/s3-etag.js';
import { deleteDeployment, deploy, findDeployment, listDeployments, usageReport, type AdminContext } from '../manage/deployment-admin.js';
import { listModels } from '../manage/model-catalog.js';
import { createBulkProgress } from '../manage/bulk-progress.js';
import { listOutcomes, readOutcome as readOutcomeFile } from '../manage/outcome-download.js';
import { toApiError } from './api-errors.js';
import type { BulkProgressView, CreateDeploymentBody, DeploymentView, ModelDetailView, OnlineResultView, UploadedRecordView, UsageView } from './api-types.js';
import { HttpError, readBody, readJson, sendFile, sendJson } from './http-io.js';
import type { ModelCache } from './model-cache.js';
import type { OutcomeFeed } from './outcome-feed.js';
import { DEFAULT_MAX_RECORD_BYTES } from '../functions/scorer/domain/record-bytes.js';

/** The scorer's default record limit: a larger online payload would be refused there too. */
const MAX_RECORD_BYTES = DEFAULT_MAX_RECORD_BYTES;
/** Uploads may exceed the record limit, so users can see the RECORD_TOO_LARGE outcome; not by much. */
const MAX_UPLOAD_BYTES = 32 * 1024 * 1024;
const MAX_FORM_BYTES = 64 * 1024;

export interface ApiDeps {
  readonly ctx: AdminContext;
  readonly s3: S3Client;
  readonly models: ModelCache;
  /** Online scoring by the deployment's running scorer (its loaded model, its limits, its usage count). */
  readonly scoreOnline: (deployment: string, payload: Uint8Array) => Promise<OnlineOutcome>;
  readonly outcomes: OutcomeFeed;
  readonly log: Logger;
}

export interface Api {
  handle(request: IncomingMessage, response: ServerResponse, url: URL): Promise<void>;
  /** Resolves when deployments still loading their model (answered already) have finished. */
  settle(): Promise<void>;
}

interface Answer {
  readonly status: number;
  readonly body: unknown;
  /** A file to download instead of a JSON answer. */
  readonly file?: { readonly name: string; readonly contentType: string; readonly bytes: Uint8Array };
}

interface Route {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  readonly pattern: RegExp;
  run(params: string[], request: IncomingMessage, url: URL): Promise<Answer>;
}

const ok = (body: unknown, status = 200): Answer => ({ status, body });

export function createApi(deps: ApiDeps): Api {
  const { ctx, s3, models, scoreOnline, outcomes, log } = deps;
  const bulkProgress = createBulkProgress(s3);
  const pending = new Set<Promise<unknown>>();

  /**
   * `deploy` resolves once the model has loaded, which can take seconds; the
   * page should show INITIALIZING meanwhile. So the answer goes out as soon
   * as the record is written (validation passed), and the rest of `deploy`
   * carries on: the status in the table tells how it ends.
   */
  async function createDeployment(request: CreateDeploymentBody): Promise<DeploymentRecord> {
    let announce!: (record: DeploymentRecord) => void;
    const written = new Promise<DeploymentRecord>((resolve) => (announce = resolve));
    const store = observeUpserts(ctx.deployments, announce);
    const finished = deploy({ ...ctx, deployments: store }, request);
    const tracked = finished.catch((error: unknown) => log.warn('deployment did not finish', { name: request.name, reason: describeError(error) }));
    pending.add(tracked);
    void tracked.finally(() => pending.delete(tracked));
    return Promise.race([written, finished.then((result) => result.record!)]);
  }

  const routes: Route[] = [
    {
      method: 'GET',
      pattern: /^\/api\/models$/,
      run: async () => ok(await listModels(ctx.modelsRoot)),
    },
    {
      method: 'GET',
      pattern: /^\/api\/models\/([^/]+)$/,
      async run([name]) {
        let shown;
        try {
          shown = await models.show(name!);
        } catch (error) {
          if (error instanceof ConfigError && error.message.startsWith('no model named')) throw new HttpError(404, 'MODEL_NOT_FOUND', error.message);
          throw error;
        }
        const deployments = (await listDeployments(ctx)).filter((d) => d.model === name).map(toView);
        const detail: ModelDetailView = { summary: shown.summary, signature: shown.signature, notes: shown.notes, deployments };
        return ok(detail);
      },
    },
    {
      method: 'GET',
      pattern: /^\/api\/buckets$/,
      async run() {
        const { Buckets } = await s3.send(new ListBucketsCommand({}));
        return ok((Buckets ?? []).map((b) => b.Name!).sort());
      },
    },
    {
      method: 'GET',
      pattern: /^\/api\/deployments$/,
      run: async () => ok((await listDeployments(ctx)).map(toView)),
    },
    {
      method: 'POST',
      pattern: /^\/api\/deployments$/,
      async run(_params, request) {
        const body = parseCreateBody(await readJson(request, MAX_FORM_BYTES));
        return ok(toView(await createDeployment(body)), 201);
      },
    },
    {
      method: 'GET',
      pattern: /^\/api\/deployments\/([^/]+)$/,
      run: async ([name]) => ok(toView(await findDeployment(ctx, name!))),
    },
    {
      method: 'DELETE',
      pattern: /^\/api\/deployments\/([^/]+)$/,
      run: async ([name]) => ok(toView((await deleteDeployment(ctx, name!)).record!)),
    },
    {
      method: 'GET',
      pattern: /^\/api\/deployments\/([^/]+)\/outcomes$/,
      async run([name], _request, url) {
        const record = await findDeployment(ctx, name!);
        const limit = Math.min(Math.max(Number(url.searchParams.get('limit') ?? 20) || 20, 1), 100);
        return ok(await outcomes.latest(record, limit));
      },
    },
    {
      method: 'GET',
      pattern: /^\/api\/deployments\/([^/]+)\/bulk-progress$/,
      async run([name]) {
        const progress: BulkProgressView[] = await bulkProgress(await findDeployment(ctx, name!));
        return ok(progress);
      },
    },
    {
      method: 'GET',
      pattern: /^\/api\/deployments\/([^/]+)\/outcomes\/download$/,
      async run([name], _request, url) {
        const record = await findDeployment(ctx, name!);
        const key = url.searchParams.get('key');
        if (key !== null) {
          const outcome = await readOutcomeFile(s3, record, key).catch(notFoundAs404);
          // A bulk file's outcome is JSON Lines, whatever its input's name says.
          const contentType = bulkFormatOf(outcome.key) ? 'application/x-ndjson' : 'application/json';
          return { status: 200, body: undefined, file: { name: fileNameOf(outcome.key), contentType, bytes: Buffer.from(outcome.body) } };
        }
        const all = await Promise.all((await listOutcomes(s3, record)).map((o) => readOutcomeFile(s3, record, o.path)));
        const zip = zipSync(Object.fromEntries(all.map((o) => [o.path, strToU8(o.body)])));
        return { status: 200, body: undefined, file: { name: `${record.name}-outcomes.zip`, contentType: 'application/zip', bytes: zip } };
      },
    },
    {
      method: 'PUT',
      pattern: /^\/api\/deployments\/([^/]+)\/records\/([^/]+)$/,
      async run([name, file], request) {
        checkFileName(file!);
        const record = await findDeployment(ctx, name!);
        const body = await readBody(request, MAX_UPLOAD_BYTES);
        const key = record.source.prefix + file;
        const put = await s3.send(new PutObjectCommand({ Bucket: record.source.bucket, Key: key, Body: body, ContentType: inputContentTypeOf(key) }));
        const uploaded: UploadedRecordView = { bucket: record.source.bucket, key, eTag: stripQuotes(put.ETag), outcomeKey: outcomeKey(record, key) };
        return ok(uploaded, 201);
      },
    },
    {
      method: 'POST',
      pattern: /^\/api\/deployments\/([^/]+)\/score$/,
      async run([name], request) {
        const record = await findDeployment(ctx, name!);
        const payload = await readBody(request, MAX_RECORD_BYTES);
        const outcome = await scoreOnline(record.name, payload);
        if (outcome.kind === 'error') throw outcome.error;
        const result: OnlineResultView = outcome.body;
        return ok(result);
      },
    },
    {
      method: 'GET',
      pattern: /^\/api\/usage$/,
      async run() {
        const usage: UsageView = await usageReport(ctx);
        return ok(usage);
      },
    },
  ];

  return {
    async handle(request, response, url) {
      try {
        const matching = routes.map((route) => ({ route, match: route.pattern.exec(url.pathname) })).filter((m) => m.match);
        if (matching.length === 0) throw new HttpError(404, 'NOT_FOUND', `no API route ${url.pathname}`);
        const found = matching.find((m) => m.route.method === request.method);
        if (!found) {
          response.setHeader('allow', matching.map((m) => m.route.method).join(', '));
          throw new HttpError(405, 'METHOD_NOT_ALLOWED', `${request.method} is not allowed on ${url.pathname}`);
        }
        const params = found.match!.slice(1).map(decodeParam);
        const answer = await found.route.run(params, request, url);
        if (answer.file) sendFile(response, answer.file);
        else sendJson(response, answer.status, answer.body);
      } catch (error) {
        const { status, body } = toApiError(error);
        if (status >= 500) log.error('console API request failed', { method: request.method, path: url.pathname, reason: describeError(error) });
        if (!response.headersSent) sendJson(response, status, body);
        else response.destroy();
      }
    },

    async settle() {
      await Promise.all([...pending]);
    },
  };
}

function parseCreateBody(raw: unknown): CreateDeploymentBody {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new HttpError(400, 'INVALID_BODY', 'expected a JSON object {"model", "name", "description", "source", "target"}');
  const body = raw as Record<string, unknown>;
  const text = (field: keyof CreateDeploymentBody): string | undefined => {
    const value = body[field];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string') throw new HttpError(422, 'INVALID_FIELD', `${field} must be a string`, field);
    return value.trim() || undefined;
  };
  const required = (field: 'model' | 'source' | 'target', message: string): string => {
    const value = text(field);
    if (!value) throw new HttpError(422, 'MISSING_FIELD', message, field);
    return value;
  };
  const model = required('model', 'choose a model');
  const source = required('source', 'choose a source bucket, or name a new one');
  const target = required('target', 'choose a target bucket, or name a new one');
  const name = text('name');
  const description = text('description');
  const sourcePrefix = text('sourcePrefix');
  const targetPrefix = text('targetPrefix');
  return { model, source, target, ...(sourcePrefix ? { sourcePrefix } : {}), ...(targetPrefix ? { targetPrefix } : {}), ...(name ? { name } : {}), ...(description ? { description } : {}) };
}

/** A record is uploaded under the deployment's source prefix by its file name: no paths. */
function checkFileName(file: string): void {
  if (file === '.' || file === '..' || /[/\\]/.test(file) || file.length > 512 || /[\u0000-\u001f]/.test(file)) {
    throw new HttpError(400, 'INVALID_FILE_NAME', `"${file}" is not a usable file name (no slashes, no control characters, at most 512 characters)`);
  }
}

function notFoundAs404(error: unknown): never {
  if (error instanceof ConfigError) throw new HttpError(404, 'OUTCOME_NOT_FOUND', error.message);
  throw error;
}

function decodeParam(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    throw new HttpError(400, 'INVALID_PATH', `cannot decode "${value}"`);
  }
}

/** The wire shape is the record itself: this assignment is where tsc checks they agree. */
function toView(record: DeploymentRecord): DeploymentView {
  return record;
}

/** The same store, telling when a record is written. */
function observeUpserts(store: DeploymentStore, onUpsert: (record: DeploymentRecord) => void): DeploymentStore {
  return {
    async upsert(deployment) {
      const record = await store.upsert(deployment);
      onUpsert(record);
      return record;
    },
    get: (id) => store.get(id),
    list: () => store.list(),
    setStatus: (id, status, details) => store.setStatus(id, status, details),
    addCounters: (id, delta, lastError) => store.addCounters(id, delta, lastError),
    setCounters: (id, counters) => store.setCounters(id, counters),
  };
}
