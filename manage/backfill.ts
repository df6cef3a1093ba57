/**
 * `dropscore backfill`: scores what is already in a deployment's source and
 * has no outcome for its current version (a deployment made over a bucket
 * that holds objects, events lost before the stack existed, outcomes deleted).
 * It lists the source in key order (from `startAfter`), compares each
 * object's eTag with the `dropscore-input-etag` of its outcome, and hands the
 * rest to the scorer in S3 event notifications of the real shape, paced. The
 * scorer's ledger has the last word: an input it has finished, whose outcome
 * is its own, comes back as `duplicate` and is counted nowhere.
 */
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { describeNamedError } from '../functions/scorer/domain/errors.js';
import { isWatched, outcomeIsFor } from '../functions/scorer/domain/outcome-object.js';
import type { DeploymentRecord } from '../functions/scorer/domain/ports.js';
import type { ObjectResult } from '../functions/scorer/domain/scorer.js';
import { createS3ObjectStore } from '../functions/scorer/store/s3-object-store.js';
import { stripQuotes } from '../functions/scorer/store/s3-etag.js';
import { formEncodeKey } from '../infra/local/s3/s3-notification.js';
import type { BatchProgress } from './batch-run.js';
import type { ScorerInvoker } from './scorer-invoker.js';
import { inParallel } from '../functions/scorer/domain/in-parallel.js';
import { pacer } from './pacer.js';

export interface BackfillOptions {
  readonly s3: S3Client;
  readonly deployment: DeploymentRecord;
  readonly invoke: ScorerInvoker;
  /** Resume: only keys after this one (S3's StartAfter). */
  readonly startAfter?: string;
  /** Objects sent to the scorer per second at most (default: no limit but `concurrency`). */
  readonly ratePerSecond?: number;
  /** Invocations in flight at once (default 2). */
  readonly concurrency?: number;
  /** Objects per invocation (default 10, a queued deployment's default batch). */
  readonly batchSize?: number;
  /** Count what would be scored; invoke nothing. */
  readonly dryRun?: boolean;
  readonly onProgress?: (progress: BackfillProgress) => void;
  /** Stops sending (what is in flight finishes); the report says where to resume. */
  readonly signal?: AbortSignal;
}

/** As a batch's progress, without bulk files' records (backfill reports objects). */
export type BackfillProgress = Omit<BatchProgress, 'bulk'>;

export interface BackfillReport {
  /** Objects the deployment watches, listed after `startAfter`. */
  readonly listed: number;
  /** Of those, objects whose outcome is for their current version already: left alone. */
  readonly upToDate: number;
  /** Objects without an outcome for their current version: sent (or, dry run, to send). */
  readonly toScore: number;
  /** How the sent ones ended, as the scorer reports them. */
  readonly results: Readonly<Record<ObjectResult, number>>;
  /** Objects whose invocation failed (or was never sent: stopped), with the reason. */
  readonly notDone: readonly { readonly key: string; readonly reason: string }[];
  /** Every object listed is done (scored, failed or a duplicate; up to date). */
  readonly complete: boolean;
  /** When not complete, everything up to this key is done: `--start-after` it to go on (absent: from the start). */
  readonly resumeAfter?: string;
  readonly dryRun: boolean;
}

interface Listed {
  readonly key: string;
  readonly eTag: string;
  readonly size: number;
}

const HEAD_CONCURRENCY = 16;

