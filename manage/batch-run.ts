/**
 * `dropscore batch`: uploads record files to a deployment's source bucket and
 * follows each to its outcome object (matched by the input eTag the outcome
 * carries), reporting progress as it goes (records done of a bulk file's total
 * while it is scored). Works the same against the local
 * stack and AWS: it only speaks S3.
 */
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';
import { GetObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { bulkFormatOf, inputContentTypeOf } from '../functions/scorer/bulk/bulk-keys.js';
import { outcomeKey } from '../functions/scorer/domain/outcome-object.js';
import { describeNamedError } from '../functions/scorer/domain/errors.js';
import type { DeploymentRecord } from '../functions/scorer/domain/ports.js';
import { eTagOfParts } from '../functions/scorer/store/s3-etag.js';
import { PART_BYTES, writeInParts } from '../functions/scorer/store/s3-multipart-writer.js';
import { createBulkProgress } from './bulk-progress.js';
import { inParallel } from '../functions/scorer/domain/in-parallel.js';

export interface BatchProgress {
  readonly total: number;
  readonly done: number;
  readonly failed: number;
  readonly pending: number;
  readonly ratePerSecond: number;
  readonly etaSeconds?: number;
  /** Bulk files being scored: records done of their total, per file. */
  readonly bulk?: readonly { readonly key: string; readonly done: number; readonly total: number }[];
}

export interface BatchFileResult {
  readonly file: string;
  readonly key: string;
  readonly outcomeKey: string;
  /** `not-uploaded`: the file could not be read or uploaded (see `reason`); the others were uploaded. */
  readonly state: 'result' | 'error' | 'pending' | 'not-uploaded';
  /** The target held this content's outcome already (the scorer does not rescore it): not uploaded again. */
  readonly alreadyScored?: boolean;
  /** The error record, for error outcomes. */
  readonly error?: unknown;
  /** Why the upload failed, or why the last look for the outcome did (still pending). */
  readonly reason?: string;
  /** A bulk file's line counts, from its outcome. */
  readonly records?: BulkRecordCounts;
}

export interface BulkRecordCounts {
  readonly records: number;
  readonly scored: number;
  readonly failed: number;
}

export interface BatchOptions {
  readonly s3: S3Client;
  readonly deployment: DeploymentRecord;
  /** Files, or folders whose files are all uploaded (keys keep their relative paths). */
  readonly paths: readonly string[];
  readonly onProgress?: (progress: BatchProgress) => void;
  readonly timeoutMs?: number;
  readonly pollMs?: number;
  readonly concurrency?: number;
}

interface Upload {
  file: string;
  key: string;
  eTag: string;
  state: BatchFileResult['state'];
  error?: unknown;
  reason?: string;
  alreadyScored?: boolean;
  records?: BulkRecordCounts;
  progress?: { done: number; total: number };
}

export async function runBatch(options: BatchOptions): Promise<BatchFileResult[]> {
  const { s3, deployment } = options;
  const { files, unreadable } = await expandPaths(options.paths);
  const started = Date.now();
  const uploads: Upload[] = [];
  const failedUploads: Upload[] = unreadable.map(({ file, reason }) => ({ file, key: deployment.source.prefix + basename(file), eTag: '', state: 'not-uploaded', reason }));
  await inParallel(files, options.concurrency ?? 8, async ({ file, relativeKey }) => {
    const key = deployment.source.prefix + relativeKey;
    try {
      // Hashed and uploaded as streams: a bulk file of any size never sits in memory whole.
      const upload: Upload = { file, key, eTag: await eTagOfParts(createReadStream(file), PART_BYTES), state: 'pending' };
      // Same content as the input of the outcome there already: the scorer would not score it again, so say so.
      await readOutcome(s3, deployment, upload).catch(() => undefined); // a failed look just means: upload it
      if (upload.state !== 'pending') {
        upload.alreadyScored = true;
        uploads.push(upload);
        return;
      }
      const eTag = await writeInParts(s3, { Bucket: deployment.source.bucket, Key: key, ContentType: inputContentTypeOf(key), Metadata: {} }, createReadStream(file));
      uploads.push({ ...upload, eTag });
    } catch (error) {
      // One unreadable file or refused upload does not stop the others; the summary names it.
      failedUploads.push({ file, key, eTag: '', state: 'not-uploaded', reason: describeFileError(error) });
    }
  });
  // Uploads finish in any order; results keep the files' own order (the uploaded ones first).
  const order = new Map([...files.map(({ file }) => file), ...unreadable.map(({ file }) => file)].map((file, index) => [file, index]));
  for (const list of [uploads, failedUploads]) list.sort((a, b) => order.get(a.file)! - order.get(b.file)!);

  const deadline = started + (options.timeoutMs ?? 120_000);
  const bulkProgress = createBulkProgress(s3);
  const report = () => {
    const done = uploads.filter((u) => u.state !== 'pending').length;
    const failed = uploads.filter((u) => u.state === 'error').length;
    const seconds = (Date.now() - started) / 1000;
    const rate = seconds > 0 ? done / seconds : 0;
    const pending = uploads.length - done;
    const bulk = uploads.filter((u) => u.state === 'pending' && u.progress).map((u) => ({ key: u.key, ...u.progress! }));
    options.onProgress?.({ total: uploads.length, done, failed, pending, ratePerSecond: rate, ...(rate > 0 ? { etaSeconds: pending / rate } : {}), ...(bulk.length ? { bulk } : {}) });
  };
  for (;;) {
    await inParallel(uploads.filter((u) => u.state === 'pending'), options.concurrency ?? 8, async (upload) => {
      await checkOutcome(s3, deployment, upload);
      if (upload.state !== 'pending' || !bulkFormatOf(upload.key) || !options.onProgress) return;
      const [progress] = await bulkProgress(deployment, { key: upload.key, eTag: upload.eTag }).catch(() => []);
      if (progress) upload.progress = { done: progress.done, total: progress.total };
    });
    report();
    if (!uploads.some((u) => u.state === 'pending') || Date.now() >= deadline) break;
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 200));
  }
  return [...uploads, ...failedUploads].map((u) => ({
    file: u.file,
    key: u.key,
    outcomeKey: outcomeKey(deployment, u.key),
    state: u.state,
    ...(u.error === undefined ? {} : { error: u.error }),
    ...(u.reason === undefined ? {} : { reason: u.reason }),
    ...(u.alreadyScored ? { alreadyScored: true } : {}),
    ...(u.records ? { records: u.records } : {}),
  }));
}

