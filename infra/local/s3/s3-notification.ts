/**
 * The event notification record S3 sends for a new object, in the exact
 * shape Lambda receives (eventVersion 2.1, form-encoded key, sequencer), so
 * the handler runs locally on what it gets in AWS.
 */
import type { ObjectCreated } from './bucket-store.js';

/** Real S3 form-encodes keys in events (and in `encoding-type=url` listings): spaces become `+`, `+` becomes `%2B`, `/` stays. */
export function formEncodeKey(key: string): string {
  return encodeURIComponent(key).replace(/%20/g, '+').replace(/%2F/g, '/');
}

export function createNotifier(region: string) {
  let sequence = 0n;
  const startedAt = BigInt(Date.now()) << 20n;
  return function notificationOf(created: ObjectCreated, sourceIp: string) {
    // Real sequencers grow per key; one monotonic counter per process satisfies that.
    const sequencer = (startedAt + sequence++).toString(16).toUpperCase().padStart(18, '0');
    return {
      eventVersion: '2.1',
      eventSource: 'aws:s3',
      awsRegion: region,
      eventTime: new Date().toISOString(),
      eventName: `ObjectCreated:${created.how}`,
      userIdentity: { principalId: 'AWS:LOCAL' },
      requestParameters: { sourceIPAddress: sourceIp },
      responseElements: { 'x-amz-request-id': sequencer, 'x-amz-id-2': 'local' },
      s3: {
        s3SchemaVersion: '1.0',
        configurationId: 'dropscore-local',
        bucket: { name: created.bucket, ownerIdentity: { principalId: 'LOCAL' }, arn: `arn:aws:s3:::${created.bucket}` },
        object: { key: formEncodeKey(created.key), size: created.size, eTag: created.eTag, sequencer },
      },
    };
  };
}

export type S3Notification = ReturnType<ReturnType<typeof createNotifier>>;
