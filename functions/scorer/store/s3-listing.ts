/** Lists a bucket prefix page by page (ListObjectsV2 with continuation tokens). */
import { ListObjectsV2Command, type S3Client, type _Object } from '@aws-sdk/client-s3';

export async function listObjects(s3: S3Client, bucket: string, prefix: string, limit = Number.POSITIVE_INFINITY): Promise<_Object[]> {
  const objects: _Object[] = [];
  let token: string | undefined;
  for (;;) {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    objects.push(...(page.Contents ?? []));
    if (!page.IsTruncated || !page.NextContinuationToken || objects.length >= limit) return objects;
    token = page.NextContinuationToken;
  }
}
