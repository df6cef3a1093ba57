/**
 * The scoring pipeline of one deployment: S3 event in, one outcome object per
 * input out, counters and status kept in the deployment store.
 *
 * Guarantees (README, "Outcomes"):
 * - the model loads once per scorer; a load failure marks the deployment FAILED
 *   and every input still gets an error outcome;
 * - the ledger (key + eTag) makes redelivered events no-ops that count nothing;
 * - the scorer always scores what the key holds *now*, and after writing checks
 *   the key was not overwritten meanwhile (when the ledger saw another version of
 *   it): out-of-order events for quick puts of the same key converge on the newest
 *   object's outcome;
 * - store failures are thrown after every record was tried, so the platform
 *   retries the event (and dead-letters it) instead of losing a file.
 */
import type { LoadedModel, ModelLoader } from '../engines/engine-registry.js';
import { ModelLoadError, asModelLoadError, describeError, predictionLimitReached } from './errors.js';
import { inParallel } from './in-parallel.js';
import { ledgerOwner, ledgerScope } from './ledger-scope.js';
import { errorRecord, fileNameOf, inputOf, isWatched, lineageMetadata, outcomeIsFor, outcomeKey, type ModelRef } from './outcome-object.js';
import { scoreRecords } from './batch-scoring.js';
import { bulkFormatOf } from '../bulk/bulk-keys.js';
import { claimBulkVersion, scoreBulkFile, scoreClaimedBulkFile, type BulkFileResult, type PartRunner } from '../bulk/score-bulk-file.js';
import { BULK_STEP, type FanOutStepEvent } from '../bulk/fan-out-events.js';
import { abandonStep, assembleStep, partsStep, planStep, type FanOutStepResult } from '../bulk/fan-out-steps.js';
import { NO_METRICS, type ClaimState, type Completion, type DeploymentBinding, type DeploymentStatus, type DeploymentStore, type InputLedger, type Logger, type ObjectRead, type ObjectStore, type ScoringMetrics, type UsageMeter, type BulkFanOut } from './ports.js';
import { parseS3Event, type ObjectCreated } from './s3-event.js';
import { scoreOnline, type OnlineOutcome } from './score-online.js';
import { DEFAULT_MAX_RECORD_BYTES, recordTooLarge, type Outcome } from './record-bytes.js';

export interface ScorerDeps {
  readonly binding: DeploymentBinding;
  readonly modelDir: string;
  readonly objects: ObjectStore;
  readonly deployments: DeploymentStore;
  readonly ledger: InputLedger;
  readonly usage: UsageMeter;
  readonly log: Logger;
  /** Counts and timings for monitoring; none by default. */
  readonly metrics?: ScoringMetrics;
  readonly maxRecordBytes?: number;
  readonly now?: () => number;
  /** The engines this scorer may load (a Lambda bundle carries only its framework's), or a test's stand-in model. */
  readonly load: ModelLoader;
  /** How bulk files (JSON Lines, CSV) are cut into parts and where their parts run; in this process by default. */
  readonly bulk?: BulkOptions;
}

export interface BulkOptions {
  readonly partBytes?: number;
  readonly microBatch?: number;
  readonly runParts?: PartRunner;
  /** AWS: where bulk files too large for one invocation go; absent, every bulk file is scored where its event arrived. */
  readonly fanOut?: BulkFanOut;
}

/** `fanned-out`: a bulk file handed to the fan-out, which gives it its outcome. */
export type ObjectResult = 'scored' | 'failed' | 'duplicate' | 'ignored' | 'missing' | 'fanned-out';

/** How one object ended, or why it has to be retried (a store failed). */
export type ObjectOutcome = ObjectResult | { readonly failure: string };

export interface EventReport {
  readonly results: { readonly key: string; readonly result: ObjectResult }[];
}

/** Thrown when some records could not be finished because a store failed: retry the event. */
export class TransientFailure extends Error {}

