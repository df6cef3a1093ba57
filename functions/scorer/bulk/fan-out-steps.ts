/**
 * The scorer's side of the AWS fan-out (infra/lib/constructs/bulk-fan-out.ts):
 * the same plan → parts → assembly as a bulk file scored in one process, cut
 * into the steps a state machine runs, each in its own invocation and each
 * idempotent (Step Functions retries them). Steps share nothing but S3: the
 * parts list the plan step writes (the Distributed Map reads its items from
 * it), one small result object per scored part, and the part objects.
 */
import { ObjectChangedError, describeError, DropscoreError } from '../domain/errors.js';
import { inParallel } from '../domain/in-parallel.js';
import { errorRecord, inputOf, lineageMetadata, outcomeKey } from '../domain/outcome-object.js';
import { assembleBulkOutcome, removeIntermediates, type AssemblyDeps, type BulkCounts } from './assemble-outcome.js';
import { partListKey, partResultKey, type BulkFormat } from './bulk-keys.js';
import type { BulkInput, BulkPartItem, BulkPlan } from './bulk-plan.js';
import type { PlanLocation } from './fan-out-events.js';
import { planAndListParts } from './score-bulk-file.js';
import { scoreBulkPart, type BulkPartResult, type PartScoringDeps } from './score-part.js';

/** Part results read at once when a file is assembled or abandoned. */
const PARALLEL_READS = 16;

export interface FanOutStepDeps extends PartScoringDeps, AssemblyDeps {
  readonly partBytes?: number;
}

/** What the plan step hands the next steps through the execution's state (small: the parts stay in S3). */
export interface PlannedFile extends PlanLocation {
  readonly format: BulkFormat;
  readonly lineCount: number;
  readonly records: number;
  readonly parts: number;
}

export type FanOutStepResult = PlannedFile | { readonly results: BulkPartResult[] } | BulkCounts | void;

/** A file whose fan-out failed for good: its outcome says so, and why. */
export class FanOutFailed extends DropscoreError {
  constructor(message: string) {
    super('BULK_FILE_FAILED', message);
  }
}

export async function planStep(deps: FanOutStepDeps, input: BulkInput, format: BulkFormat): Promise<PlannedFile> {
  const plan = await planAndListParts(deps, input, format);
  const planKey = partListKey(deps.binding, input.key, input.eTag);
  return { planBucket: deps.binding.target.bucket, planKey, format, lineCount: plan.lineCount, records: plan.records, parts: plan.parts.length };
}

/** Scores a batch of parts (the Map's ItemBatcher) and leaves each one's counts beside its part object. */
export async function partsStep(deps: FanOutStepDeps, items: readonly BulkPartItem[]): Promise<BulkPartResult[]> {
  const results: BulkPartResult[] = [];
  for (const item of items) {
    const result = await scoreBulkPart(deps, item);
    await deps.objects.write(deps.binding.target.bucket, partResultKey(deps.binding, item.input.key, item.input.eTag, item.part.index), JSON.stringify(result), {});
    results.push(result);
  }
  return results;
}

export async function assembleStep(deps: FanOutStepDeps, input: BulkInput, planned: PlannedFile): Promise<BulkCounts> {
  // A retry after an assembly that wrote the outcome (its answer lost, or its ledger write failed):
  // finish the version in the ledger, which counts it only if that was not done yet.
  const finished = await finishedOutcome(deps, input);
  if (finished) {
    const completion = await deps.ledger.complete(deps.scope, input.key, input.eTag, 'scored', { received: finished.records, scored: finished.scored, failed: finished.failed });
    if (completion.counted) await deps.deployments.addCounters(deps.binding.id, { received: finished.records, scored: finished.scored, failed: finished.failed });
    return finished;
  }
  const items = await readPartsList(deps, planned);
  const plan = planOf(input, items, planned);
  const results = await readPartResults(deps, input, items);
  const missing = results.flatMap((r, i) => (r ? [] : [i]));
  if (missing.length > 0) throw new Error(`cannot assemble s3://${input.bucket}/${input.key}: part(s) ${missing.join(', ')} have no result`);
  const { counts } = await assembleBulkOutcome(deps, plan, results as BulkPartResult[]);
  await removePartResults(deps, input, items.length);
  return counts;
}

/**
 * The last step when another failed for good: the file's one outcome is an error record saying
 * why, its version is finished as failed in the ledger, and predictions parts made are given back.
 */
