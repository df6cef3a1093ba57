/**
 * Engine overhead: our predict path for one record file (parse JSON +
 * validate + predict + encode the outcome) against the bare engine call on
 * the same input already in a tensor: onnxruntime's session.run for ONNX
 * (with the engine's session options);
 * for TensorFlow.js, our Model.predict (tensor in, typed array out), the
 * thinnest call the Keras engine offers. Reported per model: the round with
 * the median ratio, and the range over the rounds.
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

const ROUNDS = 9;
const REPEATS = 400;
// A scorer container runs the same path thousands of times: time it once V8 has optimised it, as the bare call's native code is from the start.
const WARM_UP = 300;

interface Round {
  readonly bareMs: number;
  readonly oursMs: number;
}

/**
 * Both calls timed alternately (so drift on this shared machine hits both alike),
 * in rounds: a burst of load from a neighbour spoils a round, not the result.
 */
async function timeBoth(bare: () => Promise<unknown>, ours: () => Promise<unknown>): Promise<Round[]> {
  for (let i = 0; i < WARM_UP; i++) {
    await bare();
    await ours();
  }
  const rounds: Round[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const bareSamples: number[] = [];
    const ourSamples: number[] = [];
    for (let i = 0; i < REPEATS; i++) {
      for (const [fn, samples] of [[bare, bareSamples], [ours, ourSamples]] as const) {
        const started = performance.now();
        await fn();
        samples.push(performance.now() - started);
      }
    }
    rounds.push({ bareMs: median(bareSamples), oursMs: median(ourSamples) });
  }
  return rounds;
}

console.log(`| model | record | bare call (ms) | our path: parse + validate + predict + encode (ms) | our path adds (µs) | ratio (median of ${ROUNDS} rounds) | rounds' ratios |`);
console.log('|---|---|---|---|---|---|---|');
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
  const rounds = await timeBoth(bare, () => scoreRecord(bytes, 'seven-drawn.json', loaded));
  const ratios = rounds.map((r) => r.oursMs / r.bareMs);
  const middle = rounds[ratios.indexOf(median(ratios))]!;
  const spread = `${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}`;
  console.log(`| ${dir.split('/').pop()} | ${sample.split('/').pop()} (${(bytes.length / 1024).toFixed(1)} KiB) | ${fmt(middle.bareMs)} | ${fmt(middle.oursMs)} | ${((middle.oursMs - middle.bareMs) * 1000).toFixed(0)} | ${(middle.oursMs / middle.bareMs).toFixed(2)}x | ${spread} |`);
}