// Enough to catch up with a burst of overwrites of one key without looping forever.
const MAX_OVERWRITE_ROUNDS = 3;
// S3 and DynamoDB requests in flight per set of objects.
const PARALLEL_IO = 16;
// Keys whose last finished version a container remembers; the ledger stays the source of truth.
const RECENTLY_FINISHED_CAPACITY = 50_000;

export function createScorer(deps: ScorerDeps) {
  const { binding, objects, deployments, ledger, usage, log } = deps;
  const metrics = deps.metrics ?? NO_METRICS;
  const maxBytes = deps.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
  const now = deps.now ?? (() => performance.now());
  const { load } = deps;
  let modelState: Promise<LoadedModel | ModelLoadError> | undefined;
  // Which life of the deployment this scorer serves: read from its record with the model (its status is written then).
  let generation = 0;
  const finished = createRecentMap(RECENTLY_FINISHED_CAPACITY);

  /** Ledger entries are per deployment generation and per what scored them (ledger-scope.ts). */
  function scopeOf(loaded: LoadedModel | ModelLoadError): string {
    const model = loaded instanceof ModelLoadError ? 'unloaded' : loaded.artifact.sha256.slice(0, 16);
    return ledgerScope(ledgerOwner(binding.id, generation), model, binding.target);
  }

  /** Loads the model once; the deployment's status reports the result. */
  function ensureModel(): Promise<LoadedModel | ModelLoadError> {
    modelState ??= loadAndReport().catch((error: unknown) => {
      modelState = undefined; // the status write failed: try again on the next event
      throw error;
    });
    return modelState;
  }

  async function loadAndReport(): Promise<LoadedModel | ModelLoadError> {
    const started = now();
    // The record's read overlaps the model's load: both are on the cold start's path.
    const [record, loaded] = await Promise.all([
      deployments.get(binding.id),
      load(deps.modelDir).catch(asModelLoadError),
    ]);
    // Deleted, and maybe about to be created again as its next generation: not this scorer's to score (retried).
    if (record?.status === 'DELETED') throw new Error(`deployment ${binding.name} is DELETED: its record must be created again before it scores`);
    generation = record?.generation ?? 0;
    // Every container's start reports its status; one that finds it already said (the usual
    // cold start, after the deploy-time warm-up) spares the cold start a write.
    const report = async (status: DeploymentStatus, details?: string) => {
      if (record?.status !== status || record.statusDetails !== details) await deployments.setStatus(binding.id, status, details);
    };
    if (loaded instanceof ModelLoadError) {
      log.error('model failed to load', { deployment: binding.name, model: binding.model, reason: loaded.message });
      await report('FAILED', loaded.message);
    } else {
      const notes = loaded.model.notes?.length ? { notes: loaded.model.notes } : {};
      const ms = now() - started;
      metrics.modelLoadTime(ms);
      log.info('model loaded', { deployment: binding.name, model: binding.model, ms: Math.round(ms), ...notes });
      await report('DEPLOY_SUCCESS');
    }
    return loaded;
  }

  /** One object's way to its outcome, before and after scoring. */
  interface Work {
    readonly index: number;
    readonly ref: ObjectCreated;
    readonly read: ObjectRead;
    readonly claim: ClaimState;
    outcome?: Outcome;
    /** A prediction was counted against the limit for it (given back unless it ends as a counted result). */
    predictionCounted?: boolean;
    /** Set once the outcome is written and the ledger entry finished. */
    completion?: Completion;
  }

  /**
   * Scores a set of objects together: reads, claims, writes and checks run
   * in parallel, records predict in stacked calls, and counters are updated
   * once per set. A store failure fails only the objects it touched.
   */
  async function scoreObjects(all: readonly ObjectCreated[], round = 1): Promise<ObjectOutcome[]> {
    // One key twice in a set (a redelivered event, two quick puts) is scored once: it scores what the key holds now.
    const firstOfKey = new Map<string, number>();
    const refs = all.filter((ref) => !firstOfKey.has(`${ref.bucket}/${ref.key}`) && firstOfKey.set(`${ref.bucket}/${ref.key}`, firstOfKey.size));
    // Bulk files take their own way (one outcome of many lines each); record files are scored together.
    const bulkAt: number[] = [];
    const recordsAt: number[] = [];
    refs.forEach((ref, i) => (bulkFormatOf(ref.key) !== undefined && isWatched(binding, ref.bucket, ref.key) ? bulkAt : recordsAt).push(i));
    const [recordResults, bulkResults] = await Promise.all([scoreUniqueObjects(recordsAt.map((i) => refs[i]!), round), scoreBulkObjects(bulkAt.map((i) => refs[i]!), round)]);
    const unique: ObjectOutcome[] = new Array(refs.length);
    recordsAt.forEach((at, i) => (unique[at] = recordResults[i]!));
    bulkAt.forEach((at, i) => (unique[at] = bulkResults[i]!));
    return all.map((ref) => {
      const first = firstOfKey.get(`${ref.bucket}/${ref.key}`)!;
      return refs[first] === ref ? unique[first]! : typeof unique[first] === 'object' ? unique[first]! : 'duplicate';
    });
  }

  async function scoreUniqueObjects(refs: readonly ObjectCreated[], round: number): Promise<ObjectOutcome[]> {
    const started = now();
    const scope = scopeOf(await ensureModel());
    const results: ObjectOutcome[] = new Array(refs.length);
    const work: Work[] = [];
    await inParallel(refs.map((ref, index) => ({ ref, index })), PARALLEL_IO, async ({ ref, index }) => {
      if (!isWatched(binding, ref.bucket, ref.key)) {
        log.warn('object not watched by this deployment, ignored', { deployment: binding.name, bucket: ref.bucket, key: ref.key });
        results[index] = 'ignored';
        return;
      }
      try {
        // A redelivered event or a retried batch often names the version this container last finished: no I/O then.
        if (ref.eTag && finished.get(ref.key) === ref.eTag) {
          results[index] = 'duplicate';
          return;
        }
        const read = await objects.read(ref.bucket, ref.key, maxBytes);
        if (!read) {
          log.warn('object no longer exists, nothing to score', { bucket: ref.bucket, key: ref.key });
          results[index] = 'missing';
          return;
        }
        const claim = await ledger.claim(scope, ref.key, read.eTag);
        // A finished version can be back after another one (A, B, A): its outcome must be A's again.
        if (claim === 'done' && (await outcomeIsFor(objects, binding, ref.key, read.eTag))) results[index] = 'duplicate';
        else work.push({ index, ref, read, claim });
      } catch (error) {
        results[index] = failure(ref, error);
      }
    });
    if (work.length === 0) return results;

    let model: ModelRef;
    try {
      model = await scoreWork(work, scope);
    } catch (error) {
      for (const item of work) results[item.index] = failure(item.ref, error);
      return results;
    }

    const overwritten: Work[] = [];
    await inParallel(work, PARALLEL_IO, async (item) => {
      try {
        results[item.index] = await writeOutcome(item, model, scope, now() - started);
        if (item.completion!.otherVersionClaimed) {
          const current = await objects.head(item.ref.bucket, item.ref.key);
          if (current !== undefined && current.eTag !== item.read.eTag) {
            // Not remembered as finished: a retry of this event must look again, since the
            // newer version's own event may have come and gone before this outcome landed.
            if (round < MAX_OVERWRITE_ROUNDS) overwritten.push(item);
            else results[item.index] = failure(item.ref, new Error('the key kept changing while it was scored'));
            return;
          }
        }
        finished.set(item.ref.key, item.read.eTag);
      } catch (error) {
        results[item.index] = failure(item.ref, error);
      }
    });
    await countOutcomes(work);
    metrics.scoringLatency(now() - started);
    if (overwritten.length > 0) {
      log.info('objects overwritten while scoring, scoring the newer versions', { keys: overwritten.map((w) => w.ref.key) });
      // Without the event's eTag: the version to score is whatever the key holds now.
      const again = await scoreObjects(overwritten.map((w) => ({ ...w.ref, eTag: undefined })), round + 1);
      overwritten.forEach((item, i) => {
        if (again[i] !== 'duplicate') results[item.index] = again[i]!;
      });
    }
    return results;
  }

  /** Bulk files one after another: each uses the parallelism its parts allow. */
  async function scoreBulkObjects(refs: readonly ObjectCreated[], round: number): Promise<ObjectOutcome[]> {
    const results: ObjectOutcome[] = [];
    for (const ref of refs) results.push(await scoreBulkObject(ref, round));
    return results;
  }

  /** What scoring a bulk file needs, in one process or step by step. */
  async function bulkDeps() {
    const loaded = await ensureModel();
    const modelRef: ModelRef = loaded instanceof ModelLoadError ? { name: binding.model } : { name: loaded.artifact.meta.name, framework: loaded.artifact.meta.framework, sha256: loaded.artifact.sha256 };
    const { partBytes, microBatch, runParts } = deps.bulk ?? {};
    // Without a model, every line's error is written in this process: nothing for parallel workers to do.
    return { binding, objects, ledger, deployments, usage, log, metrics, now, loaded, modelRef, scope: scopeOf(loaded), maxRecordBytes: maxBytes, partBytes, microBatch, runParts: loaded instanceof ModelLoadError ? undefined : runParts };
  }

  /**
   * A bulk file at least as large as the fan-out's threshold is handed to it (AWS Step Functions),
   * once per version: claimed in the ledger here, finished by the fan-out's last step. A smaller
   * one is scored here, already claimed.
   */
  async function fanOutOrScore(ref: ObjectCreated, fanOut: BulkFanOut): Promise<BulkFileResult | 'fanned-out'> {
    const fileDeps = await bulkDeps();
    const claimed = await claimBulkVersion(fileDeps, ref);
    if (claimed.kind !== 'claimed') return claimed;
    if ((claimed.size ?? 0) < fanOut.minBytes) return scoreClaimedBulkFile(fileDeps, claimed.version, bulkFormatOf(ref.key)!);
    await fanOut.start(claimed.version);
    log.info('bulk file fanned out', { key: ref.key, eTag: claimed.version.eTag, bytes: claimed.size });
    return 'fanned-out';
  }

  async function scoreBulkObject(ref: ObjectCreated, round: number): Promise<ObjectOutcome> {
    const started = now();
    try {
      if (ref.eTag && finished.get(ref.key) === ref.eTag) return 'duplicate';
      const fanOut = deps.bulk?.fanOut;
      // An event that says its file is small needs no look at the key: it is scored here.
      const mayFanOut = fanOut !== undefined && (ref.size === undefined || ref.size >= fanOut.minBytes);
      const result = mayFanOut ? await fanOutOrScore(ref, fanOut) : await scoreBulkFile(await bulkDeps(), ref, bulkFormatOf(ref.key)!);
      if (result === 'fanned-out') return result;
      if (result.kind === 'duplicate' || result.kind === 'missing') return result.kind;
      if (result.kind === 'scored') {
        metrics.scoringLatency(now() - started);
        const current = result.otherVersionClaimed ? await objects.head(ref.bucket, ref.key) : undefined;
        if (current === undefined || current.eTag === result.eTag) {
          finished.set(ref.key, result.eTag);
          return 'scored';
        }
      }
      // Overwritten while it was scored: score what the key holds now, as for a record file.
      if (round >= MAX_OVERWRITE_ROUNDS) return failure(ref, new Error('the key kept changing while it was scored'));
      log.info('bulk file overwritten while scoring, scoring the newer version', { key: ref.key });
      // Without the event's eTag and size: they were the older version's.
      const [again] = await scoreObjects([{ bucket: ref.bucket, key: ref.key }], round + 1);
      return again === 'duplicate' ? 'scored' : again!;
    } catch (error) {
      return failure(ref, error);
    }
  }

  /** Gives every work item its outcome; returns the model they were scored with, for their lineage. */
  async function scoreWork(work: Work[], scope: string): Promise<ModelRef> {
    const fresh = work.filter((item) => item.claim === 'new');
    // Counted while the records decode and their predictions are counted (another item, another
    // round trip); the set fails, to be retried, if this write does, its claims released first:
    // the retry would otherwise find them claimed and never count them.
    const countReceived = async () => {
      try {
        await deployments.addCounters(binding.id, { received: fresh.length });
      } catch (error) {
        await releaseClaims(fresh, scope);
        throw error;
      }
    };
    const received = settled(fresh.length > 0 ? countReceived() : Promise.resolve());
    const loaded = await ensureModel();
    if (loaded instanceof ModelLoadError) {
      await succeeded(received);
      for (const item of work) item.outcome = { kind: 'error', error: loaded };
      return { name: binding.model };
    }
    // Predictions are counted before they are made (the limit must hold), and given back in
    // countOutcomes unless they end as results this delivery finished: so the count is the
    // ledger's number of scored inputs, which a recount after a crash restores.
    const admit = async (valid: readonly number[]) => {
      const [quota, receivedCounted] = await Promise.all([settled(usage.consumePredictions(valid.length)), received]);
      if (receivedCounted.status === 'rejected') {
        if (quota.status === 'fulfilled' && quota.value.granted > 0) await refund(quota.value.granted);
        throw receivedCounted.reason;
      }
      if (quota.status === 'rejected') throw quota.reason;
      valid.slice(0, quota.value.granted).forEach((i) => (work[i]!.predictionCounted = true));
      return new Map(valid.slice(quota.value.granted).map((i) => [i, predictionLimitReached(quota.value)]));
    };
    const outcomes = await scoreRecords(work.map((item) => ({ bytes: item.read.body, size: item.read.size, fileName: fileNameOf(item.ref.key) })), loaded, maxBytes, admit);
    await succeeded(received); // no valid record: admit never waited for it
    work.forEach((item, i) => (item.outcome = outcomes[i]));
    return { name: loaded.artifact.meta.name, framework: loaded.artifact.meta.framework, sha256: loaded.artifact.sha256 };
  }

  async function writeOutcome(item: Work, model: ModelRef, scope: string, latencyMs: number): Promise<ObjectResult> {
    const outcome = item.outcome!;
    const input = { bucket: item.ref.bucket, key: item.ref.key, eTag: item.read.eTag, versionId: item.read.versionId };
    const body = outcome.kind === 'result' ? outcome.body : errorRecord(outcome.error, { input: inputOf(input), deployment: binding, model });
    await objects.write(binding.target.bucket, outcomeKey(binding, item.ref.key), JSON.stringify(body), lineageMetadata({ outcome: outcome.kind, input, deployment: binding, model, latencyMs }));
    const result = outcome.kind === 'result' ? 'scored' : 'failed';
    item.completion = await ledger.complete(scope, item.ref.key, item.read.eTag, result);
    return result;
  }

  async function releaseClaims(items: readonly Work[], scope: string): Promise<void> {
    await inParallel(items, PARALLEL_IO, async (item) => {
      await ledger.release(scope, item.ref.key, item.read.eTag).catch((error: unknown) => log.error('claim not released: its received count stays short until a recount', { deployment: binding.name, key: item.ref.key, reason: describeError(error) }));
    });
  }

  async function refund(count: number): Promise<void> {
    await usage.refundPredictions(count).catch((error: unknown) => log.error('predictions not given back', { deployment: binding.name, count, reason: describeError(error) }));
  }

  /** Counts what this delivery finished, and gives back predictions that did not end as such a result. */
  async function countOutcomes(work: readonly Work[]): Promise<void> {
    const unmade = work.filter((item) => item.predictionCounted && !(item.outcome?.kind === 'result' && item.completion?.counted)).length;
    if (unmade > 0) await refund(unmade);
    const counted = work.filter((item) => item.completion?.counted);
    if (counted.length === 0) return;
    const errors = counted.filter((item) => item.outcome!.kind === 'error');
    metrics.outcomesCounted(counted.length - errors.length, errors.length);
    const last = errors[errors.length - 1];
    const lastError = last && last.outcome!.kind === 'error' ? `${last.ref.key}: ${last.outcome!.error.code}: ${last.outcome!.error.message}` : undefined;
    try {
      await deployments.addCounters(binding.id, { scored: counted.length - errors.length, failed: errors.length }, lastError);
    } catch (error) {
      // The outcomes are written and their ledger entries done: a retry could not recount them.
      log.error('counters not updated for finished outcomes', { deployment: binding.name, scored: counted.length - errors.length, failed: errors.length, reason: describeError(error) });
    }
  }

  function failure(ref: ObjectCreated, error: unknown): ObjectOutcome {
    log.error('transient failure, the object will be retried', { key: ref.key, reason: describeError(error) });
    return { failure: describeError(error) };
  }

  return {
    binding,
    log,
    warmUp: ensureModel,

    /** Online scoring of `{"values": rows}` with the deployment's model (the scoring endpoint); counts its predictions. */
    async scoreOnline(payload: Uint8Array): Promise<OnlineOutcome> {
      const loaded = await ensureModel();
      if (loaded instanceof ModelLoadError) return { kind: 'error', error: loaded };
      if (payload.length > maxBytes) return { kind: 'error', error: recordTooLarge(payload.length, maxBytes) };
      return scoreOnline(payload, loaded, usage);
    },

    /** Scores objects and says, per object, how it ended (or why it must be retried). */
    scoreObjects: (refs: readonly ObjectCreated[]): Promise<ObjectOutcome[]> => scoreObjects(refs),

    /** One step of a bulk file's fan-out (see bulk/fan-out-steps.ts); throws to have the state machine retry it. */
    async runFanOutStep(event: FanOutStepEvent): Promise<FanOutStepResult> {
      const inputs = event.dropscore === BULK_STEP.parts ? event.items.map((item) => item.input) : [event.input];
      const foreign = inputs.find((input) => !isWatched(binding, input.bucket, input.key) || bulkFormatOf(input.key) === undefined);
      if (foreign) throw new Error(`s3://${foreign.bucket}/${foreign.key} is not a bulk file deployment ${binding.name} scores`);
      const stepDeps = await bulkDeps();
      switch (event.dropscore) {
        case BULK_STEP.plan:
          return planStep(stepDeps, event.input, bulkFormatOf(event.input.key)!);
        case BULK_STEP.parts:
          return { results: await partsStep(stepDeps, event.items) };
        case BULK_STEP.assemble:
          return assembleStep(stepDeps, event.input, event.plan);
        case BULK_STEP.abandon:
          return abandonStep(stepDeps, event.input, event.failure);
      }
    },

    async handleEvent(event: unknown): Promise<EventReport> {
      const { objects: created, skipped } = parseS3Event(event);
      for (const reason of skipped) log.warn('event record skipped', { reason });
      const outcomes = await scoreObjects(created);
      const failures = outcomes.flatMap((o, i) => (typeof o === 'object' ? [`${created[i]!.key}: ${o.failure}`] : []));
      if (failures.length > 0) {
        throw new TransientFailure(`${failures.length} of ${created.length} object(s) not finished: ${failures.join('; ')}`);
      }
      return { results: created.map((ref, i) => ({ key: ref.key, result: outcomes[i] as ObjectResult })) };
    },
  };
}

export type Scorer = ReturnType<typeof createScorer>;

/** Each key's last finished eTag, bounded: the oldest keys are forgotten first. */
function createRecentMap(capacity: number) {
  const entries = new Map<string, string>();
  return {
    get: (key: string) => entries.get(key),
    set(key: string, eTag: string) {
      entries.delete(key); // re-insert, so the order is by last use
      entries.set(key, eTag);
      if (entries.size > capacity) entries.delete(entries.keys().next().value!);
    },
  };
}

/** A write started now and awaited later, whose failure is handled where it is awaited. */
function settled<T>(write: Promise<T>): Promise<PromiseSettledResult<T>> {
  return write.then((value) => ({ status: 'fulfilled', value }), (reason: unknown) => ({ status: 'rejected', reason }));
}

async function succeeded<T>(result: Promise<PromiseSettledResult<T>>): Promise<T> {
  const outcome = await result;
  if (outcome.status === 'rejected') throw outcome.reason;
  return outcome.value;
}