export async function runBackfill(options: BackfillOptions): Promise<BackfillReport> {
  const { s3, deployment } = options;
  const listed = await listWatched(s3, deployment, options.startAfter);
  const upToDate = new Set<Listed>();
  const outcomes = createS3ObjectStore(s3);
  await inParallel(listed, HEAD_CONCURRENCY, async (object) => {
    if (await outcomeIsFor(outcomes, deployment, object.key, object.eTag)) upToDate.add(object);
  });
  // In S3's key order, so that what is done is always a prefix of the listing plus what was up to date.
  const pending = listed.filter((object) => !upToDate.has(object));
  const results: Record<ObjectResult, number> = { scored: 0, failed: 0, duplicate: 0, ignored: 0, missing: 0, 'fanned-out': 0 };
  const base = { listed: listed.length, upToDate: listed.length - pending.length, toScore: pending.length, results };
  if (options.dryRun || pending.length === 0) return { ...base, notDone: [], complete: !options.dryRun, dryRun: Boolean(options.dryRun) };

  const size = options.batchSize ?? 10;
  const batches: Listed[][] = [];
  for (let i = 0; i < pending.length; i += size) batches.push(pending.slice(i, i + size));
  const notDone = new Map<string, string>();
  const started = Date.now();
  const pace = pacer(options.ratePerSecond);
  let done = 0;
  const report = () => {
    const seconds = (Date.now() - started) / 1000;
    const rate = seconds > 0 ? done / seconds : 0;
    const left = pending.length - done;
    options.onProgress?.({ total: pending.length, done, failed: results.failed + notDone.size, pending: left, ratePerSecond: rate, ...(rate > 0 ? { etaSeconds: left / rate } : {}) });
  };
  report();
  await inParallel(batches, options.concurrency ?? 2, async (batch) => {
    if (options.signal?.aborted) {
      for (const object of batch) notDone.set(object.key, 'not sent: stopped');
      return;
    }
    await pace(batch.length);
    try {
      const answer = await options.invoke({ Records: batch.map((object) => notificationOf(deployment, object)) });
      const byKey = new Map(answer.results.map((r) => [r.key, r.result]));
      for (const object of batch) {
        const result = byKey.get(object.key);
        if (result) results[result]++;
        else notDone.set(object.key, 'the scorer did not report it');
      }
    } catch (error) {
      for (const object of batch) notDone.set(object.key, describeNamedError(error));
    }
    done += batch.length;
    report();
  });
  // Keys are handled in order, batches in parallel: resume after the last key before the first one not done.
  const firstNotDone = listed.findIndex((object) => notDone.has(object.key));
  const resumeAfter = firstNotDone < 0 ? undefined : firstNotDone === 0 ? options.startAfter : listed[firstNotDone - 1]!.key;
  return {
    ...base,
    notDone: [...notDone].map(([key, reason]) => ({ key, reason })).sort((a, b) => (a.key < b.key ? -1 : 1)),
    complete: firstNotDone < 0,
    ...(firstNotDone >= 0 && resumeAfter !== undefined ? { resumeAfter } : {}),
    dryRun: false,
  };
}

/** The deployment's objects in key order (its prefix, its suffix, never its own outcomes), after `startAfter`. */
async function listWatched(s3: S3Client, deployment: DeploymentRecord, startAfter: string | undefined): Promise<Listed[]> {
  const { bucket, prefix } = deployment.source;
  const objects: Listed[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token, ...(token ? {} : { StartAfter: startAfter }) }));
    for (const o of page.Contents ?? []) {
      if (o.Key && !o.Key.endsWith('/') && isWatched(deployment, bucket, o.Key)) objects.push({ key: o.Key, eTag: stripQuotes(o.ETag), size: o.Size ?? 0 });
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return objects;
}

/** An S3 ObjectCreated notification record, as S3 sends it (form-encoded key), marked as the backfill's. */
function notificationOf(deployment: DeploymentRecord, object: Listed) {
  return {
    eventVersion: '2.1',
    eventSource: 'aws:s3',
    eventTime: new Date().toISOString(),
    eventName: 'ObjectCreated:Put',
    s3: {
      s3SchemaVersion: '1.0',
      configurationId: 'dropscore-backfill',
      bucket: { name: deployment.source.bucket, arn: `arn:aws:s3:::${deployment.source.bucket}` },
      object: { key: formEncodeKey(object.key), size: object.size, eTag: object.eTag },
    },
  };
}
