/**
 * Assembles a bulk file's outcome: streams its part objects, in order, into
 * the one outcome object (bounded memory; a multipart upload when large), with
 * the lineage metadata of any outcome plus the file's line counts. Then it
 * finishes the input version in the ledger, whose conditional write decides
 * which delivery counts its records, adds the deployment's counters in
 * records exactly once, and deletes the intermediate objects.
 */
import { describeError } from '../domain/errors.js';
import { lineageMetadata, outcomeKey, type ModelRef } from '../domain/outcome-object.js';
import { NO_METRICS, type Completion, type DeploymentBinding, type DeploymentStore, type InputLedger, type Logger, type ObjectStore, type ScoringMetrics, type UsageMeter } from '../domain/ports.js';
import { partKey, partListKey } from './bulk-keys.js';
import type { BulkPlan } from './bulk-plan.js';
import { BULK_CONTENT_TYPE, type BulkPartResult } from './score-part.js';

export interface AssemblyDeps {
  readonly binding: DeploymentBinding;
  readonly objects: ObjectStore;
  readonly ledger: InputLedger;
  readonly deployments: DeploymentStore;
  readonly usage: UsageMeter;
  readonly log: Logger;
  readonly metrics?: ScoringMetrics;
  /** The ledger scope of the scorer's model and target (see the scorer's ledgerScope). */
  readonly scope: string;
  /** What scored the parts, for the lineage. */
  readonly modelRef: ModelRef;
}

export interface BulkCounts {
  readonly records: number;
  readonly scored: number;
  readonly failed: number;
  readonly blank: number;
}

export interface Assembly {
  readonly counts: BulkCounts;
  readonly completion: Completion;
}

export async function assembleBulkOutcome(deps: AssemblyDeps, plan: BulkPlan, results: readonly BulkPartResult[], latencyMs = 0): Promise<Assembly> {
  const { binding, objects, log } = deps;
  const { input } = plan;
  const byIndex = new Map(results.map((r) => [r.index, r]));
  const missing = plan.parts.filter((p) => !byIndex.has(p.index));
  if (missing.length > 0 || results.length !== plan.parts.length) {
    throw new Error(`cannot assemble s3://${input.bucket}/${input.key}: ${missing.length} of ${plan.parts.length} part(s) not scored`);
  }
  const ordered = plan.parts.map((p) => byIndex.get(p.index)!);
  const sum = (field: keyof BulkCounts) => ordered.reduce((n, r) => n + r[field], 0);
  const counts: BulkCounts = { records: sum('records'), scored: sum('scored'), failed: sum('failed'), blank: sum('blank') };
  const partKeys = plan.parts.map((p) => partKey(binding, input.key, input.eTag, p.index));

  async function* outcomeBody(): AsyncGenerator<Uint8Array> {
    for (const key of partKeys) {
      const part = await objects.stream(binding.target.bucket, key);
      if (!part) throw new Error(`part object s3://${binding.target.bucket}/${key} is gone (another delivery finished this file?)`);
      yield* part.body;
    }
  }
  await objects.writeStream(binding.target.bucket, outcomeKey(binding, input.key), outcomeBody(), bulkOutcomeMetadata(deps, input, counts, latencyMs), BULK_CONTENT_TYPE);
  const lastError = [...ordered].reverse().find((r) => r.lastError)?.lastError;
  const completion = await completeBulkVersion(deps, input, counts, lastError);
  await removeIntermediates(deps, plan).catch((error: unknown) => log.warn('bulk file parts not deleted', { key: input.key, reason: describeError(error) }));
  return { counts, completion };
}

/** A bulk outcome's metadata: the lineage of any outcome, plus the file's line counts. */
export function bulkOutcomeMetadata(deps: Pick<AssemblyDeps, 'binding' | 'modelRef'>, input: BulkPlan['input'], counts: BulkCounts, latencyMs: number): Record<string, string> {
  return {
    ...lineageMetadata({ outcome: 'result', input, deployment: deps.binding, model: deps.modelRef, latencyMs }),
    'dropscore-records': String(counts.records),
    'dropscore-scored': String(counts.scored),
    'dropscore-failed': String(counts.failed),
    'dropscore-blank': String(counts.blank),
  };
}

/**
 * Once the outcome is written: finishes the version in the ledger, whose conditional
 * write decides which delivery counts its records, and counts them (or, for the
 * delivery that does not, gives its predictions back).
 */
export async function completeBulkVersion(deps: AssemblyDeps, input: BulkPlan['input'], counts: BulkCounts, lastError: string | undefined): Promise<Completion> {
  const { binding, log } = deps;
  const metrics = deps.metrics ?? NO_METRICS;
  const completion = await deps.ledger.complete(deps.scope, input.key, input.eTag, 'scored', { received: counts.records, scored: counts.scored, failed: counts.failed });
  if (completion.counted) {
    metrics.outcomesCounted(counts.scored, counts.failed);
    try {
      await deps.deployments.addCounters(binding.id, { received: counts.records, scored: counts.scored, failed: counts.failed }, lastError && `${input.key}: ${lastError}`);
    } catch (error) {
      // The outcome is written and its ledger entry done: a retry could not recount it.
      log.error('counters not updated for a finished bulk file', { deployment: binding.name, key: input.key, ...counts, reason: describeError(error) });
    }
  } else if (counts.scored > 0) {
    // Another delivery of this version counted its records: the predictions made here are given back.
    await deps.usage.refundPredictions(counts.scored).catch((error: unknown) => log.error('predictions not given back', { deployment: binding.name, count: counts.scored, reason: describeError(error) }));
  }
  return completion;
}

/** The part objects and the parts list of one planned input version. */
export async function removeIntermediates(deps: Pick<AssemblyDeps, 'binding' | 'objects'>, plan: BulkPlan): Promise<void> {
  const { binding, objects } = deps;
  const { key, eTag } = plan.input;
  await objects.remove(binding.target.bucket, [...plan.parts.map((p) => partKey(binding, key, eTag, p.index)), partListKey(binding, key, eTag)]);
}
