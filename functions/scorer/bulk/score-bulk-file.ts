/**
 * A bulk file from its event to its outcome: claim the version in the ledger,
 * plan its parts, score them (through a part runner: in this process, or a
 * worker pool, or on AWS a fan-out), assemble the outcome. One file version
 * ends in exactly one outcome, counted once, as a record file does.
 */
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { ObjectChangedError, describeError } from '../domain/errors.js';
import { outcomeIsFor, outcomeKey } from '../domain/outcome-object.js';
import type { ObjectStream } from '../domain/ports.js';
import { partKey, partListKey, type BulkFormat } from './bulk-keys.js';
import { assembleBulkOutcome, bulkOutcomeMetadata, completeBulkVersion, removeIntermediates, type AssemblyDeps, type BulkCounts } from './assemble-outcome.js';
import { DEFAULT_PART_BYTES, bulkPartItems, planBulkFile, planBulkStream, readWhole, type BulkInput, type BulkPartItem, type BulkPlan } from './bulk-plan.js';
import { BULK_CONTENT_TYPE, scoreBulkPart, scorePartLines, type BulkPartResult, type PartScoringDeps } from './score-part.js';

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
  const claimed = await claimBulkVersion(deps, ref);
  return claimed.kind === 'claimed' ? scoreClaimedBulkFile(deps, claimed.version, format) : claimed;
}

/**
 * A claimed version's way to its outcome: one whole read of it, which plans its parts;
 * then the parts (on the part runner when there are several) and the assembly. A small
 * file is scored from that read alone, in memory.
 */
export async function scoreClaimedBulkFile(deps: BulkFileDeps, version: BulkInput, format: BulkFormat): Promise<BulkFileResult> {
  const now = deps.now ?? (() => performance.now());
  const started = now();
  const partBytes = deps.partBytes ?? DEFAULT_PART_BYTES;
  let plan: BulkPlan;
  try {
    const whole = await readWhole(deps.objects, version);
    if (whole.size < oneReadBytesOf(deps)) return await scoreFromOneRead(deps, whole, version, format, () => now() - started);
    plan = await planBulkStream(whole, version, format, partBytes);
    await listParts(deps, plan);
  } catch (error) {
    if (error instanceof ObjectChangedError) return { kind: 'overwritten' };
    throw error;
  }
  const items = bulkPartItems(plan);
  const runParts = items.length > 1 && deps.runParts ? deps.runParts : inProcessPartRunner(deps);
  let results: BulkPartResult[];
  try {
    results = await runParts(items);
  } catch (error) {
    if (!(error instanceof ObjectChangedError)) throw error;
    await removeIntermediates(deps, plan).catch((e: unknown) => deps.log.warn('bulk file parts not deleted', { key: version.key, reason: describeError(e) }));
    return { kind: 'overwritten' };
  }
  return finishBulkFile(deps, plan, results, now() - started);
}

// Most drops are small files: below this size (and below a part) one is read into memory whole.
const ONE_READ_BYTES = 8 * 1024 * 1024;

/** How large a file (and its outcome, held until its counts are known) may be to be scored from one read. */
function oneReadBytesOf(deps: Pick<BulkFileDeps, 'partBytes'>): number {
  return Math.min(deps.partBytes ?? DEFAULT_PART_BYTES, ONE_READ_BYTES);
}

/**
 * A file smaller than a part (so of one part, or none): its bytes are planned and scored
 * from the one read, and its outcome written directly, once its counts are known: no
 * parts list, no part objects, 3 S3 requests instead of 9. An outcome that outgrows
 * the file's size limit (many short bad lines make long error lines) goes through a
 * part object and the assembly instead, so memory stays bounded.
 */
