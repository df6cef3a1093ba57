/**
 * Where an input's outcome goes and what it carries. The key rule (README,
 * "Outcomes"): the outcome of `<source prefix><path>` is `<target prefix><path>`
 * in the target bucket, one object per input, a result or an error record.
 */
import { isReservedKey } from '../bulk/bulk-keys.js';
import type { DropscoreError } from './errors.js';
import type { DeploymentBinding, ObjectStore } from './ports.js';

export function isWatched(binding: DeploymentBinding, bucket: string, key: string): boolean {
  if (bucket !== binding.source.bucket || !key.startsWith(binding.source.prefix) || !key.endsWith(binding.source.suffix ?? '')) return false;
  // A deployment writing into its own source bucket must never score its outcomes; nor a key whose outcome could be a bulk file's part.
  return !(binding.target.bucket === bucket && key.startsWith(binding.target.prefix)) && !isReservedKey(key);
}

export function outcomeKey(binding: DeploymentBinding, inputKey: string): string {
  return binding.target.prefix + inputKey.slice(binding.source.prefix.length);
}

/** The input's file name, which keys the result document as the batch-scoring convention wants. */
export function fileNameOf(key: string): string {
  return key.slice(key.lastIndexOf('/') + 1);
}

export interface InputRef {
  readonly bucket: string;
  readonly key: string;
  readonly eTag: string;
  readonly versionId?: string;
}

export interface ModelRef {
  readonly name: string;
  readonly framework?: string;
  readonly sha256?: string;
}

export interface ErrorContext {
  /** Where the record came from: bucket/key/eTag in the pipeline, a file path offline. */
  readonly input: Readonly<Record<string, string>>;
  readonly deployment?: Pick<DeploymentBinding, 'id' | 'name'>;
  readonly model: ModelRef;
}

export function errorRecord(error: DropscoreError, context: ErrorContext): unknown {
  const { input, deployment, model } = context;
  return {
    error: {
      code: error.code,
      message: error.message,
      input,
      ...(deployment ? { deployment: { id: deployment.id, name: deployment.name } } : {}),
      model: { name: model.name, ...(model.framework ? { framework: model.framework } : {}) },
    },
  };
}

export function inputOf(ref: InputRef): Record<string, string> {
  return { bucket: ref.bucket, key: ref.key, eTag: ref.eTag, ...(ref.versionId ? { versionId: ref.versionId } : {}) };
}

export interface Lineage {
  readonly outcome: 'result' | 'error';
  readonly input: InputRef;
  readonly deployment: DeploymentBinding;
  readonly model: ModelRef;
  readonly latencyMs: number;
}

/** S3 user metadata (x-amz-meta-*): ASCII only, so anything user-named is URI-encoded. */
export function lineageMetadata(lineage: Lineage): Record<string, string> {
  const metadata: Record<string, string> = {
    'dropscore-outcome': lineage.outcome,
    'dropscore-deployment': encodeURIComponent(lineage.deployment.name),
    'dropscore-deployment-id': lineage.deployment.id,
    'dropscore-model': encodeURIComponent(lineage.model.name),
    'dropscore-model-sha256': lineage.model.sha256 ?? 'unavailable',
    'dropscore-input-etag': lineage.input.eTag,
    'dropscore-latency-ms': lineage.latencyMs.toFixed(1),
  };
  if (lineage.input.versionId) metadata['dropscore-input-version-id'] = lineage.input.versionId;
  return metadata;
}

/** Whether the key's outcome is the one of input version `eTag` (its lineage says so). */
export async function outcomeIsFor(objects: Pick<ObjectStore, 'head'>, deployment: DeploymentBinding, key: string, eTag: string): Promise<boolean> {
  const outcome = await objects.head(deployment.target.bucket, outcomeKey(deployment, key));
  return outcome?.metadata['dropscore-input-etag'] === eTag;
}
