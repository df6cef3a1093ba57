/** The ObjectStore port on S3 (or anything speaking its API). */
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { ObjectChangedError } from '../domain/errors.js';
import type { ObjectRead, ObjectStore, ObjectStream } from '../domain/ports.js';
import { writeInParts } from './s3-multipart-writer.js';
import { stripQuotes } from './s3-etag.js';
import { inParallel } from '../domain/in-parallel.js';

// Deletes in flight at once (one DeleteObject each: IAM grants s3:DeleteObject per key).
const PARALLEL_DELETES = 8;

export function createS3ObjectStore(s3: S3Client): ObjectStore {
  return {
    async read(bucket, key, maxBytes): Promise<ObjectRead | undefined> {
      try {
        const response = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        const size = response.ContentLength ?? 0;
        const base = { eTag: stripQuotes(response.ETag), versionId: response.VersionId ?? undefined, size };
        if (size > maxBytes) {
          // Do not pull an oversized body through memory just to reject it.
          (response.Body as { destroy?: () => void } | undefined)?.destroy?.();
          return base;
        }
        const body = (await response.Body?.transformToByteArray()) ?? new Uint8Array();
        return { ...base, size: body.length, body };
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw error;
      }
    },

    async head(bucket, key) {
      try {
        const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
        return { eTag: stripQuotes(head.ETag), versionId: head.VersionId ?? undefined, size: head.ContentLength, metadata: head.Metadata ?? {} };
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw error;
      }
    },

    async write(bucket, key, body, metadata) {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: 'application/json', Metadata: { ...metadata } }));
    },

    async stream(bucket, key, options = {}): Promise<ObjectStream | undefined> {
      const { version, range } = options;
      try {
        const response = await s3.send(
          new GetObjectCommand({
            Bucket: bucket,
            Key: key,
            ...(version ? { IfMatch: `"${version.eTag}"`, ...(version.versionId ? { VersionId: version.versionId } : {}) } : {}),
            ...(range ? { Range: `bytes=${range.start}-${range.end - 1}` } : {}),
          }),
        );
        const body = (response.Body ?? emptyBody()) as AsyncIterable<Uint8Array>;
        return { eTag: stripQuotes(response.ETag), versionId: response.VersionId ?? undefined, size: response.ContentLength ?? 0, body };
      } catch (error) {
        const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
        if (version && (status === 412 || isNotFound(error))) throw new ObjectChangedError(bucket, key, version.eTag);
        if (isNotFound(error)) return undefined;
        throw error;
      }
    },

    async writeStream(bucket, key, body, metadata, contentType) {
      await writeInParts(s3, { Bucket: bucket, Key: key, ContentType: contentType, Metadata: { ...metadata } }, body);
    },

    async remove(bucket, keys) {
      await inParallel(keys, PARALLEL_DELETES, async (key) => void (await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }))));
    },
  };
}

async function* emptyBody(): AsyncIterable<Uint8Array> {}

function isNotFound(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  if (e?.name === 'NoSuchBucket') return false; // a misconfiguration, not a vanished object
  return e?.name === 'NoSuchKey' || e?.name === 'NotFound' || e?.$metadata?.httpStatusCode === 404;
}
