/**
 * Writes a stream of any length to S3 in bounded memory: bodies under one
 * part's size go up in a single PutObject; larger ones as a multipart upload,
 * one part buffered at a time, aborted if anything fails so no parts linger.
 *
 * Our own rather than @aws-sdk/lib-storage's Upload: that package requires the
 * newest client-s3 (installing it moved fifteen SDK packages) for what is here
 * a sequential loop of three calls.
 */
import { AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CreateMultipartUploadCommand, PutObjectCommand, UploadPartCommand, type S3Client } from '@aws-sdk/client-s3';
import { stripQuotes } from './s3-etag.js';

// S3 takes parts of 5 MiB to 5 GiB (the last may be smaller), at most 10,000 of them: 8 MiB parts reach 78 GiB.
export const PART_BYTES = 8 * 1024 * 1024;

export interface ObjectHeader {
  readonly Bucket: string;
  readonly Key: string;
  readonly ContentType: string;
  readonly Metadata: Record<string, string>;
}

/**
 * Returns the object's eTag (unquoted). Every part but the last is exactly `partBytes`, so
 * the eTag S3 gives the object can be known from the bytes alone (s3-etag.ts).
 */
export async function writeInParts(s3: S3Client, header: ObjectHeader, body: AsyncIterable<Uint8Array | string>, partBytes = PART_BYTES): Promise<string> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let uploadId: string | undefined;
  const parts: { ETag: string; PartNumber: number }[] = [];
  const uploadPart = async (bytes: Buffer) => {
    uploadId ??= (await s3.send(new CreateMultipartUploadCommand(header))).UploadId!;
    const PartNumber = parts.length + 1;
    const { ETag } = await s3.send(new UploadPartCommand({ Bucket: header.Bucket, Key: header.Key, UploadId: uploadId, PartNumber, Body: bytes }));
    parts.push({ ETag: ETag!, PartNumber });
  };
  try {
    for await (const chunk of body) {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      pending.push(bytes);
      pendingBytes += bytes.length;
      if (pendingBytes < partBytes) continue;
      let joined = Buffer.concat(pending, pendingBytes);
      for (; joined.length >= partBytes; joined = joined.subarray(partBytes)) await uploadPart(joined.subarray(0, partBytes));
      pending = [joined];
      pendingBytes = joined.length;
    }
    const buffered = Buffer.concat(pending, pendingBytes);
    if (uploadId === undefined) {
      // Said explicitly: the SDK cannot tell an empty body's length (and warns).
      const { ETag } = await s3.send(new PutObjectCommand({ ...header, Body: buffered, ContentLength: buffered.length }));
      return stripQuotes(ETag);
    }
    if (buffered.length > 0) await uploadPart(buffered);
    const { ETag } = await s3.send(new CompleteMultipartUploadCommand({ Bucket: header.Bucket, Key: header.Key, UploadId: uploadId, MultipartUpload: { Parts: parts } }));
    return stripQuotes(ETag);
  } catch (error) {
    if (uploadId !== undefined) {
      await s3.send(new AbortMultipartUploadCommand({ Bucket: header.Bucket, Key: header.Key, UploadId: uploadId })).catch(() => undefined);
    }
    throw error;
  }
}
