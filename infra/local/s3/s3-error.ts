/** An S3 error as S3 reports it: HTTP status, code and message, rendered as S3's XML error body. */
export class S3Error extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly resource?: string,
  ) {
    super(message);
  }
}

export const noSuchBucket = (bucket: string) => new S3Error(404, 'NoSuchBucket', 'The specified bucket does not exist', bucket);
export const noSuchKey = (key: string) => new S3Error(404, 'NoSuchKey', 'The specified key does not exist.', key);
export const noSuchUpload = (uploadId: string) => new S3Error(404, 'NoSuchUpload', 'The specified multipart upload does not exist.', uploadId);
export const invalidArgument = (message: string) => new S3Error(400, 'InvalidArgument', message);
