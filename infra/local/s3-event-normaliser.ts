/**
 * s3rver's notifications differ from real S3's (keys not URL-encoded,
 * eventVersion 2.0, a millisecond-clock sequencer, no eTag on copies).
 * We rewrite them into the shape real S3 sends, so the handler under test
 * locally is fed exactly what it gets in Lambda.
 */

interface RawRecord {
  eventName?: string;
  eventTime?: string;
  s3?: { bucket?: { name?: string }; object?: { key?: string; size?: number; eTag?: string } };
}

/** Real S3 form-encodes keys: spaces become `+`, `+` becomes `%2B`, `/` stays. */
export function encodeS3EventKey(key: string): string {
  return encodeURIComponent(key).replace(/%20/g, '+').replace(/%2F/g, '/');
}

export function createS3EventNormaliser(region: string) {
  let sequence = 0n;
  const startedAt = BigInt(Date.now()) << 20n;
  return function normalise(raw: unknown): { Records: unknown[] } {
    const records = ((raw as { Records?: RawRecord[] })?.Records ?? []).filter((r) => r.eventName?.startsWith('ObjectCreated:'));
    return {
      Records: records.map((r) => {
        const bucket = r.s3?.bucket?.name ?? '';
        const object = r.s3?.object ?? {};
        // Real sequencers grow per key; one monotonic counter per process satisfies that.
        const sequencer = (startedAt + sequence++).toString(16).toUpperCase().padStart(18, '0');
        return {
          eventVersion: '2.1',
          eventSource: 'aws:s3',
          awsRegion: region,
          eventTime: r.eventTime ?? new Date().toISOString(),
          eventName: r.eventName,
          userIdentity: { principalId: 'AWS:LOCAL' },
          requestParameters: { sourceIPAddress: '127.0.0.1' },
          responseElements: { 'x-amz-request-id': sequencer, 'x-amz-id-2': 'local' },
          s3: {
            s3SchemaVersion: '1.0',
            configurationId: 'dropscore-local',
            bucket: { name: bucket, ownerIdentity: { principalId: 'LOCAL' }, arn: `arn:aws:s3:::${bucket}` },
            object: {
              key: encodeS3EventKey(object.key ?? ''),
              size: object.size ?? 0,
              ...(object.eTag ? { eTag: object.eTag } : {}),
              sequencer,
            },
          },
        };
      }),
    };
  };
}
