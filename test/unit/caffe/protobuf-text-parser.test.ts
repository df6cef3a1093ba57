import { describe, expect, it } from 'vitest';
import { ModelLoadError } from '../../../functions/scorer/domain/errors.js';
import { ParamReader } from '../../../functions/scorer/engines/caffe/param-reader.js';
import { ProtoTextSyntaxError, parseProtoText, type TextMessage } from '../../../functions/scorer/engines/caffe/protobuf-text-parser.js';
import { readCaffeNet } from '../../../functions/scorer/engines/caffe/caffe-net.js';

const TRICKY = String.raw`# a comment with "quotes", { braces } and : colons
name: "tricky \"net\"\t\x41\101 caf\303\251 \u00e9"  # trailing comment
layer {
  name: 'single'   type: "Con" 'volution'   # adjacent strings are one value
  convolution_param < num_output: 0x10 kernel_size: [3, 5] pad: 1; stride: 2, bias_term: false >
  param: { lr_mult: 1.5e0 } param { lr_mult: -2. decay_mult: .5f }
  weight: -inf other: nan ratio: 1e-3 octal: 017 empty_list: []
  pool: MAX
  path: "a\\b\'c\?"
}
layer{}layer{name:"packed"bottom:"x"top:"y"}
`;

const read = (text: string): ParamReader => new ParamReader(parseProtoText(text), 'test.prototxt');

describe('protobuf text parser', () => {
  const message: TextMessage = parseProtoText(TRICKY);
  const net = new ParamReader(message, 'test.prototxt');
  const layers = net.messages('layer');
  const first = layers[0]!;

  it('decodes strings: escapes, octal/hex bytes read as UTF-8, \\u escapes, adjacent literals', () => {
    expect(net.string('name')).toBe('tricky "net"\tAA café é');
    expect(first.string('type')).toBe('Convolution');
    expect(first.string('name')).toBe('single');
    expect(first.string('path')).toBe("a\\b'c?");
  });

  it('keeps repeated fields in order and nests messages written with {}, : {} and <>', () => {
    expect(layers).toHaveLength(3);
    expect(first.messages('param').map((p) => p.number('lr_mult'))).toEqual([1.5, -2]);
    expect(first.messages('param')[1]!.number('decay_mult')).toBe(0.5);
    const conv = first.message('convolution_param');
    expect(conv.integer('num_output')).toBe(16);
    expect(conv.integers('kernel_size')).toEqual([3, 5]);
    expect(conv.integer('pad')).toBe(1);
    expect(conv.integer('stride')).toBe(2);
    expect(conv.bool('bias_term', true)).toBe(false);
    expect(layers[2]!.strings('top')).toEqual(['y']);
    expect(layers[1]!.text.fields).toEqual([]);
  });

  it('reads numbers in every spelling, and enums as identifiers', () => {
    expect(first.number('weight')).toBe(-Infinity);
    expect(first.number('other')).toBeNaN();
    expect(first.number('ratio')).toBe(0.001);
    expect(first.integer('octal')).toBe(15);
    expect(first.numbers('empty_list')).toEqual([]);
    expect(first.enumValue('pool', { MAX: 0, AVE: 1 }, 'AVE')).toBe('MAX');
  });

  it('applies proto2 rules: the last singular value wins, absent fields take defaults, enums by number', () => {
    const p = read('a: 1 a: 2 mode: 1 flag: true flag: 0');
    expect(p.integer('a')).toBe(2);
    expect(p.integer('missing', 7)).toBe(7);
    expect(p.enumValue('mode', { MAX: 0, AVE: 1 }, 'MAX')).toBe('AVE');
    expect(p.bool('flag', true)).toBe(false);
    expect(p.message('absent').integer('x', 3)).toBe(3);
  });

  it('reports syntax errors with line and column', () => {
    const cases: [string, RegExp][] = [
      ['layer {\n  name: "open', /line 2, column 9: unterminated string/],
      ['layer {\n  name: "x"\n', /line 3, column 1: expected "}" before the end of the file/],
      ['a: 1.2.3', /line 1, column 4: malformed number "1.2."/],
      ['a 5', /expected ":" or "\{" after field "a"/],
      ['a: "\\q"', /unknown escape sequence \\q/],
      ['a: [1 2]', /expected "," or "]" in the list of "a"/],
      ['[ext.field]: 1', /extension and Any fields/],
      ['}', /expected a field name, found "}"/],
    ];
    for (const [text, message] of cases) {
      expect(() => parseProtoText(text), text).toThrow(ProtoTextSyntaxError);
      expect(() => parseProtoText(text), text).toThrow(message);
    }
  });

  it('names the field, layer and file when a value has the wrong type', () => {
    const net = `input: "data" input_shape { dim: 1 dim: 2 }
      layer { name: "ip" type: "InnerProduct" bottom: "data" top: "ip" inner_product_param { num_output: "ten" } }`;
    const layer = readCaffeNet(net, 'net.prototxt').layers[0]!;
    expect(() => layer.params.message('inner_product_param').integer('num_output')).toThrow(ModelLoadError);
    expect(() => layer.params.message('inner_product_param').integer('num_output')).toThrow(
      'net.prototxt: layer "ip" (InnerProduct) inner_product_param (line 2): "num_output" must be a number; found "ten"',
    );
    expect(() => read('pool: MIN').enumValue('pool', { MAX: 0, AVE: 1 }, 'MAX')).toThrow('"pool" must be one of MAX, AVE; found MIN');
  });

  it('turns a syntax error in a net file into a ModelLoadError naming file, line and column', () => {
    expect(() => readCaffeNet('name: "x"\nlayer { name: "a" ', '/models/m/deploy.prototxt')).toThrow(
      /\/models\/m\/deploy\.prototxt:2:19: not a valid prototxt: expected "}" before the end of the file/,
    );
  });
});
