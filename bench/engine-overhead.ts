/**
 * Engine overhead: our predict path for one record file (parse JSON +
 * validate + predict + encode the outcome) against the bare engine call on
 * the same input already in a tensor: onnxruntime's session.run for ONNX
 * (with the engine's session options);
 * for TensorFlow.js, our Model.predict (tensor in, typed array out), the
 * thinnest call the Keras engine offers.
 *
 *   npx tsx bench/engine-overhead.ts
 */
import { readFileSync } from 'node:fs';
import ort from 'onnxruntime-node';
import { scoreRecord } from '../functions/scorer/domain/score-record.js';
import { loadModel } from '../functions/scorer/engines/engine-registry.js';
import { SESSION_OPTIONS } from '../functions/scorer/engines/onnx-engine.js';
import { decodeTensor } from '../functions/scorer/formats/tensor-json.js';
import { fmt, median } from './engine-timing.js';

const REPEATS = 1000;
// A scorer container runs the same path thousands of times: time it once V8 has optimised it, as the bare call's native code is from the start.
const WARM_UP = 300;

/** Medians of both calls, timed alternately so drift on this shared machine hits both alike. */
async function timeBoth(bare: () => Promise<unknown>, ours: () => Promise<unknown>): Promise<[number, number]> {
  for (let i = 0; i < WARM_UP; i++) {
    await bare();
    await ours();
  }
  const bareSamples: number[] = [];
  const ourSamples: number[] = [];
  for (let i = 0; i < REPEATS; i++) {
    for (const [fn, samples] of [[bare, bareSamples], [ours, ourSamples]] as const) {
      const started = performance.now();
      await fn();
      samples.push(performance.now() - started);
    }
  }
  return [median(bareSamples), median(ourSamples)];
}

console.log('| model | record | bare call (ms) | our path: parse + validate + predict + encode (ms) | ratio |');
console.log('|---|---|---|---|---|');
for (const [dir, sample] of [['layers/models/mnist-cnn-onnx', 'samples/mnist-onnx/seven-drawn.json'], ['layers/models/mnist-keras', 'samples/mnist-keras/seven-drawn.json']] as const) {
  const loaded = await loadModel(dir);
  const bytes = readFileSync(sample);
  const spec = loaded.model.signature.inputs[0]!;
  const record = JSON.parse(bytes.toString()) as Record<string, unknown>;
  const tensor = decodeTensor(record[spec.name] ?? record['values'], spec, spec.name);
  let bare: () => Promise<unknown>;
  if (loaded.artifact.meta.framework === 'onnx') {
    const session = await ort.InferenceSession.create(loaded.artifact.artifactPath, SESSION_OPTIONS);
    const feeds = { [spec.name]: new ort.Tensor('float32', tensor.data as Float32Array, [...tensor.shape]) };
    bare = () => session.run(feeds);
  } else {
    bare = () => loaded.model.predict({ [spec.name]: tensor });
  }
  const [bareMs, oursMs] = await timeBoth(bare, () => scoreRecord(bytes, 'seven-drawn.json', loaded));
  console.log(`| ${dir.split('/').pop()} | ${sample.split('/').pop()} (${(bytes.length / 1024).toFixed(1)} KiB) | ${fmt(bareMs)} | ${fmt(oursMs)} | ${(oursMs / bareMs).toFixed(2)}x |`);
}
