/** The ObjectStore port on S3 (or anything speaking its API). */
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { ObjectRead, ObjectStore } from '../domain/ports.js';

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
        return { eTag: stripQuotes(head.ETag), metadata: head.Metadata ?? {} };
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw error;
      }
    },

    async write(bucket, key, body, metadata) {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: 'application/json', Metadata: { ...metadata } }));
    },
  };
}

/** S3 quotes ETags in headers but not in event notifications; compare them bare. */
export function stripQuotes(eTag: string | undefined): string {
  return (eTag ?? '').replace(/^"|"$/g, '');
}

function isNotFound(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  if (e?.name === 'NoSuchBucket') return false; // a misconfiguration, not a vanished object
  return e?.name === 'NoSuchKey' || e?.name === 'NotFound' || e?.$metadata?.httpStatusCode === 404;
}
