/**
 * Outcomes out of a deployment's target bucket: list them, read one, save
 * them under a local folder by their path relative to the target prefix
 * (the same path as their input's under the source prefix). The CLI's
 * `outcomes` and `batch --out` and the console's downloads share it.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { GetObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { ConfigError } from '../functions/scorer/domain/errors.js';
import type { DeploymentBinding } from '../functions/scorer/domain/ports.js';
import { isReservedKey } from '../functions/scorer/bulk/bulk-keys.js';
import { listObjects } from '../functions/scorer/store/s3-listing.js';

export interface OutcomeEntry {
  /** The outcome's path under the target prefix. */
  readonly path: string;
  readonly key: string;
  readonly state: 'result' | 'error';
}

export interface OutcomeDocument extends OutcomeEntry {
  readonly body: string;
}

const MAX_LISTED = 100_000;

export async function listOutcomes(s3: S3Client, binding: DeploymentBinding): Promise<OutcomeEntry[]> {
  const objects = await listObjects(s3, binding.target.bucket, binding.target.prefix, MAX_LISTED);
  // A bulk file's parts in progress are not outcomes.
  const keys = objects.map((o) => o.Key!).filter((key) => !key.endsWith('/') && !isReservedKey(key)).sort();
  return Promise.all(keys.map(async (key) => {
    const head = await s3.send(new HeadObjectCommand({ Bucket: binding.target.bucket, Key: key }));
    return { path: key.slice(binding.target.prefix.length), key, state: head.Metadata?.['dropscore-outcome'] === 'error' ? 'error' as const : 'result' as const };
  }));
}

/** One outcome by its path under the target prefix (or its full key). */
export async function readOutcome(s3: S3Client, binding: DeploymentBinding, pathOrKey: string): Promise<OutcomeDocument> {
  const key = pathOrKey.startsWith(binding.target.prefix) && binding.target.prefix !== '' ? pathOrKey : binding.target.prefix + pathOrKey;
  try {
    const response = await s3.send(new GetObjectCommand({ Bucket: binding.target.bucket, Key: key }));
    return { path: key.slice(binding.target.prefix.length), key, state: response.Metadata?.['dropscore-outcome'] === 'error' ? 'error' : 'result', body: await response.Body!.transformToString() };
  } catch (error) {
    if ((error as { name?: string }).name === 'NoSuchKey') throw new ConfigError(`no outcome s3://${binding.target.bucket}/${key} (list them with \`dropscore outcomes list\`)`);
    throw error;
  }
}

/** Writes the outcome under `dir` at its path; returns the file written. A path never escapes `dir`. */
export async function saveOutcome(dir: string, outcome: OutcomeDocument): Promise<string> {
  const root = resolve(dir);
  const file = resolve(join(root, outcome.path));
  if (!file.startsWith(root + sep)) throw new ConfigError(`outcome key "${outcome.key}" does not fit under ${dir}`);
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, outcome.body);
  return file;
}
