/**
 * Reads ObjectCreated records out of an S3 event notification. S3 sends keys
 * form-URL-encoded (`a b+c.json` arrives as `a+b%2Bc.json`); we decode them here,
 * once, so nothing downstream ever sees an encoded key.
 */

export interface ObjectCreated {
  readonly bucket: string;
  readonly key: string;
  readonly eTag?: string;
  readonly versionId?: string;
  readonly sequencer?: string;
  /** The size of the version the event is about, when it says. */
  readonly size?: number;
}

export interface ParsedS3Event {
  readonly objects: ObjectCreated[];
  /** Records that are not ObjectCreated notifications we can act on, with the reason. */
  readonly skipped: string[];
}

export function decodeS3Key(encoded: string): string {
  return decodeURIComponent(encoded.replace(/\+/g, ' '));
}

export function parseS3Event(event: unknown): ParsedS3Event {
  const records = (event as { Records?: unknown })?.Records;
  if (!Array.isArray(records)) return { objects: [], skipped: ['event has no Records array'] };
  const objects: ObjectCreated[] = [];
  const skipped: string[] = [];
  records.forEach((record: unknown, index) => {
    const r = record as { eventSource?: string; eventName?: string; s3?: { bucket?: { name?: string }; object?: Record<string, unknown> } };
    const bucket = r?.s3?.bucket?.name;
    const object = r?.s3?.object;
    if (r?.eventSource !== 'aws:s3' || !String(r.eventName).startsWith('ObjectCreated:')) {
      skipped.push(`record ${index}: not an S3 ObjectCreated notification (${r?.eventSource}/${r?.eventName})`);
      return;
    }
    if (typeof bucket !== 'string' || typeof object?.['key'] !== 'string') {
      skipped.push(`record ${index}: missing bucket name or object key`);
      return;
    }
    let key: string;
    try {
      key = decodeS3Key(object['key']);
    } catch {
      skipped.push(`record ${index}: object key ${JSON.stringify(object['key'])} is not valid URL encoding`);
      return;
    }
    objects.push({
      bucket,
      key,
      eTag: optionalString(object['eTag']),
      versionId: optionalString(object['versionId']),
      sequencer: optionalString(object['sequencer']),
      ...(typeof object['size'] === 'number' ? { size: object['size'] } : {}),
    });
  });
  return { objects, skipped };
}

function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}
