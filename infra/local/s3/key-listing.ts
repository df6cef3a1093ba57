/**
 * S3's listing rules over a bucket's sorted keys: prefix, delimiter roll-up
 * into common prefixes, a start point (V1 marker, V2 start-after or
 * continuation token) and a page size. Keys sort by their UTF-8 bytes, as S3
 * sorts them.
 */

export interface ListRequest {
  readonly prefix: string;
  readonly delimiter?: string;
  /** Only keys (and common prefixes) after this one. */
  readonly after?: string;
  readonly maxKeys: number;
}

export interface ListPage {
  readonly keys: readonly string[];
  readonly commonPrefixes: readonly string[];
  readonly isTruncated: boolean;
  /** The last key or common prefix on the page: where the next page starts. */
  readonly last?: string;
}

/** Compares as UTF-8 bytes: code point order, which UTF-16 unit order breaks only for astral characters. */
export function compareKeys(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return sortWeight(x) - sortWeight(y);
  }
  return a.length - b.length;
}

// Surrogates (astral code points) must sort after U+E000..U+FFFF, as their UTF-8 bytes do.
function sortWeight(unit: number): number {
  return unit >= 0xd800 && unit <= 0xdfff ? unit + 0x2000 : unit >= 0xe000 ? unit - 0x800 : unit;
}

/** Index of the first key in `sorted` that is not before `key`. */
export function lowerBound(sorted: readonly string[], key: string): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (compareKeys(sorted[middle]!, key) < 0) low = middle + 1;
    else high = middle;
  }
  return low;
}

export function listKeys(sorted: readonly string[], request: ListRequest): ListPage {
  const { prefix, delimiter, after, maxKeys } = request;
  const keys: string[] = [];
  const commonPrefixes: string[] = [];
  let last: string | undefined;
  let index = lowerBound(sorted, after !== undefined && compareKeys(after, prefix) > 0 ? after : prefix);
  if (index < sorted.length && sorted[index] === after) index++;
  for (; index < sorted.length; index++) {
    const key = sorted[index]!;
    if (!key.startsWith(prefix)) break;
    const rolledUp = delimiter ? commonPrefixOf(key, prefix, delimiter) : undefined;
    // A common prefix already returned (it is the start point, or was just added) is not repeated.
    if (rolledUp !== undefined && (rolledUp === last || (after !== undefined && compareKeys(rolledUp, after) <= 0))) continue;
    if (keys.length + commonPrefixes.length >= maxKeys) return { keys, commonPrefixes, isTruncated: true, last };
    if (rolledUp === undefined) keys.push(key);
    else commonPrefixes.push(rolledUp);
    last = rolledUp ?? key;
  }
  return { keys, commonPrefixes, isTruncated: false, last };
}

function commonPrefixOf(key: string, prefix: string, delimiter: string): string | undefined {
  const at = key.indexOf(delimiter, prefix.length);
  return at < 0 ? undefined : key.slice(0, at + delimiter.length);
}
