/**
 * Per framework: model load time (first load in a fresh process, then the
 * median of later loads) and per-record predict time at batch 1, each
 * framework in its own process. Models: the demo deployments' models and the
 * largest test fixtures.
 *
 *   npx tsx bench/engines.ts
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadModel } from '../functions/scorer/engines/framework-engines.js';
import type { TensorMap } from '../functions/scorer/engines/engine.js';
import { controlFlowModel } from '../test/unit/tensorflow/control-flow-model.js';
import { fmt, median, perRecordMs } from './engine-timing.js';

const MODELS: Record<string, () => string> = {
  'onnx (mnist-cnn-onnx)': () => 'layers/models/mnist-cnn-onnx',
  'keras (mnist-keras, .keras)': () => 'layers/models/mnist-keras',
  'caffe (lenet-caffe)': () => 'layers/models/lenet-caffe',
  'tensorflow (mnist-tensorflow, TF1 SavedModel)': () => 'layers/models/mnist-tensorflow',
  'tensorflow (mnist_cnn_bn_keras_tf2_10, largest SavedModel fixture)': () => fixtureModel('test/fixtures/models/tf_savedmodel/mnist_cnn_bn_keras_tf2_10', 'tensorflow', 'saved_model.pb'),
  // Paths added with issue 17: an opset upgrade at load, a tf.Example signature, functional control flow.
  'onnx (onnx_backend_pytorch_Linear, opset 6 upgraded to 7 at load)': () => fixtureModel('test/fixtures/models/onnx/onnx_backend_pytorch_Linear', 'onnx', 'model.onnx'),
  'tensorflow (half_plus_two_cpu_tf1 regress_x_to_y, tf.Example)': () => fixtureModel('test/fixtures/models/tf_savedmodel/half_plus_two_cpu_tf1', 'tensorflow', 'saved_model.pb', 'regress_x_to_y'),
  'tensorflow (half_plus_two_tf2_cpu regress_x_to_y, tf.Example in a function)': () => fixtureModel('test/fixtures/models/tf_savedmodel/half_plus_two_tf2_cpu', 'tensorflow', 'saved_model.pb', 'regress_x_to_y'),
  'tensorflow (crafted While x3 + StatelessIf, control flow)': () => controlFlowModel(mkdtempSync(join(tmpdir(), 'dropscore-bench-')), 'control-flow'),
};

/** Test fixtures have no model-meta.json: give a copy one. */
function fixtureModel(folder: string, framework: string, artifact: string, signature?: string): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'dropscore-bench-')), 'model');
  cpSync(folder, dir, { recursive: true });
  writeFileSync(join(dir, 'model-meta.json'), JSON.stringify({ name: 'bench', framework, artifact, ...(signature ? { signature } : {}) }));
  return dir;
}
const LOADS = 5;
const REPEATS = 200;

async function measure(label: string, dir: string): Promise<string> {
  const started = performance.now();
  let loaded = await loadModel(dir);
  const firstMs = performance.now() - started;
  const later: number[] = [];
  for (let i = 0; i < LOADS; i++) {
    const t = performance.now();
    loaded = await loadModel(dir);
    later.push(performance.now() - t);
  }
  const inputs: Record<string, TensorMap[string]> = {};
  for (const spec of loaded.model.signature.inputs) {
    const shape = spec.shape.map((d) => d ?? 1);
    const size = shape.reduce((a, b) => a * b, 1);
    inputs[spec.name] = { dtype: 'float32', shape, data: Float32Array.from({ length: size }, (_, i) => (i % 255) / 255) };
  }
  const predictMs = await perRecordMs(loaded.model, inputs, 1, REPEATS);
  return `| ${label} | ${fmt(firstMs)} | ${fmt(median(later))} | ${fmt(predictMs)} |`;
}

const [label] = process.argv.slice(2);
if (label) {
  console.log(await measure(label, MODELS[label]!()));
} else {
  const self = fileURLToPath(import.meta.url);
  console.log('| framework (model) | first load (ms) | later loads (ms, median of 5) | predict, batch 1 (ms/record, median of 200) |');
  console.log('|---|---|---|---|');
  for (const name of Object.keys(MODELS)) {
    const out = execFileSync('npx', ['tsx', self, name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' } });
    console.log(out.split('\n').filter((l) => l.startsWith('|')).join('\n'));
  }
}
