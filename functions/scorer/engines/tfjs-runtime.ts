/**
 * TensorFlow.js, set up once per process. The wasm backend is the default: it
 * works offline, ships as a small .wasm file and is several times faster than
 * the pure-JS cpu backend. `@tensorflow/tfjs-node` is used only when it
 * happens to be installed (an optional accelerator, never required).
 */
import * as tf from '@tensorflow/tfjs-core';
// Named imports on purpose: bundlers drop a bare import of these packages (their
// `sideEffects` lists omit the Node entry points), leaving the backends unregistered.
import { version_cpu } from '@tensorflow/tfjs-backend-cpu';
import { version_wasm } from '@tensorflow/tfjs-backend-wasm';

export const TFJS_BACKEND_VERSIONS = Object.freeze({ cpu: version_cpu, wasm: version_wasm });

export type TfBackend = 'wasm' | 'cpu' | 'tensorflow';

// A variable, so bundlers do not try to resolve the optional package.
const NATIVE_PACKAGE = '@tensorflow/tfjs-node';

let current: Promise<TfBackend> | undefined;

/** Resolves once a backend is active; `preferred` switches backends (the benchmark compares them). */
export function useTfjs(preferred?: TfBackend): Promise<TfBackend> {
  if (!current || preferred) current = activate(preferred);
  return current;
}

async function activate(preferred?: TfBackend): Promise<TfBackend> {
  const order: TfBackend[] = preferred ? [preferred] : ['tensorflow', 'wasm', 'cpu'];
  for (const name of order) {
    if (name === 'tensorflow' && !(await nativeBackendInstalled())) continue;
    if (await tf.setBackend(name)) {
      await tf.ready();
      return name;
    }
  }
  throw new Error(`no TensorFlow.js backend among ${order.join(', ')} could start`);
}

async function nativeBackendInstalled(): Promise<boolean> {
  try {
    await import(NATIVE_PACKAGE);
    return true;
  } catch {
    return false;
  }
}

export { tf };
