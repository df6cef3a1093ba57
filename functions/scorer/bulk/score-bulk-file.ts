/**
 * A bulk file from its event to its outcome: claim the version in the ledger,
 * plan its parts, score them (through a part runner: in this process, or a
 * worker pool, or on AWS a fan-out), assemble the outcome. One file version
 * ends in exactly one outcome, counted once, as a record file does.
 */
import { ObjectChangedError, describeError } from '../domain/errors.js';
import { outcomeKey } from '../domain/outcome-object.js';
import { partListKey, type BulkFormat } from './bulk-keys.js';
import { assembleBulkOutcome, removeIntermediates, type AssemblyDeps, type BulkCounts } from './assemble-outcome.js';
import { DEFAULT_PART_BYTES, bulkPartItems, planBulkFile, type BulkPartItem, type BulkPlan } from './bulk-plan.js';
import { scoreBulkPart, type BulkPartResult, type PartScoringDeps } from './score-part.js';

/** Scores a file's parts, in any order or in parallel; results in the items' order. */
export type PartRunner = (items: readonly BulkPartItem[]) => Promise<BulkPartResult[]>;

export function inProcessPartRunner(deps: PartScoringDeps): PartRunner {
  return async (items) => {
    const results: BulkPartResult[] = [];
    for (const item of items) results.push(await scoreBulkPart(deps, item));
    return results;
  };
}

export interface BulkFileDeps extends PartScoringDeps, AssemblyDeps {
  /** About how many bytes of input one part covers. */
  readonly partBytes?: number;
  /** Runs the parts of a file that has more than one; a one-part file is scored in this process. */
  readonly runParts?: PartRunner;
  readonly now?: () => number;
}

/** `overwritten`: the key holds another version now (or none): score what it holds instead. */
export type BulkFileResult =
  | { readonly kind: 'scored'; readonly eTag: string; readonly counts: BulkCounts; readonly otherVersionClaimed: boolean }
  | { readonly kind: 'duplicate' | 'missing' | 'overwritten' };

/** A planned file, its parts listed for the workers; or why there is nothing to score. */
export type BulkStart = { readonly kind: 'planned'; readonly plan: BulkPlan } | { readonly kind: 'duplicate' | 'missing' | 'overwritten' };

export async function scoreBulkFile(deps: BulkFileDeps, ref: { readonly bucket: string; readonly key: string }, format: BulkFormat): Promise<BulkFileResult> {
  const now = deps.now ?? (() => performance.now());
  const started = now();
  const start = await startBulkFile(deps, ref, format);
  if (start.kind !== 'planned') return start;
  const items = bulkPartItems(start.plan);
  const runParts = items.length > 1 && deps.runParts ? deps.runParts : inProcessPartRunner(deps);
  let results: BulkPartResult[];
  try {
    results = await runParts(items);
  } catch (error) {
    if (!(error instanceof ObjectChangedError)) throw error;
    await removeIntermediates(deps, start.plan).catch((e: unknown) => deps.log.warn('bulk file parts not deleted', { key: ref.key, reason: describeError(e) }));
    return { kind: 'overwritten' };
  }
  return finishBulkFile(deps, start.plan, results, now() - started);
}

/**
 * The first step: claims the key's current version (counting nothing yet), answers a
 * redelivery of a finished version as a duplicate, plans the file and writes its parts list.
 */
export async function startBulkFile(deps: BulkFileDeps, ref: { readonly bucket: string; readonly key: string }, format: BulkFormat): Promise<BulkStart> {
  const { binding, objects, ledger } = deps;
  const current = await objects.head(ref.bucket, ref.key);
  if (!current) return { kind: 'missing' };
  const version = { bucket: ref.bucket, key: ref.key, eTag: current.eTag, ...(current.versionId ? { versionId: current.versionId } : {}) };
  // Records are counted as received when the file completes (its record count known then).
  const claim = await ledger.claim(deps.scope, ref.key, version.eTag, 0);
  if (claim === 'done') {
    const outcome = await objects.head(binding.target.bucket, outcomeKey(binding, ref.key));
    if (outcome?.metadata['dropscore-input-etag'] === version.eTag) return { kind: 'duplicate' };
  }
  let plan: BulkPlan;
  try {
    plan = await planBulkFile(objects, version, format, deps.partBytes ?? DEFAULT_PART_BYTES);
  } catch (error) {
    if (error instanceof ObjectChangedError) return { kind: 'overwritten' };
    throw error;
  }
  // The parts list: what a fan-out reads its items from, and what progress reports count.
  await objects.write(binding.target.bucket, partListKey(binding, ref.key, version.eTag), JSON.stringify(bulkPartItems(plan)), {});
  return { kind: 'planned', plan };
}

/** The last step, once every part is scored: the outcome, counted once. */
export async function finishBulkFile(deps: BulkFileDeps, plan: BulkPlan, results: readonly BulkPartResult[], latencyMs = 0): Promise<BulkFileResult> {
  const { counts, completion } = await assembleBulkOutcome(deps, plan, results, latencyMs);
  return { kind: 'scored', eTag: plan.input.eTag, counts, otherVersionClaimed: completion.otherVersionClaimed };
}
