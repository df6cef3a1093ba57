/**
 * Reading a record into model inputs: the general path (JSON.parse, then the
 * validating walk over the nested arrays) against the packed fast path
 * (functions/scorer/formats/packed-json.ts), per sample record.
 *
 *   npx tsx bench/record-decoding.ts
 */
import { readFileSync } from 'node:fs';
import { parseRecord } from '../functions/scorer/domain/record-bytes.js';
import { loadModel } from '../functions/scorer/engines/framework-engines.js';
import { parsePackedRecord } from '../functions/scorer/formats/packed-json.js';
import { fmt, median } from './engine-timing.js';

const REPEATS = 2000;
// A scorer container reads thousands of records: time the paths once V8 has optimised them (the packed one needs ~2000 calls).
const WARM_UP = 3000;

function timeUs(fn: () => unknown): number {
  for (let i = 0; i < WARM_UP; i++) fn();
  const samples: number[] = [];
  for (let i = 0; i < REPEATS; i++) {
    const started = performance.now();
    fn();
    samples.push(performance.now() - started);
  }
  return median(samples) * 1000;
}

console.log('| record | JSON.parse (µs) | + validating walk (µs) | packed path, parse + decode (µs) |');
console.log('|---|---|---|---|');
// The guide's img1.json holds float32 pixels written as doubles (16–17 digits, like 0.2705882489681244).
for (const [dir, sample] of [['layers/models/mnist-cnn-onnx', 'samples/mnist-onnx/seven-drawn.json'], ['layers/models/mnist-keras', 'samples/mnist-keras/seven-drawn.json'], ['layers/models/mnist-keras', 'test/fixtures/payloads/keras/img1.json']] as const) {
  const { format, model } = await loadModel(dir);
  const bytes = readFileSync(sample);
  const parseUs = timeUs(() => parseRecord(bytes));
  const record = parseRecord(bytes);
  const walkUs = timeUs(() => format.decode(record, model.signature));
  const packedUs = timeUs(() => format.decode(parsePackedRecord(bytes)!, model.signature));
  console.log(`| ${sample} (${(bytes.length / 1024).toFixed(1)} KiB) | ${fmt(parseUs)} | ${fmt(walkUs)} | ${fmt(packedUs)} |`);
}
