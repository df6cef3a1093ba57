/**
 * The scoring pipeline of one deployment: S3 event in, one outcome object per
 * input out, counters and status kept in the deployment store.
 *
 * Guarantees (README, "Outcomes"):
 * - the model loads once per scorer; a load failure marks the deployment FAILED
 *   and every input still gets an error outcome;
 * - the ledger (key + eTag) makes redelivered events no-ops that count nothing;
 * - the scorer always scores what the key holds *now*, and after writing checks
 *   the key was not overwritten meanwhile: out-of-order events for quick puts of
 *   the same key converge on the newest object's outcome;
 * - store failures are thrown after every record was tried, so the platform
 *   retries the event (and dead-letters it) instead of losing a file.
 */
import { loadModel, type LoadedModel } from '../engines/engine-registry.js';
import { ModelLoadError, UsageLimitError, describeError } from './errors.js';
import { errorRecord, fileNameOf, inputOf, isWatched, lineageMetadata, outcomeKey, type ModelRef } from './outcome-object.js';
import type { DeploymentBinding, DeploymentStore, InputLedger, Logger, ObjectStore, PredictionQuota, UsageMeter } from './ports.js';
import { parseS3Event, type ObjectCreated } from './s3-event.js';
import { scoreOnline, type OnlineOutcome } from './score-online.js';
import { DEFAULT_MAX_RECORD_BYTES, recordTooLarge, scoreRecord, type Outcome } from './score-record.js';

export interface ScorerDeps {
  readonly binding: DeploymentBinding;
  readonly modelDir: string;
  readonly objects: ObjectStore;
  readonly deployments: DeploymentStore;
  readonly ledger: InputLedger;
  readonly usage: UsageMeter;
  readonly log: Logger;
  readonly maxRecordBytes?: number;
  readonly now?: () => number;
  /** Injected so tests can stand in a model; defaults to the engine registry. */
  readonly load?: (dir: string) => Promise<LoadedModel>;
}

export type ObjectResult = 'scored' | 'failed' | 'duplicate' | 'ignored' | 'missing';

export interface EventReport {
  readonly results: { readonly key: string; readonly result: ObjectResult }[];
}

/** Thrown when some records could not be finished because a store failed: retry the event. */
export class TransientFailure extends Error {}

// Enough to catch up with a burst of overwrites of one key without looping forever.
const MAX_OVERWRITE_ROUNDS = 3;

