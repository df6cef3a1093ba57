import { describe, expect, it } from 'vitest';
import { compareKeys, listKeys } from '../../infra/local/s3/key-listing.js';

const sorted = (keys: string[]) => [...keys].sort(compareKeys);

describe('S3 listing rules', () => {
  it('sorts keys by their UTF-8 bytes, as S3 does (astral characters after U+E000..U+FFFF)', () => {
    const keys = ['b', 'a', '\uffff', '😀', 'a/b', 'a!', '\u0001'];
    const byBytes = [...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    expect(sorted(keys)).toEqual(byBytes);
  });

  it('pages by a start point without repeating or skipping a key', () => {
    const keys = sorted(Array.from({ length: 25 }, (_, i) => `k${String(i).padStart(2, '0')}`));
    const seen: string[] = [];
    let after: string | undefined;
    for (;;) {
      const page = listKeys(keys, { prefix: '', after, maxKeys: 7 });
      seen.push(...page.keys);
      if (!page.isTruncated) break;
      after = page.last;
    }
    expect(seen).toEqual(keys);
  });

  it('rolls keys up into common prefixes, each given once across pages', () => {
    const keys = sorted(['a/1', 'a/2', 'b/1', 'c', 'd/x/1', 'd/y', 'e']);
    const first = listKeys(keys, { prefix: '', delimiter: '/', maxKeys: 2 });
    expect([first.commonPrefixes, first.keys, first.isTruncated, first.last]).toEqual([['a/', 'b/'], [], true, 'b/']);
    const second = listKeys(keys, { prefix: '', delimiter: '/', after: first.last, maxKeys: 10 });
    expect([second.keys, second.commonPrefixes, second.isTruncated]).toEqual([['c', 'e'], ['d/'], false]);
    expect(listKeys(keys, { prefix: 'd/', delimiter: '/', maxKeys: 10 })).toMatchObject({ keys: ['d/y'], commonPrefixes: ['d/x/'] });
  });
});
