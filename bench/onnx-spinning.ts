/**
 * CPU spent per onnxruntime run when runs alternate with pauses, as a
 * scorer's alternate with S3 and DynamoDB calls: with onnxruntime's default
 * spinning worker threads, and with the engine's session options (no spinning).
 *
 *   npx tsx bench/onnx-spinning.ts
 */
import ort from 'onnxruntime-node';
import { SESSION_OPTIONS } from '../functions/scorer/engines/onnx-engine.js';
import { fmt } from './engine-timing.js';

const MODEL = 'layers/models/mnist-cnn-onnx/mnist-cnn.onnx';
const RUNS = 300;
const PAUSE_MS = 2;

console.log(`| session options | CPU per run, runs ${PAUSE_MS} ms apart (ms) | wall per run, back to back (ms) |`);
console.log('|---|---|---|');
for (const [name, options] of [['onnxruntime defaults (spinning)', { logSeverityLevel: 3 }], ['the engine\'s (no spinning)', SESSION_OPTIONS]] as const) {
  const session = await ort.InferenceSession.create(MODEL, options as ort.InferenceSession.SessionOptions);
  const feeds = { [session.inputNames[0]!]: new ort.Tensor('float32', new Float32Array(784).fill(0.5), [1, 28, 28, 1]) };
  for (let i = 0; i < 50; i++) await session.run(feeds);
  const wallStarted = performance.now();
  for (let i = 0; i < RUNS; i++) await session.run(feeds);
  const wallMs = (performance.now() - wallStarted) / RUNS;
  const cpu = process.cpuUsage();
  for (let i = 0; i < RUNS; i++) {
    await session.run(feeds);
    await new Promise((resolve) => setTimeout(resolve, PAUSE_MS));
  }
  const used = process.cpuUsage(cpu);
  console.log(`| ${name} | ${fmt((used.user + used.system) / 1000 / RUNS)} | ${fmt(wallMs)} |`);
  await session.release();
}