export async function abandonStep(deps: FanOutStepDeps, input: BulkInput, failure: { readonly Error?: string; readonly Cause?: string }): Promise<void> {
  const { binding, objects, log } = deps;
  const items = await readPartsList(deps, { planBucket: binding.target.bucket, planKey: partListKey(binding, input.key, input.eTag) }).catch(() => [] as BulkPartItem[]);
  const results = await readPartResults(deps, input, items);
  const made = results.reduce((n, r) => n + (r?.scored ?? 0), 0);
  const records = items.reduce((n, item) => n + item.part.records, 0);
  const cleanUp = async () => {
    if (made > 0) await deps.usage.refundPredictions(made).catch((error: unknown) => log.error('predictions not given back', { count: made, reason: describeError(error) }));
    if (items.length === 0) return;
    await removeIntermediates(deps, planOf(input, items, { format: items[0]!.format, lineCount: 0, records })).catch(() => undefined);
    await removePartResults(deps, input, items.length).catch(() => undefined);
  };
  // Overwritten meanwhile (a pinned read failed): the newer version has its own event and outcome.
  const current = await objects.head(input.bucket, input.key);
  if (current?.eTag !== input.eTag) {
    log.info('bulk file overwritten during its fan-out; the newer version gets the outcome', { key: input.key });
    return cleanUp();
  }
  // Assembled already (a later step failed, or its answer was lost): that outcome stands.
  if (await finishedOutcome(deps, input)) return cleanUp();
  const why = new FanOutFailed(`the file could not be scored in parts: ${failure.Error ?? 'error'}: ${failure.Cause ?? 'no cause given'}`);

  const body = errorRecord(why, { input: inputOf(input), deployment: binding, model: deps.modelRef });
  await objects.write(binding.target.bucket, outcomeKey(binding, input.key), JSON.stringify(body), lineageMetadata({ outcome: 'error', input, deployment: binding, model: deps.modelRef, latencyMs: 0 }));
  // Records count as received and failed once the plan knew them; none ends as a result.
  const completion = await deps.ledger.complete(deps.scope, input.key, input.eTag, 'failed', { received: records, scored: 0, failed: records });
  if (completion.counted) await deps.deployments.addCounters(binding.id, { received: records, failed: records }, `${input.key}: ${why.code}: ${why.message}`);
  await cleanUp();
}

/** The counts of this version's assembled outcome, if it has one. */
async function finishedOutcome(deps: FanOutStepDeps, input: BulkInput): Promise<BulkCounts | undefined> {
  const outcome = await deps.objects.head(deps.binding.target.bucket, outcomeKey(deps.binding, input.key));
  const meta = outcome?.metadata;
  if (meta?.['dropscore-input-etag'] !== input.eTag || meta['dropscore-outcome'] !== 'result' || meta['dropscore-records'] === undefined) return undefined;
  const count = (field: string) => Number(meta[`dropscore-${field}`] ?? 0);
  return { records: count('records'), scored: count('scored'), failed: count('failed'), blank: count('blank') };
}

async function readPartsList(deps: FanOutStepDeps, where: PlanLocation): Promise<BulkPartItem[]> {
  const list = await deps.objects.read(where.planBucket, where.planKey, Number.POSITIVE_INFINITY);
  if (!list) throw new ObjectChangedError(where.planBucket, where.planKey, 'the parts list');
  return JSON.parse(Buffer.from(list.body!).toString('utf8')) as BulkPartItem[];
}

/** Each part's result (undefined where a part has none), a bounded number of reads at a time: a large file has thousands of parts. */
async function readPartResults(deps: FanOutStepDeps, input: BulkInput, items: readonly BulkPartItem[]): Promise<(BulkPartResult | undefined)[]> {
  const results: (BulkPartResult | undefined)[] = new Array(items.length);
  await inParallel(items, PARALLEL_READS, async (item, i) => {
    const result = await deps.objects.read(deps.binding.target.bucket, partResultKey(deps.binding, input.key, input.eTag, item.part.index), Number.POSITIVE_INFINITY);
    results[i] = result && (JSON.parse(Buffer.from(result.body!).toString('utf8')) as BulkPartResult);
  });
  return results;
}

async function removePartResults(deps: FanOutStepDeps, input: BulkInput, parts: number): Promise<void> {
  await deps.objects.remove(deps.binding.target.bucket, Array.from({ length: parts }, (_, i) => partResultKey(deps.binding, input.key, input.eTag, i)));
}

function planOf(input: BulkInput, items: readonly BulkPartItem[], planned: Pick<PlannedFile, 'format' | 'lineCount' | 'records'>): BulkPlan {
  const first = items[0];
  return {
    input,
    format: planned.format,
    ...(first?.header ? { header: first.header, headerLine: first.headerLine } : {}),
    lineCount: planned.lineCount,
    records: planned.records,
    parts: items.map((item) => item.part),
  };
}

