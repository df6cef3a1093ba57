/** Pictures of MNIST-style inputs and the class predicted for each, in every layout and output format the demo models use. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { digitPreview, findDigitImages, predictedClasses } from '../../console/record-preview.js';
import { REPO_ROOT } from '../support/paths.js';

const sample = (path: string): unknown => JSON.parse(readFileSync(`${REPO_ROOT}samples/${path}`, 'utf8'));
const ramp = Array.from({ length: 784 }, (_, i) => i);

describe('digit pictures of input records', () => {
  it('finds one 28x28 image in [1,28,28,1], [1,1,28,28], [1,784] and [28,28], under any input name', () => {
    for (const path of ['mnist-onnx/seven-drawn.json', 'mnist-onnx/mnist1-digit.json', 'mnist-caffe/seven-drawn.json', 'mnist-tensorflow/mnist1-digit.json']) {
      const images = findDigitImages(sample(path));
      expect(images, path).toHaveLength(1);
      expect(images![0]).toHaveLength(784);
    }
    const rows = Array.from({ length: 28 }, (_, r) => ramp.slice(r * 28, r * 28 + 28));
    expect(findDigitImages({ pixels: rows })![0]!.slice(0, 3)).toEqual([0, 0, 1]);
  });

  it('scales any value range to grey levels 0..255, brightest white', () => {
    const [image] = findDigitImages({ values: [ramp.map((v) => v / 783 - 0.5)] })!;
    expect([Math.min(...image!), Math.max(...image!)]).toEqual([0, 255]);
  });

  it('finds each sample of a batch', () => {
    expect(findDigitImages(sample('mnist-keras/two-digits-batch.json'))).toHaveLength(2);
  });

  it('finds nothing in records that are not 28x28 images', () => {
    expect(findDigitImages(sample('mnist-onnx/wrong-shape.json'))).toBeUndefined();
    expect(findDigitImages({ values: [[1, 2, 3]] })).toBeUndefined();
    expect(findDigitImages({ values: [ramp.slice(0, 783)] })).toBeUndefined();
    expect(findDigitImages({ values: [[...ramp.slice(0, 783), 'x']] })).toBeUndefined();
    expect(findDigitImages([ramp])).toBeUndefined();
  });
});

describe('predicted classes of results', () => {
  const onehot = (k: number) => Array.from({ length: 10 }, (_, i) => (i === k ? 0.9 : 0.01));

  it('takes the argmax of the first output, named-tensor and Caffe style', () => {
    expect(predictedClasses({ 'seven.json': { dense: [onehot(7)] } }, 1)).toEqual([7]);
    expect(predictedClasses({ 'two.json': { prob: [onehot(5), onehot(7)], other: [onehot(1), onehot(1)] } }, 2)).toEqual([5, 7]);
  });

  it('takes the Keras format’s own prediction_classes, for one sample and for a batch', () => {
    const fields = ['prediction', 'prediction_classes', 'probability'];
    expect(predictedClasses({ 'seven.json': { fields, values: [onehot(7), 7, onehot(7)] } }, 1)).toEqual([7]);
    expect(predictedClasses({ 'two.json': { fields, values: [[onehot(5), 5, onehot(5)], [onehot(7), 7, onehot(7)]] } }, 2)).toEqual([5, 7]);
  });

  it('reads the TensorFlow format’s list of rows', () => {
    expect(predictedClasses([{ filename: 'num_3.json', y: [onehot(3)] }], 1)).toEqual([3]);
  });

  it('gives no classes when the result does not have one row per image', () => {
    expect(predictedClasses({ 'x.json': { dense: [onehot(7)] } }, 2)).toBeUndefined();
    expect(predictedClasses({ 'x.json': { value: [[0.5]] } }, 1)).toBeUndefined();
  });

  it('pairs pictures with classes', () => {
    expect(digitPreview(sample('mnist-onnx/seven-drawn.json'), { 'seven-drawn.json': { dense: [onehot(7)] } })).toMatchObject({ images: [expect.any(Array)], classes: [7] });
    expect(digitPreview(sample('mnist-onnx/wrong-shape.json'), {})).toBeUndefined();
  });
});