export function createScorer(deps: ScorerDeps) {
  const { binding, objects, deployments, ledger, usage, log } = deps;
  const maxBytes = deps.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
  const now = deps.now ?? (() => performance.now());
  const load = deps.load ?? loadModel;
  let modelState: Promise<LoadedModel | ModelLoadError> | undefined;

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
    let loaded: LoadedModel | ModelLoadError;
    try {
      loaded = await load(deps.modelDir);
    } catch (error) {
      loaded = error instanceof ModelLoadError ? error : new ModelLoadError(describeError(error), { cause: error });
    }
    if (loaded instanceof ModelLoadError) {
      log.error('model failed to load', { deployment: binding.name, model: binding.model, reason: loaded.message });
      await deployments.setStatus(binding.id, 'FAILED', loaded.message);
    } else {
      const notes = loaded.model.notes?.length ? { notes: loaded.model.notes } : {};
      log.info('model loaded', { deployment: binding.name, model: binding.model, ms: Math.round(now() - started), ...notes });
      await deployments.setStatus(binding.id, 'DEPLOY_SUCCESS');
    }
    return loaded;
  }

  async function handleObject(ref: ObjectCreated): Promise<ObjectResult> {
    if (!isWatched(binding, ref.bucket, ref.key)) {
      log.warn('object not watched by this deployment, ignored', { deployment: binding.name, bucket: ref.bucket, key: ref.key });
      return 'ignored';
    }
    for (let round = 1; ; round++) {
      const read = await objects.read(ref.bucket, ref.key, maxBytes);
      if (!read) {
        log.warn('object no longer exists, nothing to score', { bucket: ref.bucket, key: ref.key });
        return 'missing';
      }
      const claim = await ledger.claim(binding.id, ref.key, read.eTag);
      if (claim === 'done') return 'duplicate';
      let quota: PredictionQuota | undefined;
      if (claim === 'new') {
        await deployments.addCounters(binding.id, { received: 1 });
        quota = await usage.consumePrediction();
      }

      const started = now();
      const loaded = await ensureModel();
      const outcome: Outcome = quota?.allowed === false ? { kind: 'error', error: limitReached(quota) } : await scoreLoaded(loaded, read.body, read.size, ref.key);
      const input = { bucket: ref.bucket, key: ref.key, eTag: read.eTag, versionId: read.versionId };
      const model: ModelRef = loaded instanceof ModelLoadError
        ? { name: binding.model }
        : { name: loaded.artifact.meta.name, framework: loaded.artifact.meta.framework, sha256: loaded.artifact.sha256 };
      const body = outcome.kind === 'result' ? outcome.body : errorRecord(outcome.error, { input: inputOf(input), deployment: binding, model });
      const latencyMs = now() - started;
      await objects.write(binding.target.bucket, outcomeKey(binding, ref.key), JSON.stringify(body), lineageMetadata({ outcome: outcome.kind, input, deployment: binding, model, latencyMs }));

      const result = outcome.kind === 'result' ? 'scored' : 'failed';
      if (await ledger.complete(binding.id, ref.key, read.eTag, result)) {
        const lastError = outcome.kind === 'error' ? `${ref.key}: ${outcome.error.code}: ${outcome.error.message}` : undefined;
        await deployments.addCounters(binding.id, result === 'scored' ? { scored: 1 } : { failed: 1 }, lastError);
      }
      const current = await objects.currentETag(ref.bucket, ref.key);
      if (current === undefined || current === read.eTag || round === MAX_OVERWRITE_ROUNDS) return result;
      log.info('object was overwritten while scoring, scoring the newer version', { key: ref.key });
    }
  }

  async function scoreLoaded(loaded: LoadedModel | ModelLoadError, body: Uint8Array | undefined, size: number, key: string): Promise<Outcome> {
    if (loaded instanceof ModelLoadError) return { kind: 'error', error: loaded };
    if (!body) return { kind: 'error', error: recordTooLarge(size, maxBytes) };
    return scoreRecord(body, fileNameOf(key), loaded, maxBytes);
  }

  return {
    binding,
    log,
    warmUp: ensureModel,

    /** Online scoring of `{"values": rows}` with the deployment's model (the scoring endpoint). */
    async scoreOnline(payload: Uint8Array): Promise<OnlineOutcome> {
      const loaded = await ensureModel();
      if (loaded instanceof ModelLoadError) return { kind: 'error', error: loaded };
      if (payload.length > maxBytes) return { kind: 'error', error: recordTooLarge(payload.length, maxBytes) };
      return scoreOnline(payload, loaded);
    },

    async handleEvent(event: unknown): Promise<EventReport> {
      const { objects: created, skipped } = parseS3Event(event);
      for (const reason of skipped) log.warn('event record skipped', { reason });
      const results: EventReport['results'] = [];
      const failures: string[] = [];
      for (const ref of created) {
        try {
          results.push({ key: ref.key, result: await handleObject(ref) });
        } catch (error) {
          log.error('transient failure, the event will be retried', { key: ref.key, reason: describeError(error) });
          failures.push(`${ref.key}: ${describeError(error)}`);
        }
      }
      if (failures.length > 0) {
        throw new TransientFailure(`${failures.length} of ${created.length} object(s) not finished: ${failures.join('; ')}`);
      }
      return { results };
    },
  };
}

export type Scorer = ReturnType<typeof createScorer>;

function limitReached(quota: PredictionQuota): UsageLimitError {
  return new UsageLimitError('PREDICTION_LIMIT_REACHED', `the instance has used ${quota.used} of its ${quota.limit} predictions (limit prediction_count); raise the limit in deployments.json to score more`);
}
