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

export async function scoreBulkFile(deps: BulkFileDeps, ref: { readonly bucket: string; readonly key: string }, format: BulkFormat): Promise<BulkFileResult> {
  const { binding, objects, ledger } = deps;
  const now = deps.now ?? (() => performance.now());
  const started = now();
  const current = await objects.head(ref.bucket, ref.key);
  if (!current) return { kind: 'missing' };
  const version = { bucket: ref.bucket, key: ref.key, eTag: current.eTag, ...(current.versionId ? { versionId: current.versionId } : {}) };
  // Records are counted as received when the file completes (its record count known then).
  const claim = await ledger.claim(deps.scope, ref.key, version.eTag, 0);
  if (claim === 'done') {
    const outcome = await objects.head(binding.target.bucket, outcomeKey(binding, ref.key));
    if (outcome?.metadata['dropscore-input-etag'] === version.eTag) return { kind: 'duplicate' };
  }
  let plan: BulkPlan | undefined;
  try {
    plan = await planBulkFile(objects, version, format, deps.partBytes ?? DEFAULT_PART_BYTES);
    const items = bulkPartItems(plan);
    // The parts list: what a fan-out reads its items from, and what progress reports count.
    await objects.write(binding.target.bucket, partListKey(binding, ref.key, version.eTag), JSON.stringify(items), {});
    const runParts = items.length > 1 && deps.runParts ? deps.runParts : inProcessPartRunner(deps);
    const results = await runParts(items);
    const { counts, completion } = await assembleBulkOutcome(deps, plan, results, now() - started);
    return { kind: 'scored', eTag: version.eTag, counts, otherVersionClaimed: completion.otherVersionClaimed };
  } catch (error) {
    if (!(error instanceof ObjectChangedError)) throw error;
    if (plan) {
      const planned = plan;
      await removeIntermediates(deps, planned).catch((e: unknown) => deps.log.warn('bulk file parts not deleted', { key: ref.key, reason: describeError(e) }));
    }
    return { kind: 'overwritten' };
  }
}
