/**
 * Engines are resolved on demand: a model loads with its framework's engine
 * only, and a scorer built for one framework refuses the others' models.
 * Which runtimes a load pulls in is checked in a fresh process each (vitest
 * shares one module graph between tests).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { createModelLoader } from '../../functions/scorer/engines/engine-registry.js';
import { kerasSupport, onnxSupport } from '../../functions/scorer/engines/framework-engines.js';
import { MODELS_ROOT, REPO_ROOT } from '../support/paths.js';

async function runtimesLoadedBy(model: string): Promise<{ signature: unknown; onnxruntime: boolean; tfjs: boolean }> {
  const script = `
    import { createRequire } from 'node:module';
    import { loadModel } from './functions/scorer/engines/framework-engines.ts';
    const loaded = await loadModel(${JSON.stringify(`${MODELS_ROOT}/${model}`)});
    const onnxruntime = Object.keys(createRequire(import.meta.url).cache).some((path) => path.includes('onnxruntime-node'));
    const tfjs = '_tfengine' in globalThis;
    console.log(JSON.stringify({ signature: loaded.model.signature, onnxruntime, tfjs }));
  `;
  const { stdout } = await promisify(execFile)('node', ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: REPO_ROOT, timeout: 60_000 });
  return JSON.parse(stdout.trim().split('\n').pop()!);
}

describe('the engine registry', () => {
  it('loads an ONNX model without loading TensorFlow.js', async () => {
    const r = await runtimesLoadedBy('mnist-cnn-onnx');
    expect(r).toMatchObject({ onnxruntime: true, tfjs: false });
    expect(r.signature).toMatchObject({ inputs: [expect.objectContaining({ dtype: 'float32' })] });
  }, 60_000);

  it('loads a Keras model without loading onnxruntime', async () => {
    expect(await runtimesLoadedBy('mnist-keras')).toMatchObject({ onnxruntime: false, tfjs: true });
  }, 60_000);

  it('refuses a model of a framework the scorer was not built with, naming the ones it has', async () => {
    const onnxOnly = createModelLoader({ onnx: onnxSupport });
    await expect(onnxOnly(`${MODELS_ROOT}/mnist-keras`)).rejects.toThrow(/no keras engine \(it supports onnx\)/);
    const kerasOnly = createModelLoader({ keras: kerasSupport });
    await expect(kerasOnly(`${MODELS_ROOT}/mnist-cnn-onnx`)).rejects.toThrow(/no onnx engine \(it supports keras\)/);
  });
});
