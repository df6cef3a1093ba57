/**
 * Cold start per framework, in a fresh process each: module import + model
 * load until the first prediction is back, measured from process start
 * (performance.timeOrigin), plus that process's peak RSS.
 *
 *   npx tsx bench/cold-start.ts
 */
import { execFileSync } from 'node:child_process';

const MODELS: Record<string, string> = {
  onnx: 'layers/models/mnist-cnn-onnx',
  keras: 'layers/models/mnist-keras',
  caffe: 'layers/models/lenet-caffe',
  tensorflow: 'layers/models/mnist-tensorflow',
};

const PROBE = `
const importStarted = performance.now();
const { loadModel } = await import('./functions/scorer/engines/engine-registry.ts');
const imported = performance.now();
const loaded = await loadModel(process.argv[1]);
const inputs = {};
for (const spec of loaded.model.signature.inputs) {
  const shape = spec.shape.map((d) => d ?? 1);
  inputs[spec.name] = { dtype: 'float32', shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) };
}
await loaded.model.predict(inputs);
const done = performance.now();
console.log(JSON.stringify({ importMs: imported - importStarted, loadAndFirstPredictMs: done - imported, totalFromProcessStartMs: done, peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024) }));
`;

console.log('| framework (model) | imports (ms) | load + first predict (ms) | process start → first prediction (ms) | peak RSS (MB) |');
console.log('|---|---|---|---|---|');
for (const [framework, dir] of Object.entries(MODELS)) {
  const out = execFileSync('node', ['--import', 'tsx', '--input-type=module', '-e', PROBE, dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' } });
  const r = JSON.parse(out.trim().split('\n').pop()!) as Record<string, number>;
  console.log(`| ${framework} (${dir.split('/').pop()}) | ${r['importMs']!.toFixed(0)} | ${r['loadAndFirstPredictMs']!.toFixed(0)} | ${r['totalFromProcessStartMs']!.toFixed(0)} | ${r['peakRssMb']} |`);
}