async function scoreFromOneRead(deps: BulkFileDeps, whole: ObjectStream, version: BulkInput, format: BulkFormat, elapsed: () => number): Promise<BulkFileResult> {
  const { binding, objects } = deps;
  const bytes = await buffer(whole.body);
  const plan = await planBulkStream({ ...whole, body: Readable.from([bytes]) }, version, format, Infinity);
  const { input } = plan;
  const [item] = bulkPartItems(plan);
  const scoring = item && scorePartLines(deps, item, Readable.from([bytes]));
  const lines: string[] = [];
  let lineBytes = 0;
  const maxLineBytes = oneReadBytesOf(deps);
  for await (const chunk of scoring?.lines ?? []) {
    lines.push(chunk);
    lineBytes += Buffer.byteLength(chunk);
    if (lineBytes >= maxLineBytes) {
      // `scoring.lines` is one generator: this write drains the lines the loop has not taken yet.
      await listParts(deps, plan);
      await objects.writeStream(binding.target.bucket, partKey(binding, input.key, input.eTag, item!.part.index), concat(lines, scoring!.lines), {}, BULK_CONTENT_TYPE);
      return finishBulkFile(deps, plan, [scoring!.result()], elapsed());
    }
  }
  const { lastError, ...counts }: Omit<BulkPartResult, 'index'> = scoring ? scoring.result() : { records: 0, scored: 0, failed: 0, blank: 0 };
  await objects.writeStream(binding.target.bucket, outcomeKey(binding, input.key), Readable.from(lines), bulkOutcomeMetadata(deps, input, counts, elapsed()), BULK_CONTENT_TYPE);
  const completion = await completeBulkVersion(deps, input, counts, lastError);
  return { kind: 'scored', eTag: input.eTag, counts, otherVersionClaimed: completion.otherVersionClaimed };
}

/**
 * Claims the key's current version (counting nothing yet: records are counted as received
 * when the file completes, its record count known then), and answers a redelivery of a
 * finished version as a duplicate.
 */
export async function claimBulkVersion(
  deps: Pick<BulkFileDeps, 'binding' | 'objects' | 'ledger' | 'scope'>,
  ref: { readonly bucket: string; readonly key: string },
): Promise<{ readonly kind: 'claimed'; readonly version: BulkInput; readonly size?: number } | { readonly kind: 'duplicate' | 'missing' }> {
  const { binding, objects, ledger } = deps;
  const current = await objects.head(ref.bucket, ref.key);
  if (!current) return { kind: 'missing' };
  const version = { bucket: ref.bucket, key: ref.key, eTag: current.eTag, ...(current.versionId ? { versionId: current.versionId } : {}) };
  const claim = await ledger.claim(deps.scope, ref.key, version.eTag, 0);
  if (claim === 'done' && (await outcomeIsFor(objects, binding, ref.key, version.eTag))) return { kind: 'duplicate' };
  return { kind: 'claimed', version, ...(current.size !== undefined ? { size: current.size } : {}) };
}

/** Plans the version (throws ObjectChangedError if it is gone) and writes its parts list. */
export async function planAndListParts(deps: Pick<BulkFileDeps, 'binding' | 'objects' | 'partBytes'>, version: BulkInput, format: BulkFormat): Promise<BulkPlan> {
  const plan = await planBulkFile(deps.objects, version, format, deps.partBytes ?? DEFAULT_PART_BYTES);
  await listParts(deps, plan);
  return plan;
}

/** The parts list: what a fan-out reads its items from, and what progress reports count. */
async function listParts(deps: Pick<BulkFileDeps, 'binding' | 'objects'>, plan: BulkPlan): Promise<void> {
  await deps.objects.write(deps.binding.target.bucket, partListKey(deps.binding, plan.input.key, plan.input.eTag), JSON.stringify(bulkPartItems(plan)), {});
}

/** The last step, once every part is scored: the outcome, counted once. */
export async function finishBulkFile(deps: BulkFileDeps, plan: BulkPlan, results: readonly BulkPartResult[], latencyMs = 0): Promise<BulkFileResult> {
  const { counts, completion } = await assembleBulkOutcome(deps, plan, results, latencyMs);
  return { kind: 'scored', eTag: plan.input.eTag, counts, otherVersionClaimed: completion.otherVersionClaimed };
}

async function* concat<T>(first: readonly T[], rest: AsyncIterable<T>): AsyncGenerator<T> {
  yield* first;
  yield* rest;
}
