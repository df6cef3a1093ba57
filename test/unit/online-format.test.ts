import { describe, expect, it } from 'vitest';
import { decodeOnlinePayload } from '../../functions/scorer/formats/online-format.js';
import type { Signature } from '../../functions/scorer/engines/engine.js';

const single: Signature = { inputs: [{ name: 'embedding_1_input', dtype: 'float32', shape: [null, 3] }], outputs: [{ name: 'out', dtype: 'float32', shape: [null, 1] }] };
const double: Signature = {
  inputs: [
    { name: 'a', dtype: 'float32', shape: [null, 2] },
    { name: 'b', dtype: 'int32', shape: [null, 1] },
  ],
  outputs: [{ name: 'out', dtype: 'float32', shape: [null, 1] }],
};

describe('online payloads', () => {
  it('take rows as "values" or by the input\'s name, alike', () => {
    const rows = [[1, 2, 3], [4, 5, 6]];
    const byValues = decodeOnlinePayload({ values: rows }, single);
    const byName = decodeOnlinePayload({ embedding_1_input: rows }, single);
    expect(byName['embedding_1_input']!.shape).toEqual([2, 3]);
    expect(Array.from(byName['embedding_1_input']!.data as Float32Array)).toEqual(Array.from(byValues['embedding_1_input']!.data as Float32Array));
  });

  it('feed a model of several inputs by their names, and say which are missing or unknown', () => {
    const inputs = decodeOnlinePayload({ a: [[1, 2]], b: [[7]] }, double);
    expect([inputs['a']!.shape, inputs['b']!.shape, Array.from(inputs['b']!.data as Int32Array)]).toEqual([[1, 2], [1, 1], [7]]);
    expect(() => decodeOnlinePayload({ a: [[1, 2]] }, double)).toThrow(/missing input "b"/);
    expect(() => decodeOnlinePayload({ a: [[1, 2]], b: [[7]], c: 1 }, double)).toThrow(/unexpected key\(s\) "c"/);
    expect(() => decodeOnlinePayload({ values: [[1, 2]] }, double)).toThrow(/name them, \{"a": \[\.\.\.\], "b": \[\.\.\.\]\}/);
  });
});
