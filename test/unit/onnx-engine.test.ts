import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { ModelLoadError } from '../../functions/scorer/domain/errors.js';
import { loadModel } from '../../functions/scorer/engines/framework-engines.js';
import { showModel } from '../../manage/model-catalog.js';
import { decodeTensor } from '../../functions/scorer/formats/tensor-json.js';
import { FIXTURES, MODELS_ROOT } from '../support/paths.js';
import { INT64_PLUS_ONE, makeModelDir, makeOnnxModelDir, tempRoot } from '../support/model-dir.js';
import { TOLERANCE, maxRelativeError, readTensorProto } from '../support/tensor-proto.js';

const root = tempRoot();
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('ONNX engine: signatures', () => {
  it('reads names, dtypes and shapes, with symbolic dimensions free', async () => {
    const dir = makeModelDir(root, 'mnist-sm', `${FIXTURES}/models/onnx/keras2onnx_mnist_sm/mnist-sm.onnx`);
    const { model } = await loadModel(dir);
    expect(model.signature).toEqual({
      inputs: [{ name: 'conv2d_5_input', dtype: 'float32', shape: [null, 28, 28, 1] }],
      outputs: [{ name: 'dense_6/Softmax:0', dtype: 'float32', shape: [null, 10] }],
    });
  });

  it('keeps a fixed batch of 1 and a float64 input', async () => {
    const dir = makeModelDir(root, 'mnist-double', `${FIXTURES}/models/onnx/tf2onnx_mnist_double_input/mnist.onnx`);
    const { model } = await loadModel(dir);
    expect(model.signature.inputs).toEqual([{ name: 'x', dtype: 'float64', shape: [1, 28, 28] }]);
  });
});

describe('ONNX engine: reference outputs of the ONNX backend tests', () => {
  // Conv2d and Linear are PyTorch 0.3 exports at opset 6: Linear's Gemm-6 has no onnxruntime
  // kernel any more, so both are upgraded to opset 7 at load (Conv2d with no rewrite).
  it.each(['onnx_backend_pytorch_Conv2d', 'onnx_backend_single_relu', 'onnx_backend_pytorch_Linear'])('%s matches test_data_set_0', async (name) => {
    const fixture = `${FIXTURES}/models/onnx/${name}`;
    const { model } = await loadModel(makeModelDir(root, name, `${fixture}/model.onnx`));
    const input = readTensorProto(`${fixture}/test_data_set_0/input_0.pb`);
    const expected = readTensorProto(`${fixture}/test_data_set_0/output_0.pb`);
    const spec = model.signature.inputs[0]!;
    const outputs = await model.predict({ [spec.name]: { dtype: 'float32', shape: input.dims, data: input.data } });
    const actual = outputs[model.signature.outputs[0]!.name]!;
    expect(actual.shape).toEqual(expected.dims);
    expect(maxRelativeError(actual.data as Float32Array, expected.data)).toBeLessThanOrEqual(TOLERANCE);
  });

  it('notes the opset upgrade of onnx_backend_pytorch_Linear (Gemm-6) for models show', async () => {
    const dir = makeModelDir(root, 'linear-notes', `${FIXTURES}/models/onnx/onnx_backend_pytorch_Linear/model.onnx`);
    const { model } = await loadModel(dir);
    expect(model.notes).toEqual([expect.stringMatching(/^upgraded at load from ONNX opset 6 to 7, .*Gemm \(1 node\): dropped "broadcast"/)]);
    expect(model.signature.inputs).toEqual([{ name: '0', dtype: 'float32', shape: [4, 10] }]);
  });

  it('the note reaches `models show`', async () => {
    const catalog = join(root, 'catalog');
    makeModelDir(catalog, 'linear', `${FIXTURES}/models/onnx/onnx_backend_pytorch_Linear/model.onnx`);
    const shown = await showModel(catalog, 'linear');
    expect(shown.notes).toEqual([expect.stringContaining('upgraded at load from ONNX opset 6 to 7, which onnxruntime runs: Gemm (1 node)')]);
  });

  it('a model at a current opset is loaded as it is, without notes', async () => {
    const dir = makeModelDir(root, 'relu-notes', `${FIXTURES}/models/onnx/onnx_backend_single_relu/model.onnx`);
    expect((await loadModel(dir)).model.notes).toEqual([]);
  });
});

describe('the demo model layers/models/mnist-cnn-onnx', () => {
  const expectedDir = `${FIXTURES}/models/keras_h5/jsimluken_tiny_mnist_cnn_tf2_0/expected`;
  const cases = readdirSync(expectedDir).filter((f) => f.endsWith('.input.json')).map((f) => f.replace('.input.json', ''));

  it.each(cases)('matches the numpy reference of its source Keras model on %s', async (name) => {
    const loaded = await loadModel(join(MODELS_ROOT, 'mnist-cnn-onnx'));
    const spec = loaded.model.signature.inputs[0]!;
    const input = JSON.parse(readFileSync(`${expectedDir}/${name}.input.json`, 'utf8')).input_1;
    const expected = JSON.parse(readFileSync(`${expectedDir}/${name}.output.json`, 'utf8')).dense.flat(Infinity) as number[];
    const outputs = await loaded.model.predict({ input_1: decodeTensor(input, spec, 'input_1') });
    expect(maxRelativeError(outputs['dense']!.data as Float32Array, expected)).toBeLessThanOrEqual(TOLERANCE);
  });
});

describe('ONNX engine: other dtypes and failures', () => {
  it('runs an int64 model built with our ONNX writer', async () => {
    const { model } = await loadModel(makeOnnxModelDir(root, 'int64', INT64_PLUS_ONE));
    const x = decodeTensor([[1, 2, 3]], model.signature.inputs[0]!, 'x');
    const y = (await model.predict({ x }))['y']!;
    expect(Array.from(y.data as BigInt64Array)).toEqual([2n, 3n, 4n]);
  });

  it('fails to load a corrupt file with a ModelLoadError naming it', async () => {
    const dir = makeModelDir(root, 'corrupt', `${FIXTURES}/payloads/keras/img1.json`);
    await expect(loadModel(dir)).rejects.toThrow(ModelLoadError);
    const error = await loadModel(dir).then(
      () => new Error('loaded'),
      (e: unknown) => e as Error,
    );
    // Named by model name and file, never by the server path it was read from.
    expect(error.message).toMatch(/model "corrupt" \(img1\.json\)/);
    expect(error.message).not.toContain(root);
  });

  it('explains a missing model-meta.json', async () => {
    await expect(loadModel(join(root, 'nowhere'))).rejects.toThrow('model "nowhere": cannot read model-meta.json: ENOENT');
  });
});
