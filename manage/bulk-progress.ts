/**
 * How far the bulk files a deployment is scoring have got, read from its
 * target bucket only (so it works against the local stack and AWS alike): a
 * file in progress has a parts list and, as its parts finish, part objects
 * (functions/scorer/bulk/bulk-keys.ts); records done are those of the
 * finished parts. `dropscore batch` and the console show it.
 */
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { BULK_PARTS_DIR, partsFolder } from '../functions/scorer/bulk/bulk-keys.js';
import type { BulkPartItem } from '../functions/scorer/bulk/bulk-plan.js';
import type { DeploymentBinding } from '../functions/scorer/domain/ports.js';
import { listObjects } from '../functions/scorer/store/s3-listing.js';

export interface BulkFileProgress {
  /** The input's key in the source bucket. */
  readonly inputKey: string;
  readonly eTag: string;
  /** Records in the parts finished so far, of the file's records. */
  readonly done: number;
  readonly total: number;
}

// Enough for any number of files a page or a terminal line can show.
const MAX_LISTED = 10_000;
const PART_FILE = /^(\d{6})\.jsonl$/;

/** Reads parts lists once per file version: they never change. */
export function createBulkProgress(s3: S3Client) {
  const partsLists = new Map<string, readonly BulkPartItem[]>();

  async function partsList(bucket: string, key: string): Promise<readonly BulkPartItem[] | undefined> {
    const known = partsLists.get(`${bucket}/${key}`);
    if (known) return known;
    try {
      const response = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      const items = JSON.parse(await response.Body!.transformToString()) as BulkPartItem[];
      partsLists.set(`${bucket}/${key}`, items);
      if (partsLists.size > 1000) partsLists.delete(partsLists.keys().next().value!);
      return items;
    } catch {
      return undefined; // finished (and cleaned up) between the listing and this read
    }
  }

  /** Every bulk file in progress, or only the given version of one. */
  return async function bulkProgress(binding: DeploymentBinding, only?: { readonly key: string; readonly eTag: string }): Promise<BulkFileProgress[]> {
    const root = `${binding.target.prefix}${BULK_PARTS_DIR}`;
    const prefix = only ? partsFolder(binding, only.key, only.eTag) : root;
    const folders = new Map<string, { hasList: boolean; parts: number[] }>();
    for (const object of await listObjects(s3, binding.target.bucket, prefix, MAX_LISTED)) {
      const key = object.Key!;
      const slash = key.lastIndexOf('/');
      const folder = folders.get(key.slice(0, slash + 1)) ?? { hasList: false, parts: [] };
      folders.set(key.slice(0, slash + 1), folder);
      const name = key.slice(slash + 1);
      if (name === 'parts.json') folder.hasList = true;
      const part = PART_FILE.exec(name);
      if (part) folder.parts.push(Number(part[1]));
    }
    const progress: BulkFileProgress[] = [];
    for (const [folder, { hasList, parts }] of folders) {
      if (!hasList) continue;
      const items = await partsList(binding.target.bucket, `${folder}parts.json`);
      if (!items) continue;
      // `<root><path>/<eTag>/`
      const inside = folder.slice(root.length, -1);
      const cut = inside.lastIndexOf('/');
      const records = (index: number) => items[index]?.part.records ?? 0;
      progress.push({
        inputKey: binding.source.prefix + inside.slice(0, cut),
        eTag: inside.slice(cut + 1),
        done: parts.reduce((n, index) => n + records(index), 0),
        total: items.reduce((n, item) => n + item.part.records, 0),
      });
    }
    return progress.sort((a, b) => (a.inputKey < b.inputKey ? -1 : a.inputKey > b.inputKey ? 1 : 0));
  };
}
