import { describe, expect, it } from 'vitest';
import { parseS3Event } from '../../functions/scorer/domain/s3-event.js';
import { createNotifier, formEncodeKey } from '../../infra/local/s3/s3-notification.js';

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

describe('the embedded S3\'s notifications', () => {
  it('encode keys as real S3 does, so decoding gives the key back', () => {
    for (const key of ['a b+c.json', '100%.json', 'x/y/z é.json', "it's (1)*.json", '../up.json', 'ctl\u0001.json']) {
      const encoded = formEncodeKey(key);
      expect(encoded).not.toContain(' ');
      expect(parseS3Event({ Records: [record(encoded)] }).objects[0]!.key).toBe(key);
    }
    expect(formEncodeKey('a b+c.json')).toBe('a+b%2Bc.json');
  });

  it('have the real shape, with growing sequencers', () => {
    const notificationOf = createNotifier('eu-west-1');
    const created = { bucket: 'in', key: 'a b.json', size: 3, eTag: 'abc', how: 'Put' } as const;
    const first = notificationOf(created, '127.0.0.1');
    const second = notificationOf(created, '127.0.0.1');
    expect(first).toMatchObject({ eventVersion: '2.1', eventSource: 'aws:s3', eventName: 'ObjectCreated:Put', awsRegion: 'eu-west-1', s3: { object: { key: 'a+b.json', eTag: 'abc', size: 3 } } });
    expect(second.s3.object.sequencer > first.s3.object.sequencer).toBe(true);
  });
});
