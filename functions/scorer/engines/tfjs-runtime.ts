/**
 * TensorFlow.js, set up once per process. The wasm backend is the default: it
 * works offline, ships as a small .wasm file and is several times faster than
 * the pure-JS cpu backend. `@tensorflow/tfjs-node` is used only when it
 * happens to be installed (an optional accelerator, never required).
 *
 * The cpu backend is resolved at run time, not bundled: the Lambda bundles
 * leave it out (importing it and registering its kernels cost about 10 ms of
 * cold start, BENCHMARKS.md), so a scorer there runs on wasm alone. Where the
 * project's packages are installed (CLI, console, local stack) it is the
 * fallback backend and the reference list of kernels tfjs-executor.ts checks
 * a graph against when the model is added.
 */
import * as tf from '@tensorflow/tfjs-core';
// A named import, used where the backend is chosen: bundlers drop a bare import of this
// package (its `sideEffects` list omits the Node entry point), leaving the backend unregistered.
import { version_wasm } from '@tensorflow/tfjs-backend-wasm';

export type TfBackend = 'wasm' | 'cpu' | 'tensorflow';

// Variables, so bundlers leave these packages to run-time resolution.
const NATIVE_PACKAGE = '@tensorflow/tfjs-node';
const CPU_PACKAGE = '@tensorflow/tfjs-backend-cpu';

let current: Promise<TfBackend> | undefined;
let cpuBackend: Promise<boolean> | undefined;

/** Resolves once a backend is active; `preferred` switches backends (the benchmark compares them). */
export function useTfjs(preferred?: TfBackend): Promise<TfBackend> {
  if (!current || preferred) current = activate(preferred);
  return current;
}

/** Registers the cpu backend where this process can resolve it; false in a Lambda bundle. */
export function loadCpuBackend(): Promise<boolean> {
  cpuBackend ??= import(CPU_PACKAGE).then(() => true, () => false);
  return cpuBackend;
}

async function activate(preferred?: TfBackend): Promise<TfBackend> {
  const order: TfBackend[] = preferred ? [preferred] : ['tensorflow', 'wasm', 'cpu'];
  for (const name of order) {
    if (name === 'tensorflow' && !(await importable(NATIVE_PACKAGE))) continue;
    if (name === 'wasm' && !version_wasm) continue;
    if (name === 'cpu' && !(await loadCpuBackend())) continue;
    if (await tf.setBackend(name)) {
      await tf.ready();
      return name;
    }
  }
  throw new Error(`no TensorFlow.js backend among ${order.join(', ')} could start`);
}

async function importable(specifier: string): Promise<boolean> {
  try {
    await import(specifier);
    return true;
  } catch {
    return false;
  }
}

export { tf };
