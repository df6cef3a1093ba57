/** S3 object eTags: how they are compared, and how they follow from the bytes. */
import { createHash } from 'node:crypto';

/** S3 quotes ETags in headers but not in event notifications; compare them bare. */
export function stripQuotes(eTag: string | undefined): string {
  return (eTag ?? '').replace(/^"|"$/g, '');
}

/** The eTag S3 gives these bytes written by writeInParts with `partBytes`: their MD5, or for a multipart upload the MD5 of its parts' MD5s and the part count. */
export async function eTagOfParts(body: AsyncIterable<Uint8Array>, partBytes: number): Promise<string> {
  const partDigests: Buffer[] = [];
  let part = createHash('md5');
  let inPart = 0;
  for await (const chunk of body) {
    for (let at = 0; at < chunk.length; ) {
      const take = Math.min(partBytes - inPart, chunk.length - at);
      part.update(chunk.subarray(at, at + take));
      inPart += take;
      at += take;
      if (inPart === partBytes) {
        partDigests.push(part.digest());
        part = createHash('md5');
        inPart = 0;
      }
    }
  }
  if (partDigests.length === 0) return part.digest('hex');
  if (inPart > 0) partDigests.push(part.digest());
  return `${createHash('md5').update(Buffer.concat(partDigests)).digest('hex')}-${partDigests.length}`;
}
