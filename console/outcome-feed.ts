/**
 * A deployment's latest outcomes, newest first, read from its target bucket:
 * each with its lineage metadata, its body (result or error record) and, for
 * MNIST-style inputs, a picture of the input and the predicted class. The
 * page asks every second, so documents already read are kept by eTag.
 */
import { GetObjectCommand, type S3Client, type _Object } from '@aws-sdk/client-s3';
import { isReservedKey } from '../functions/scorer/bulk/bulk-keys.js';
import { listObjects } from '../functions/scorer/store/s3-listing.js';
import type { DeploymentBinding } from '../functions/scorer/domain/ports.js';
import { stripQuotes } from '../functions/scorer/store/s3-etag.js';
import type { OutcomeView } from './api-types.js';
import { digitPreview } from './record-preview.js';

/** Outcomes larger than this are listed without their body (the page is no place for megabytes of JSON). */
const MAX_BODY_BYTES = 256 * 1024;
/** Inputs larger than this are not read for a picture: an MNIST record is ~12 KB. */
const MAX_PREVIEW_INPUT_BYTES = 1024 * 1024;
/** Finding the newest objects means listing them all (S3 lists by key); beyond this many, the page shows the newest of these. */
const MAX_LISTED = 10_000;
const CACHE_ENTRIES = 500;

export interface OutcomeFeed {
  latest(binding: DeploymentBinding, limit: number): Promise<OutcomeView[]>;
}

export function createOutcomeFeed(s3: S3Client): OutcomeFeed {
  const cache = new Map<string, OutcomeView>();

  async function list(binding: DeploymentBinding): Promise<_Object[]> {
    // A bulk file's parts in progress are not outcomes (their progress has its own route).
    return (await listObjects(s3, binding.target.bucket, binding.target.prefix, MAX_LISTED)).filter((o) => !isReservedKey(o.Key!));
  }

  async function read(binding: DeploymentBinding, object: _Object): Promise<OutcomeView> {
    const key = object.Key!;
    // The time too: a new input can give a byte-identical result (same eTag) with other lineage and another picture.
    const cacheKey = [binding.target.bucket, key, object.ETag, object.LastModified?.getTime()].join('\u0000');
    const cached = cache.get(cacheKey);
    if (cached) return cached;
    const response = await s3.send(new GetObjectCommand({ Bucket: binding.target.bucket, Key: key }));
    const size = object.Size ?? 0;
    const lineage = decodeLineage(response.Metadata ?? {});
    let body: unknown;
    if (size <= MAX_BODY_BYTES) {
      const text = await response.Body!.transformToString();
      body = parseOrText(text);
    } else {
      (response.Body as { destroy?: () => void } | undefined)?.destroy?.();
    }
    const outcome = lineage['dropscore-outcome'] === 'result' || lineage['dropscore-outcome'] === 'error' ? lineage['dropscore-outcome'] : 'unknown';
    const inputKey = binding.source.prefix + key.slice(binding.target.prefix.length);
    const preview = outcome === 'result' ? await previewOf(binding, inputKey, lineage['dropscore-input-etag'], body) : undefined;
    const view: OutcomeView = {
      key,
      inputKey,
      lastModified: (object.LastModified ?? new Date(0)).toISOString(),
      size,
      outcome,
      lineage,
      ...(body === undefined ? {} : { body }),
      ...(preview ? { preview } : {}),
    };
    cache.set(cacheKey, view);
    if (cache.size > CACHE_ENTRIES) cache.delete(cache.keys().next().value!);
    return view;
  }

  async function previewOf(binding: DeploymentBinding, inputKey: string, inputETag: string | undefined, result: unknown): Promise<OutcomeView['preview']> {
    try {
      const response = await s3.send(new GetObjectCommand({ Bucket: binding.source.bucket, Key: inputKey }));
      // The input was overwritten (or is huge): no picture rather than the wrong one.
      if (stripQuotes(response.ETag) !== inputETag || (response.ContentLength ?? 0) > MAX_PREVIEW_INPUT_BYTES) {
        (response.Body as { destroy?: () => void } | undefined)?.destroy?.();
        return undefined;
      }
      return digitPreview(JSON.parse(await response.Body!.transformToString()), result);
    } catch {
      // Deleted input, not JSON: the outcome is still worth showing, without a picture.
      return undefined;
    }
  }

  return {
    async latest(binding, limit) {
      const objects = await list(binding);
      objects.sort((a, b) => (b.LastModified?.getTime() ?? 0) - (a.LastModified?.getTime() ?? 0) || (a.Key! < b.Key! ? -1 : 1));
      return Promise.all(objects.slice(0, limit).map((object) => read(binding, object)));
    },
  };
}

/** Lineage values the scorer URI-encodes (user-named ones) come back decoded. */
function decodeLineage(metadata: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(metadata)) {
    if (!name.startsWith('dropscore-')) continue;
    try {
      out[name] = decodeURIComponent(value);
    } catch {
      out[name] = value;
    }
  }
  return out;
}

function parseOrText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
