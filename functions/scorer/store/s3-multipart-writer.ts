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

// S3 takes parts of 5 MiB to 5 GiB (the last may be smaller), at most 10,000 of them: 8 MiB parts reach 78 GiB.
export const PART_BYTES = 8 * 1024 * 1024;

export interface ObjectHeader {
  readonly Bucket: string;
  readonly Key: string;
  readonly ContentType: string;
  readonly Metadata: Record<string, string>;
}

export async function writeInParts(s3: S3Client, header: ObjectHeader, body: AsyncIterable<Uint8Array | string>, partBytes = PART_BYTES): Promise<void> {
  const buffered: Buffer[] = [];
  let bufferedBytes = 0;
  let uploadId: string | undefined;
  const parts: { ETag: string; PartNumber: number }[] = [];
  const take = (): Buffer => {
    const joined = Buffer.concat(buffered, bufferedBytes);
    buffered.length = 0;
    bufferedBytes = 0;
    return joined;
  };
  const uploadPart = async (bytes: Buffer) => {
    uploadId ??= (await s3.send(new CreateMultipartUploadCommand(header))).UploadId!;
    const PartNumber = parts.length + 1;
    const { ETag } = await s3.send(new UploadPartCommand({ Bucket: header.Bucket, Key: header.Key, UploadId: uploadId, PartNumber, Body: bytes }));
    parts.push({ ETag: ETag!, PartNumber });
  };
  try {
    for await (const chunk of body) {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      buffered.push(bytes);
      bufferedBytes += bytes.length;
      if (bufferedBytes >= partBytes) await uploadPart(take());
    }
    if (uploadId === undefined) {
      await s3.send(new PutObjectCommand({ ...header, Body: take() }));
      return;
    }
    if (bufferedBytes > 0) await uploadPart(take());
    await s3.send(new CompleteMultipartUploadCommand({ Bucket: header.Bucket, Key: header.Key, UploadId: uploadId, MultipartUpload: { Parts: parts } }));
  } catch (error) {
    if (uploadId !== undefined) {
      await s3.send(new AbortMultipartUploadCommand({ Bucket: header.Bucket, Key: header.Key, UploadId: uploadId })).catch(() => undefined);
    }
    throw error;
  }
}
