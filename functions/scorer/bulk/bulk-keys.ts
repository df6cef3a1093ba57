/**
 * Which objects are bulk files, and where a bulk file's intermediate objects
 * live (README, "Formats"). The outcome of a bulk file follows the usual key
 * rule (outcome-object.ts): the same path under the target prefix.
 *
 * Its part objects and its list of parts sit under
 * `<target prefix>.dropscore-parts/<path>/<input eTag>/` in the target bucket:
 * inside the target prefix, which a deployment never scores (even when source
 * and target share a bucket), and under a name no outcome can take, since
 * source keys with a `.dropscore-parts/` folder in their path are not scored.
 */
import type { DeploymentBinding } from '../domain/ports.js';

export type BulkFormat = 'jsonl' | 'csv';

/** The reserved folder, relative to a deployment's target (and source) prefix. */
export const BULK_PARTS_DIR = '.dropscore-parts/';

export function bulkFormatOf(key: string): BulkFormat | undefined {
  const lower = key.toLowerCase();
  if (lower.endsWith('.jsonl') || lower.endsWith('.ndjson')) return 'jsonl';
  if (lower.endsWith('.csv')) return 'csv';
  return undefined;
}

/** The Content-Type a file dropped under `key` is uploaded with: its format's, else JSON (one record). */
export function inputContentTypeOf(key: string): string {
  const format = bulkFormatOf(key);
  return format === 'jsonl' ? 'application/x-ndjson' : format === 'csv' ? 'text/csv' : 'application/json';
}

/**
 * A key with a `.dropscore-parts/` folder anywhere in its path is never scored: it is (or
 * could be) a bulk file's part, even for a deployment chained to another one's target.
 */
export function isReservedKey(key: string): boolean {
  return `/${key}`.includes(`/${BULK_PARTS_DIR}`);
}

/** The folder of one input version's intermediate objects, ending in `/`. */
export function partsFolder(binding: DeploymentBinding, inputKey: string, eTag: string): string {
  return `${binding.target.prefix}${BULK_PARTS_DIR}${inputKey.slice(binding.source.prefix.length)}/${eTag}/`;
}

/** Zero-padded, so a listing returns the parts in order. */
export function partKey(binding: DeploymentBinding, inputKey: string, eTag: string, index: number): string {
  return `${partsFolder(binding, inputKey, eTag)}${partNumber(index)}.jsonl`;
}

/** Where the fan-out keeps a part's result (its counts) until the file is assembled. */
export function partResultKey(binding: DeploymentBinding, inputKey: string, eTag: string, index: number): string {
  return `${partsFolder(binding, inputKey, eTag)}${partNumber(index)}.result.json`;
}

function partNumber(index: number): string {
  return String(index).padStart(6, '0');
}

/** The parts list (a JSON array of BulkPartItem): what a fan-out reads its items from, and what progress reports read. */
export function partListKey(binding: DeploymentBinding, inputKey: string, eTag: string): string {
  return `${partsFolder(binding, inputKey, eTag)}parts.json`;
}
