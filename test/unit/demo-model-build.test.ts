import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { convertKerasH5ToOnnx } from '../../tools/keras-h5-to-onnx.js';
import { FIXTURES, MODELS_ROOT } from '../support/paths.js';

describe('the demo ONNX model', () => {
  it('is exactly what `npm run build:demo-model` makes from the Apache-2.0 Keras source', async () => {
    const built = await convertKerasH5ToOnnx(`${FIXTURES}/models/keras_h5/jsimluken_tiny_mnist_cnn_tf2_0/tiny_mnist.h5`);
    const committed = readFileSync(`${MODELS_ROOT}/mnist-cnn-onnx/mnist-cnn.onnx`);
    expect(Buffer.from(built).equals(committed)).toBe(true);
  });
});
