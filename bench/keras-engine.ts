/**
 * Keras engine: load time and per-record predict time of the WML MNIST CNN
 * (Keras 2.1.3 .h5) at batch 1 and 64, on TensorFlow.js's wasm and cpu
 * backends. Each backend runs in its own process so load times include
 * nothing left warm by the other.
 *
 *   npx tsx bench/keras-engine.ts            # both backends, markdown table
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { kerasEngine } from '../functions/scorer/engines/keras/keras-engine.js';
import { useTfjs, type TfBackend } from '../functions/scorer/engines/tfjs-runtime.js';
import { readModelArtifact } from '../functions/scorer/models/model-artifact.js';
import { fmt, median, perRecordMs } from './engine-timing.js';

const MODEL_FILE = 'test/fixtures/models/keras_h5/wml_mnist_cnn_keras213/mnistCNN.h5';
const LOADS = 5;
const REPEATS = 30;

async function measure(backend: TfBackend): Promise<string> {
  const initStarted = performance.now();
  await useTfjs(backend);
  const initMs = performance.now() - initStarted;
  const artifact = { ...(await readModelArtifact('layers/models/mnist-keras')), artifactPath: MODEL_FILE };
  const loads: number[] = [];
  const firstStarted = performance.now();
  let model = await kerasEngine.load(artifact);
  const firstLoadMs = performance.now() - firstStarted;
  for (let i = 0; i < LOADS; i++) {
    const started = performance.now();
    model = await kerasEngine.load(artifact);
    loads.push(performance.now() - started);
  }
  const batch = (n: number) => ({ conv2d_1_input: { dtype: 'float32' as const, shape: [n, 28, 28, 1], data: Float32Array.from({ length: n * 784 }, (_, i) => (i % 255) / 255) } });
  const one = await perRecordMs(model, batch(1), 1, REPEATS);
  const sixtyFour = await perRecordMs(model, batch(64), 64, Math.ceil(REPEATS / 3));
  return `| ${backend} | ${fmt(initMs)} | ${fmt(firstLoadMs)} | ${fmt(median(loads))} | ${fmt(one)} | ${fmt(sixtyFour)} |`;
}

const backend = process.argv[2] as TfBackend | undefined;
if (backend) {
  console.log(await measure(backend));
} else {
  const self = fileURLToPath(import.meta.url);
  console.log('| backend | backend init (ms) | first model load (ms) | later loads (ms, median of 5) | predict, batch 1 (ms/record) | predict, batch 64 (ms/record) |');
  console.log('|---|---|---|---|---|---|');
  for (const name of ['wasm', 'cpu'] as const) {
    process.stdout.write(execFileSync('npx', ['tsx', self, name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' } }).split('\n').filter((l) => l.startsWith('|')).join('\n') + '\n');
  }
}
