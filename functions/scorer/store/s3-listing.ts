/**
 * Lists a bucket prefix page by page with ListObjects (V1, marker-based).
 * V2's continuation tokens would do on AWS, but the embedded S3 (s3rver)
 * encrypts them with DES, which Node's OpenSSL 3 refuses: past 1,000 keys a
 * V2 listing fails there. Markers work on both.
 */
import { ListObjectsCommand, type S3Client, type _Object } from '@aws-sdk/client-s3';

export async function listObjects(s3: S3Client, bucket: string, prefix: string, limit = Number.POSITIVE_INFINITY): Promise<_Object[]> {
  const objects: _Object[] = [];
  let marker: string | undefined;
  for (;;) {
    const page = await s3.send(new ListObjectsCommand({ Bucket: bucket, Prefix: prefix, Marker: marker }));
    const contents = page.Contents ?? [];
    objects.push(...contents);
    if (!page.IsTruncated || contents.length === 0 || objects.length >= limit) return objects;
    marker = page.NextMarker ?? contents[contents.length - 1]!.Key;
  }
}
