import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PackedArray, parsePackedRecord } from '../../functions/scorer/formats/packed-json.js';
import { REPO_ROOT } from '../support/paths.js';

const encode = (text: string) => new TextEncoder().encode(text);

/** What the general path sees: JSON.parse, then each member's shape and row-major leaves. */
function generalView(text: string): Record<string, { shape: number[]; data: number[] }> {
  const record = JSON.parse(text) as Record<string, unknown>;
  const view: Record<string, { shape: number[]; data: number[] }> = {};
  for (const [key, value] of Object.entries(record)) {
    const shape: number[] = [];
    for (let cursor: unknown = value; Array.isArray(cursor); cursor = cursor[0]) shape.push(cursor.length);
    view[key] = { shape, data: (value as unknown[]).flat(Infinity) as number[] };
  }
  return view;
}

function packedView(text: string) {
  const packed = parsePackedRecord(encode(text));
  if (!packed) return undefined;
  return Object.fromEntries(Object.entries(packed).map(([key, p]) => [key, { shape: [...p.shape], data: Array.from(p.data) }]));
}

/** Every number compared with Object.is, so -0 and 0 differ. */
function expectSameAsGeneralPath(text: string): void {
  const packed = packedView(text);
  expect(packed, text.slice(0, 80)).toBeDefined();
  const general = generalView(text);
  expect(Object.keys(packed!)).toEqual(Object.keys(general));
  for (const key of Object.keys(general)) {
    expect(packed![key]!.shape).toEqual(general[key]!.shape);
    const [a, b] = [packed![key]!.data, general[key]!.data];
    expect(a.length).toBe(b.length);
    a.forEach((v, i) => {
      if (!Object.is(v, b[i])) expect.fail(`${key}[${i}]: packed ${v}, JSON.parse ${b[i]} in ${text.slice(0, 80)}`);
    });
  }
}

