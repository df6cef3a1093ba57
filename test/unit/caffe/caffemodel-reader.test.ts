import { describe, expect, it } from 'vitest';
import { ProtobufWriter } from '../../../functions/protobuf/protobuf-writer.js';
import { ModelLoadError } from '../../../functions/scorer/domain/errors.js';
import { buildCaffeModel } from '../../../functions/scorer/engines/caffe/caffe-engine.js';
import { readCaffeNet } from '../../../functions/scorer/engines/caffe/caffe-net.js';
import { readCaffemodel } from '../../../functions/scorer/engines/caffe/caffemodel-reader.js';
import { caffemodelBytes, expectClose, run, tensor } from './caffe-test-kit.js';

// V1LayerParameter.LayerType numbers from caffe.proto.
const V1 = { DATA: 5, INNER_PRODUCT: 14, RELU: 18, SOFTMAX: 20, SOFTMAX_LOSS: 21 } as const;

const W = [1, -1, 2, 0, 0.5, 0.5, -0.5, 1];
const B = [0.25, -3];

function v1Weights(): Uint8Array {
  return caffemodelBytes(
    [
      { name: 'mnist', type: V1.DATA },
      // Pre-2015 blobs: 4D num/channels/height/width instead of a BlobShape.
      { name: 'ip', type: V1.INNER_PRODUCT, blobs: [{ shape: [1, 1, 2, 4], data: W, legacyShape: true }, { shape: [1, 1, 1, 2], data: B, legacyShape: true }] },
      { name: 'relu', type: V1.RELU },
      { name: 'loss', type: V1.SOFTMAX_LOSS },
    ],
    'layers',
    'v1net',
  );
}

const V1_PROTOTXT = `name: "v1net"
input: "data"
input_dim: 10 input_dim: 1 input_dim: 2 input_dim: 2
layers { name: "ip" type: INNER_PRODUCT bottom: "data" top: "ip" blobs_lr: 1 blobs_lr: 2 inner_product_param { num_output: 2 } }
layers { name: "relu" type: RELU bottom: "ip" top: "ip" }
layers { name: "loss" type: SOFTMAX_LOSS bottom: "ip" bottom: "label" top: "loss" include { phase: TRAIN } }
layers { name: "prob" type: SOFTMAX bottom: "ip" top: "prob" }
`;

describe('caffemodel reader', () => {
  it('reads a V1 NetParameter (layers, field 2): enum types, names and legacy 4D blob shapes', () => {
    const weights = readCaffemodel(v1Weights(), 'v1.caffemodel');
    expect(weights.netName).toBe('v1net');
    expect(weights.style).toBe('layers');
    expect(weights.layers.map((l) => `${l.name}:${l.type}`)).toEqual(['mnist:Data', 'ip:InnerProduct', 'relu:ReLU', 'loss:SoftmaxWithLoss']);
    expect(weights.layers[1]!.blobs.map((b) => b.shape)).toEqual([
      [1, 1, 2, 4],
      [1, 1, 1, 2],
    ]);
    expect(Array.from(weights.layers[1]!.blobs[0]!.data)).toEqual(W);
  });

  it('reads new-style layers (field 100) with BlobShape, unpacked floats and double_data', () => {
    const bytes = caffemodelBytes([
      { name: 'a', type: 'Convolution', blobs: [{ shape: [2, 1], data: [1.5, -2], unpacked: true }, { shape: [3], data: [0.1, 0.2, 0.3], doubles: true }] },
    ]);
    const [layer] = readCaffemodel(bytes, 'new.caffemodel').layers;
    expect(layer!.type).toBe('Convolution');
    expect(layer!.blobs[0]).toEqual({ shape: [2, 1], data: Float32Array.from([1.5, -2]) });
    expect(layer!.blobs[1]).toEqual({ shape: [3], data: Float32Array.from([0.1, 0.2, 0.3]) });
  });

  it('rejects files that are not caffemodels, naming the file and the problem', () => {
    expect(() => readCaffemodel(new TextEncoder().encode('name: "LeNet"\nlayer {}'), '/m/lenet.prototxt')).toThrow(ModelLoadError);
    expect(() => readCaffemodel(new TextEncoder().encode('name: "LeNet"\nlayer {}'), '/m/lenet.prototxt')).toThrow(/^\/m\/lenet\.prototxt is not a readable \.caffemodel/);
    expect(() => readCaffemodel(new Uint8Array(), 'empty.caffemodel')).toThrow('empty.caffemodel holds no layers');
    const truncated = caffemodelBytes([{ name: 'ip', type: 'InnerProduct', blobs: [{ shape: [2], data: [1, 2] }] }]).subarray(0, 20);
    expect(() => readCaffemodel(truncated, 't.caffemodel')).toThrow(/t\.caffemodel is not a readable \.caffemodel .*runs past the end/);
    const wrongCount = caffemodelBytes([{ name: 'ip', type: 'InnerProduct', blobs: [{ shape: [3], data: [1, 2] }] }]);
    expect(() => readCaffemodel(wrongCount, 'w.caffemodel')).toThrow('w.caffemodel: layer "ip" blob 0: shape 3 needs 3 values but the blob holds 2');
  });

  it('rejects the V0 format (a V0LayerParameter inside layers)', () => {
    const v0 = new ProtobufWriter().message(2, (l) => l.message(1, (v) => v.string(1, 'conv1').string(2, 'conv'))).finish();
    expect(() => readCaffemodel(v0, 'old.caffemodel')).toThrow(/old\.caffemodel uses the V0 layer format/);
  });
});

