/**
 * Engine overhead: our predict path for one record file (parse JSON +
 * validate + predict + encode the outcome) against the bare engine call on
 * the same input already in a tensor: onnxruntime's session.run for ONNX
 * (with the engine's session options); for the other frameworks our
 * Model.predict (tensor in, typed array out), the thinnest call their engines
 * offer (TensorFlow.js for Keras and TensorFlow, onnxruntime for Caffe, whose
 * nets are translated to ONNX at load). Reported per model: the round with
 * the median ratio, and the range over the rounds; then where our path's
 * time goes, step by step.
 *
 *   npx tsx bench/engine-overhead.ts
 */
import { readFileSync } from 'node:fs';
import ort from 'onnxruntime-node';
import { scoreRecord } from '../functions/scorer/domain/score-record.js';
import type { LoadedModel } from '../functions/scorer/engines/engine-registry.js';
import { loadModel } from '../functions/scorer/engines/framework-engines.js';
import { SESSION_OPTIONS } from '../functions/scorer/engines/onnx-engine.js';
import { parseRecord } from '../functions/scorer/domain/record-bytes.js';
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

const STEP_SAMPLES = 3000;

/**
 * Our path's steps timed one by one, each sample right after a bare call, so
 * caches and branch predictors are as the prediction leaves them (timed on
 * their own, in a tight loop, the steps look faster than they are in place).
 */
async function timeSteps(bare: () => Promise<unknown>, bytes: Uint8Array, loaded: LoadedModel): Promise<Record<string, number>> {
  const { format, model } = loaded;
  const samples: Record<string, number[]> = { parse: [], decode: [], predict: [], encode: [], whole: [] };
  const time = async <T>(step: string, record: boolean, fn: () => T | Promise<T>): Promise<T> => {
    const started = performance.now();
    const result = await fn();
    if (record) samples[step]!.push(performance.now() - started);
    return result;
  };
  for (let i = 0; i < WARM_UP + STEP_SAMPLES; i++) {
    const record = i >= WARM_UP;
    await bare();
    const parsed = await time('parse', record, () => parseRecord(bytes));
    const inputs = await time('decode', record, () => format.decode(parsed, model.signature));
    const outputs = await time('predict', record, () => model.predict(inputs));
    await time('encode', record, () => format.encode('record.json', outputs, model.signature));
    await bare();
    await time('whole', record, () => scoreRecord(bytes, 'record.json', loaded));
  }
  return Object.fromEntries(Object.entries(samples).map(([step, s]) => [step, median(s) * 1000]));
}

const steps: string[] = [];
console.log(`| model | record | bare call (ms) | our path: parse + validate + predict + encode (ms) | our path adds (µs) | ratio (median of ${ROUNDS} rounds) | rounds' ratios |`);
console.log('|---|---|---|---|---|---|---|');
const CASES = [
  ['layers/models/mnist-cnn-onnx', 'samples/mnist-onnx/seven-drawn.json'],
  ['layers/models/mnist-keras', 'samples/mnist-keras/seven-drawn.json'],
  ['layers/models/lenet-caffe', 'samples/mnist-caffe/seven-drawn.json'],
  ['layers/models/mnist-tensorflow', 'samples/mnist-tensorflow/mnist1-digit.json'],
] as const;

for (const [dir, sample] of CASES) {
  const loaded = await loadModel(dir);
  const bytes = readFileSync(sample);
  const inputs = loaded.format.decode(parseRecord(bytes), loaded.model.signature);
  let bare: () => Promise<unknown>;
  if (loaded.artifact.meta.framework === 'onnx') {
    const session = await ort.InferenceSession.create(loaded.artifact.artifactPath, SESSION_OPTIONS);
    const feeds = Object.fromEntries(Object.entries(inputs).map(([name, t]) => [name, new ort.Tensor(t.dtype, t.data, [...t.shape])]));
    bare = () => session.run(feeds);
  } else {
    bare = () => loaded.model.predict(inputs);
  }
  const rounds = await timeBoth(bare, () => scoreRecord(bytes, 'record.json', loaded));
  const ratios = rounds.map((r) => r.oursMs / r.bareMs);
  const middle = rounds[ratios.indexOf(median(ratios))]!;
  const spread = `${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}`;
  const us = await timeSteps(bare, bytes, loaded);
  const rest = us['whole']! - us['parse']! - us['decode']! - us['predict']! - us['encode']!;
  steps.push(`| ${dir.split('/').pop()} | ${us['parse']!.toFixed(1)} | ${us['decode']!.toFixed(1)} | ${us['predict']!.toFixed(0)} | ${us['encode']!.toFixed(1)} | ${rest.toFixed(1)} | ${us['whole']!.toFixed(0)} |`);
  console.log(`| ${dir.split('/').pop()} | ${sample.split('/').pop()} (${(bytes.length / 1024).toFixed(1)} KiB) | ${fmt(middle.bareMs)} | ${fmt(middle.oursMs)} | ${((middle.oursMs - middle.bareMs) * 1000).toFixed(0)} | ${(middle.oursMs / middle.bareMs).toFixed(2)}x | ${spread} |`);
}

console.log(`\nWhere our path's time goes (µs, median of ${STEP_SAMPLES} records, each step timed right after a bare call):\n`);
console.log('| model | read the record | decode to the input tensor | engine predict | encode the outcome | the rest (whole − steps) | whole path |');
console.log('|---|---|---|---|---|---|---|');
for (const line of steps) console.log(line);