/** Looks for the upload's outcome once; a failed look leaves it pending (with the reason) for the next round. */
async function checkOutcome(s3: S3Client, deployment: DeploymentRecord, upload: Upload): Promise<void> {
  try {
    await readOutcome(s3, deployment, upload);
    delete upload.reason;
  } catch (error) {
    upload.reason = `the last look for its outcome failed: ${describeNamedError(error)}`;
  }
}

async function readOutcome(s3: S3Client, deployment: DeploymentRecord, upload: Upload): Promise<void> {
  const Key = outcomeKey(deployment, upload.key);
  let metadata: Record<string, string>;
  try {
    metadata = (await s3.send(new HeadObjectCommand({ Bucket: deployment.target.bucket, Key }))).Metadata ?? {};
  } catch (error) {
    if ((error as { name?: string }).name === 'NotFound' || (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return;
    throw error;
  }
  // An outcome of an older upload of the same key is not ours: keep waiting.
  if (metadata['dropscore-input-etag'] !== upload.eTag) return;
  if (metadata['dropscore-outcome'] === 'error') {
    const body = await (await s3.send(new GetObjectCommand({ Bucket: deployment.target.bucket, Key }))).Body!.transformToString();
    upload.error = (JSON.parse(body) as { error?: unknown }).error;
    upload.state = 'error';
  } else {
    upload.state = 'result';
    if (metadata['dropscore-records'] !== undefined) {
      upload.records = { records: Number(metadata['dropscore-records']), scored: Number(metadata['dropscore-scored']), failed: Number(metadata['dropscore-failed']) };
    }
  }
}

interface ExpandedPaths {
  readonly files: { file: string; relativeKey: string }[];
  /** Paths that are neither a file nor a folder: reported, while the others go on. */
  readonly unreadable: { file: string; reason: string }[];
}

async function expandPaths(paths: readonly string[]): Promise<ExpandedPaths> {
  const out: { file: string; relativeKey: string }[] = [];
  const unreadable: { file: string; reason: string }[] = [];
  for (const path of paths) {
    let isDirectory: boolean;
    try {
      isDirectory = (await stat(path)).isDirectory();
    } catch (error) {
      unreadable.push({ file: path, reason: describeFileError(error) });
      continue;
    }
    if (isDirectory) {
      for (const file of await walk(path)) out.push({ file, relativeKey: relative(path, file).split('\\').join('/') });
    } else {
      out.push({ file: path, relativeKey: basename(path) });
    }
  }
  return { files: out, unreadable };
}

/** A file system error as people say it ("no such file"), not as libuv does ("ENOENT: ..., stat '...'"). */
export function describeFileError(error: unknown): string {
  const code = (error as { code?: string }).code;
  if (code === 'ENOENT') return 'no such file or folder';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'a folder, not a file';
  return describeNamedError(error);
}

async function walk(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(entries.map((e) => (e.isDirectory() ? walk(join(dir, e.name)) : Promise.resolve(e.isFile() ? [join(dir, e.name)] : []))));
  return nested.flat().sort();
}
