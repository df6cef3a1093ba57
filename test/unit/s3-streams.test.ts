/** The ObjectStore's streaming calls on S3 (aws-sdk-client-mock): pinned ranged reads, multipart writes and their eTags, deletes. */
import { createHash } from 'node:crypto';
import { AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CreateMultipartUploadCommand, DeleteObjectCommand, GetObjectCommand, PutObjectCommand, S3Client, S3ServiceException, UploadPartCommand } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { ObjectChangedError } from '../../functions/scorer/domain/errors.js';
import { createS3ObjectStore } from '../../functions/scorer/store/s3-object-store.js';
import { writeInParts } from '../../functions/scorer/store/s3-multipart-writer.js';
import { eTagOfParts } from '../../functions/scorer/store/s3-etag.js';

const s3Mock = mockClient(S3Client);
const s3 = new S3Client({ region: 'us-east-1' });

async function* chunksOf(...chunks: (string | Uint8Array)[]) {
  yield* chunks;
}

async function* bytesOf(...texts: string[]) {
  for (const text of texts) yield Buffer.from(text);
}

beforeEach(() => s3Mock.reset());

describe('S3 object streams', () => {
  it('reads a byte range pinned to the version, and says so when the key holds another', async () => {
    s3Mock.on(GetObjectCommand).resolves({ ETag: '"e1"', ContentLength: 5, Body: chunksOf(Buffer.from('hello')) as never });
    const read = await createS3ObjectStore(s3).stream('b', 'k', { version: { eTag: 'e1' }, range: { start: 10, end: 15 } });
    expect(s3Mock.commandCalls(GetObjectCommand)[0]!.args[0].input).toEqual({ Bucket: 'b', Key: 'k', IfMatch: '"e1"', Range: 'bytes=10-14' });
    expect(read).toMatchObject({ eTag: 'e1', size: 5 });

    s3Mock.on(GetObjectCommand).rejects(new S3ServiceException({ name: 'PreconditionFailed', $fault: 'client', $metadata: { httpStatusCode: 412 } }));
    await expect(createS3ObjectStore(s3).stream('b', 'k', { version: { eTag: 'e1' } })).rejects.toBeInstanceOf(ObjectChangedError);
    s3Mock.on(GetObjectCommand).rejects(new S3ServiceException({ name: 'NoSuchKey', $fault: 'client', $metadata: { httpStatusCode: 404 } }));
    await expect(createS3ObjectStore(s3).stream('b', 'k', { version: { eTag: 'e1' } })).rejects.toBeInstanceOf(ObjectChangedError);
    expect(await createS3ObjectStore(s3).stream('b', 'k')).toBeUndefined();
  });

  it('writes a small body in one PutObject', async () => {
    s3Mock.on(PutObjectCommand).resolves({});
    await writeInParts(s3, { Bucket: 'b', Key: 'k', ContentType: 'application/x-ndjson', Metadata: { a: '1' } }, chunksOf('ab', Buffer.from('cd')), 10);
    expect(s3Mock.commandCalls(PutObjectCommand)[0]!.args[0].input).toMatchObject({ Bucket: 'b', Key: 'k', ContentType: 'application/x-ndjson', Metadata: { a: '1' }, Body: Buffer.from('abcd'), ContentLength: 4 });
    expect(s3Mock.commandCalls(CreateMultipartUploadCommand)).toHaveLength(0);
  });

  it('writes a large body as a multipart upload of parts of exactly the part size (the last smaller), in order, and returns its eTag', async () => {
    s3Mock.on(CreateMultipartUploadCommand).resolves({ UploadId: 'u1' });
    s3Mock.on(UploadPartCommand).callsFake((input: { PartNumber: number }) => ({ ETag: `"p${input.PartNumber}"` }));
    s3Mock.on(CompleteMultipartUploadCommand).resolves({ ETag: '"whole-3"' });
    expect(await writeInParts(s3, { Bucket: 'b', Key: 'k', ContentType: 't', Metadata: {} }, chunksOf('abcd', 'efgh', 'ij', 'k'), 5)).toBe('whole-3');
    expect(s3Mock.commandCalls(UploadPartCommand).map((c) => [c.args[0].input.PartNumber, String(c.args[0].input.Body)])).toEqual([[1, 'abcde'], [2, 'fghij'], [3, 'k']]);
    expect(s3Mock.commandCalls(CompleteMultipartUploadCommand)[0]!.args[0].input.MultipartUpload).toEqual({ Parts: [1, 2, 3].map((n) => ({ ETag: `"p${n}"`, PartNumber: n })) });
    expect(s3Mock.commandCalls(PutObjectCommand)).toHaveLength(0);
  });

  it('knows the eTag of bytes written in parts, however they are chunked: their MD5, or the MD5 of the parts\' MD5s and the count', async () => {
    const md5 = (text: string) => createHash('md5').update(text).digest();
    expect(await eTagOfParts(bytesOf('abcd'), 5)).toBe(md5('abcd').toString('hex'));
    expect(await eTagOfParts(bytesOf(), 5)).toBe(md5('').toString('hex'));
    const threeParts = `${createHash('md5').update(Buffer.concat([md5('abcde'), md5('fghij'), md5('k')])).digest('hex')}-3`;
    expect(await eTagOfParts(bytesOf('abcd', 'efgh', 'ij', 'k'), 5)).toBe(threeParts);
    expect(await eTagOfParts(bytesOf('abcdefghijk'), 5)).toBe(threeParts);
    // Exactly one part's worth is a multipart upload of one part.
    expect(await eTagOfParts(bytesOf('abcde'), 5)).toBe(`${createHash('md5').update(md5('abcde')).digest('hex')}-1`);
  });

  it('aborts the upload when the body or a part fails, so no parts linger', async () => {
    s3Mock.on(CreateMultipartUploadCommand).resolves({ UploadId: 'u1' });
    s3Mock.on(UploadPartCommand).resolves({ ETag: '"p"' });
    s3Mock.on(AbortMultipartUploadCommand).resolves({});
    async function* failing() {
      yield 'abcdefgh';
      throw new Error('source broke');
    }
    await expect(writeInParts(s3, { Bucket: 'b', Key: 'k', ContentType: 't', Metadata: {} }, failing(), 5)).rejects.toThrow('source broke');
    expect(s3Mock.commandCalls(AbortMultipartUploadCommand)[0]!.args[0].input).toEqual({ Bucket: 'b', Key: 'k', UploadId: 'u1' });
    expect(s3Mock.commandCalls(CompleteMultipartUploadCommand)).toHaveLength(0);
  });

  it('deletes keys one DeleteObject each', async () => {
    s3Mock.on(DeleteObjectCommand).resolves({});
    await createS3ObjectStore(s3).remove('b', ['x', 'y', 'z']);
    expect(s3Mock.commandCalls(DeleteObjectCommand).map((c) => c.args[0].input.Key).sort()).toEqual(['x', 'y', 'z']);
  });
});