describe('V1 nets (pre-2015 "layers")', () => {
  it('parses V1 prototxt layers with enum types, skipping TRAIN-phase layers', () => {
    const net = readCaffeNet(V1_PROTOTXT, 'v1.prototxt');
    expect(net.inputs).toEqual([{ blob: 'data', shape: [10, 1, 2, 2] }]);
    expect(net.layers.map((l) => `${l.name}:${l.type}`)).toEqual(['ip:InnerProduct', 'relu:ReLU', 'prob:Softmax']);
    expect(net.excluded).toEqual(['loss (SoftmaxWithLoss)']);
  });

  it('runs a V1 net with V1 weights end to end', async () => {
    const model = await buildCaffeModel({ prototxt: V1_PROTOTXT, prototxtPath: 'v1.prototxt', weights: v1Weights(), weightsPath: 'v1.caffemodel' });
    expect(model.signature.inputs).toEqual([{ name: 'data', dtype: 'float32', shape: [null, 1, 2, 2] }]);
    expect(model.caffe.notes).toContain('skipped 1 layer(s) outside the TEST phase: loss (SoftmaxWithLoss)');
    const x = [[0.5, 1, -1, 2], [1, 1, 1, 1], [0, 0, 0, 0]];
    const { prob } = await run(model, { data: tensor([3, 1, 2, 2], x.flat()) });
    const expected = x.flatMap((row) => {
      const logits = [0, 1].map((o) => Math.max(0, row.reduce((s, v, k) => s + v * W[o * 4 + k]!, B[o]!)));
      const e = logits.map(Math.exp);
      return e.map((v) => v / (e[0]! + e[1]!));
    });
    expect(prob!.shape).toEqual([3, 2]);
    expectClose(prob!.values, expected);
  });

  it('rejects an unknown V1 enum type and a V0 layer block in the prototxt', () => {
    expect(() => readCaffeNet('input: "d" input_dim: 1 input_dim: 1 input_dim: 1 input_dim: 1 layers { name: "x" type: FANCY bottom: "d" top: "x" }', 'a.prototxt')).toThrow(
      'a.prototxt: layers "x": has an unknown V1 layer type',
    );
    expect(() => readCaffeNet('layers { layer { name: "conv1" type: "conv" } }', 'b.prototxt')).toThrow(/uses the V0 layer format/);
  });
});