/** A seeded generator, so a failure names a reproducible case. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

describe('parsePackedRecord', () => {
  it('reads numeric records exactly as JSON.parse does', () => {
    for (const text of [
      '{"values": [[1, 2], [3, 4]]}',
      '{"a":[0.5],"b":[[[-1e-7]],[[2E+3]]]}',
      ' \n\t{ "values" : [ [ [0] , [-0] ] ] } \r\n',
      '{"x": [0, -0, 0.0, -0.0, 0e5, 1e-400, 123456789012345678901234567890, 9007199254740993, 4.9e-324, 1.7976931348623157e308]}',
      '{"x": [0.1, 0.2, 0.30000000000000004, 1.0000000000000002, 2.5e-3, 25e-4, 0.00390625, -0.99609375]}',
      // Fractions read eight, then four digits at a time, ending at every offset of both windows.
      `{"x": [${Array.from({ length: 20 }, (_, n) => `0.${'98765432109876543210'.slice(0, n + 1)}`).join(',')}]}`,
      `{"x": [${Array.from({ length: 20 }, (_, n) => `-1.${'1234567890123456789'.slice(0, n)}9e-3`).join(',')}]}`,
      // Around 2^53, the largest integer every double holds: exact below, rounded by the runtime above.
      '{"x": [9007199254740991, 9007199254740992, 9007199254740993, 0.9007199254740992, 0.9007199254740993, 90071992547409921e-17]}',
      // Many digits that are all zeros, and a negative zero the runtime converts.
      '{"x": [0.000000000000000000000, -0.000000000000000000000, 0.00000000000000000000000001, 10000000000000000000000]}',
      '{"dup": [1], "dup": [2, 3]}',
    ]) expectSameAsGeneralPath(text);
  });

  it('reads random numbers in every notation exactly as JSON.parse does', () => {
    const next = random(20261122);
    const values: string[] = [];
    for (let i = 0; i < 20000; i++) {
      const magnitude = 10 ** Math.floor(next() * 40 - 20);
      const v = (next() - 0.5) * magnitude;
      const digits = 1 + Math.floor(next() * 16);
      const notation = [String(v), v.toExponential(digits), v.toFixed(Math.min(digits, 20)), v.toPrecision(digits), String(Math.round(v)), String(Math.fround(v))][i % 6]!;
      values.push(notation.replace('e+', next() < 0.5 ? 'e' : 'E+'));
    }
    expectSameAsGeneralPath(`{"v": [${values.join(',')}]}`);
  });

  it('agrees with JSON.parse on random shapes, whitespace and one-character defects', () => {
    const next = random(4242);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
    const numbers = ['0', '-0', '7', '-2.5', '0.125', '1e3', '-4E-2', '3.141592653589793', '12345678901234567890', '0.27058824896812439'];
    const space = () => (next() < 0.15 ? pick([' ', '\n', '\t', '\r\n', '  ']) : '');
    let accepted = 0;
    for (let n = 0; n < 3000; n++) {
      const rank = 1 + Math.floor(next() * 4);
      const shape = Array.from({ length: rank }, () => 1 + Math.floor(next() * 3));
      const build = (depth: number): string =>
        depth === rank ? pick(numbers) : `[${space()}${Array.from({ length: shape[depth]! }, () => build(depth + 1)).join(`${space()},${space()}`)}${space()}]`;
      let text = `${space()}{${space()}"v"${space()}:${space()}${build(0)}${space()}}${space()}`;
      const defective = n % 2 === 1;
      if (defective) {
        const at = Math.floor(next() * text.length);
        const change = pick(['delete', 'insert', 'replace']);
        const char = pick(['[', ']', ',', '0', '-', '.', 'e', ' ', '"', '}']);
        text = change === 'delete' ? text.slice(0, at) + text.slice(at + 1) : change === 'insert' ? text.slice(0, at) + char + text.slice(at) : text.slice(0, at) + char + text.slice(at + 1);
      }
      const packed = parsePackedRecord(encode(text));
      if (!defective) expect(packed, text).toBeDefined();
      if (!packed) continue;
      accepted++;
      // Whatever the reader accepts, JSON.parse must accept as the same rectangular array.
      let parsed: unknown;
      expect(() => (parsed = JSON.parse(text)), text).not.toThrow();
      // (A defect may have changed the key itself.)
      expect(Object.keys(packed), text).toEqual(Object.keys(parsed as object));
      const key = Object.keys(packed)[0]!;
      const value = (parsed as Record<string, unknown>)[key];
      const member = packed[key]!;
      const flat: unknown[] = [];
      const walk = (node: unknown, depth: number): void => {
        if (depth === member.shape.length) {
          expect(typeof node, text).toBe('number');
          flat.push(node);
          return;
        }
        expect(Array.isArray(node) && node.length === member.shape[depth], text).toBe(true);
        for (const child of node as unknown[]) walk(child, depth + 1);
      };
      walk(value, 0);
      const data = Array.from(member.data);
      expect(data.length, text).toBe(flat.length);
      data.forEach((v, i) => {
        if (!Object.is(v, flat[i])) expect.fail(`[${i}]: packed ${v}, JSON.parse ${String(flat[i])} in ${text}`);
      });
    }
    expect(accepted).toBeGreaterThan(1500);
  });

  it('reads every numeric record shipped with the project as JSON.parse does', () => {
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        if (statSync(path).isDirectory()) walk(path);
        else if (name.endsWith('.json')) files.push(path);
      }
    };
    walk(join(REPO_ROOT, 'samples'));
    walk(join(REPO_ROOT, 'test/fixtures/payloads'));
    const packable = files.filter((file) => parsePackedRecord(readFileSync(file)) !== undefined);
    expect(packable.length).toBeGreaterThan(5);
    for (const file of packable) expectSameAsGeneralPath(readFileSync(file, 'utf8'));
  });

  it.each([
    // Not JSON at all: never accepted.
    ['leading zero', '{"v": [01]}'],
    ['bare dot', '{"v": [1.]}'],
    ['no integer part', '{"v": [.5]}'],
    ['plus sign', '{"v": [+1]}'],
    ['lone minus', '{"v": [-]}'],
    ['exponent without digits', '{"v": [1e]}'],
    ['signed exponent without digits', '{"v": [1e+]}'],
    ['trailing comma in array', '{"v": [1,]}'],
    ['leading comma', '{"v": [,1]}'],
    ['missing comma', '{"v": [1 2]}'],
    ['trailing comma in object', '{"v": [1],}'],
    ['missing colon', '{"v" [1]}'],
    ['unclosed array', '{"v": [[1, 2]}'],
    ['unclosed object', '{"v": [1]'],
    ['input ends in a fraction', '{"v": [0.12345678'],
    ['a letter among fraction digits', '{"v": [0.1234x678]}'],
    ['trailing text', '{"v": [1]} x'],
    ['NaN', '{"v": [NaN]}'],
    ['Infinity', '{"v": [Infinity]}'],
    ['single quotes', "{'v': [1]}"],
    ['hex', '{"v": [0x10]}'],
    ['nothing', ''],
    // JSON, but for the general path: its rules and its messages.
    ['empty object', '{}'],
    ['empty array', '{"v": []}'],
    ['empty inner array', '{"v": [[], []]}'],
    ['ragged rows', '{"v": [[1, 2], [3]]}'],
    ['ragged arrays of rows', '{"v": [[[1], [2]], [[3]]]}'],
    ['number among arrays', '{"v": [[1], 2]}'],
    ['number among arrays, deeper', '{"v": [[[1], 23]]}'],
    ['a number where a row opens, brackets balanced after it', '{"v": [[1], 23]]}'],
    ['array among numbers', '{"v": [1, [2]]}'],
    ['array deeper than the rows before it', '{"v": [[1], [[2]]]}'],
    ['string', '{"v": ["1"]}'],
    ['null', '{"v": [null]}'],
    ['boolean', '{"v": [true]}'],
    ['object member', '{"inputs": {"x": [1]}}'],
    ['scalar member', '{"v": 1}'],
    ['top-level array', '[[1, 2]]'],
    ['escaped key', '{"v\\u0061": [1]}'],
    ['non-ASCII key', '{"vé": [1]}'],
    ['__proto__ key', '{"__proto__": [1]}'],
    ['overflowing number', '{"v": [1e400]}'],
    ['deeper than 32 levels', `{"v": ${'['.repeat(33)}1${']'.repeat(33)}}`],
    ['byte order mark', '\uFEFF{"v": [1]}'],
  ])('leaves %s to the general path', (_name, text) => {
    expect(parsePackedRecord(encode(text))).toBeUndefined();
  });

  it('keeps each member apart, as rectangular arrays', () => {
    const packed = parsePackedRecord(encode('{"a": [[1, 2, 3], [4, 5, 6]], "b": [7]}'))!;
    expect(packed['a']).toBeInstanceOf(PackedArray);
    expect(packed['a']!.shape).toEqual([2, 3]);
    expect(Array.from(packed['a']!.data)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(packed['b']!.shape).toEqual([1]);
    expect(Array.from(packed['b']!.data)).toEqual([7]);
  });

  it('keeps a member intact when a later one outgrows the buffer', () => {
    const a = Array.from({ length: 1000 }, (_, i) => i);
    const b = Array.from({ length: 5000 }, (_, i) => -1 - i);
    const packed = parsePackedRecord(encode(JSON.stringify({ a, b })))!;
    expect(Array.from(packed['a']!.data)).toEqual(a);
    expect(Array.from(packed['b']!.data)).toEqual(b);
  });

  it('grows its memory within a member for records dense in numbers, and reads the next record as well', () => {
    const n = 300_000;
    const dense = parsePackedRecord(encode(`{"v": [${'1,'.repeat(n - 1)}2]}`))!;
    expect(dense['v']!.shape).toEqual([n]);
    expect(dense['v']!.data[0]).toBe(1);
    expect(dense['v']!.data[n - 1]).toBe(2);
    expectSameAsGeneralPath('{"a": [[0.5, -2]], "b": [3e2]}');
  });

  it('refuses to hand out values once a later record may have overwritten them', () => {
    const first = parsePackedRecord(encode('{"v": [1.5, 2.5]}'))!;
    expect(Array.from(first['v']!.data)).toEqual([1.5, 2.5]);
    parsePackedRecord(encode('{"v": [7, 8, 9]}'));
    expect(() => first['v']!.data).toThrow(/after a later record/);
  });

  it('reads a record correctly after one it refused midway', () => {
    expect(parsePackedRecord(encode('{"a": [1, 2], "b": [[3], 4]}'))).toBeUndefined();
    expectSameAsGeneralPath('{"b": [[5, 6]]}');
  });

  it('grows past its first buffer for large records', () => {
    const n = 100_000;
    const packed = parsePackedRecord(encode(`{"v": [${Array.from({ length: n }, (_, i) => i / 8).join(',')}]}`))!;
    expect(packed['v']!.shape).toEqual([n]);
    expect(packed['v']!.data[n - 1]).toBe((n - 1) / 8);
  });
});

describe('the packed reader\'s WebAssembly', () => {
  it('is the committed assembly of packed-json.wat (run `npm run build:packed-json-wasm` after editing it)', async () => {
    const { assemblePackedJsonWasm, generatedModule, GENERATED } = await import('../../tools/assemble-packed-json-wasm.js');
    expect(readFileSync(GENERATED, 'utf8')).toBe(generatedModule(await assemblePackedJsonWasm()));
  });
});
