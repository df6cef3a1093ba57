/**
 * onnxruntime-node as the ONNX and Caffe bundles import it (esbuild aliases
 * the package here): required through CommonJS resolution, which follows
 * NODE_PATH to the runtime layer (/opt/nodejs/node_modules) from an ES module
 * bundle, as ESM resolution would not.
 */
import { createRequire } from 'node:module';

const requireFromLayer = createRequire(import.meta.url);

const ort = requireFromLayer('onnxruntime-node') as typeof import('onnxruntime-node');

export default ort;
