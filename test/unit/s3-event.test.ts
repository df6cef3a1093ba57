import { describe, expect, it } from 'vitest';
import { parseS3Event } from '../../functions/scorer/domain/s3-event.js';
import { createS3EventNormaliser, encodeS3EventKey } from '../../infra/local/s3-event-normaliser.js';

const record = (key: string, eventName = 'ObjectCreated:Put') => ({
  eventSource: 'aws:s3',
  eventName,
  s3: { bucket: { name: 'in' }, object: { key, eTag: 'e1', sequencer: '01' } },
});

describe('parseS3Event', () => {
  it.each([
    ['a+b%2Bc.json', 'a b+c.json'],
    ['100%25.json', '100%.json'],
    ['deep/nested/prefix/r.json', 'deep/nested/prefix/r.json'],
    ['caf%C3%A9+%E2%9C%93.json', 'café ✓.json'],
  ])('decodes the key %s as S3 encodes it', (encoded, key) => {
    expect(parseS3Event({ Records: [record(encoded)] }).objects).toEqual([{ bucket: 'in', key, eTag: 'e1', sequencer: '01', versionId: undefined }]);
  });

  it('skips records it cannot act on and says why', () => {
    const parsed = parseS3Event({ Records: [record('x.json', 'ObjectRemoved:Delete'), record('bad%ZZ.json'), { eventSource: 'aws:s3', eventName: 'ObjectCreated:Put' }] });
    expect(parsed.objects).toEqual([]);
    expect(parsed.skipped).toHaveLength(3);
    expect(parsed.skipped[1]).toContain('not valid URL encoding');
  });

  it('handles a non-event', () => {
    expect(parseS3Event({ hello: 1 }).skipped).toEqual(['event has no Records array']);
  });
});

describe('the local stack event normaliser', () => {
  it('encodes keys as real S3 does, so decoding gives the key back', () => {
    for (const key of ['a b+c.json', '100%.json', 'x/y/z é.json', "it's (1)*.json"]) {
      const encoded = encodeS3EventKey(key);
      expect(encoded).not.toContain(' ');
      expect(parseS3Event({ Records: [record(encoded)] }).objects[0]!.key).toBe(key);
    }
    expect(encodeS3EventKey('a b+c.json')).toBe('a+b%2Bc.json');
  });

  it('rewrites s3rver notifications into the real shape with growing sequencers', () => {
    const normalise = createS3EventNormaliser('eu-west-1');
    const raw = { Records: [{ eventVersion: '2.0', eventName: 'ObjectCreated:Put', s3: { bucket: { name: 'in' }, object: { key: 'a b.json', size: 3, eTag: 'abc' } } }] };
    const first = normalise(raw).Records[0] as Record<string, any>;
    const second = normalise(raw).Records[0] as Record<string, any>;
    expect(first).toMatchObject({ eventVersion: '2.1', eventSource: 'aws:s3', awsRegion: 'eu-west-1', s3: { object: { key: 'a+b.json', eTag: 'abc', size: 3 } } });
    expect(second.s3.object.sequencer > first.s3.object.sequencer).toBe(true);
    expect(normalise({ Records: [{ eventName: 'ObjectRemoved:Delete', s3: {} }] }).Records).toEqual([]);
  });
});
