/**
 * onnxruntime-node as the ONNX and Caffe bundles import it (esbuild aliases
 * the package here): required at run time through CommonJS resolution from
 * the bundle, which finds the package in node_modules beside the bundle (the
 * LocalStack package carries it there) and otherwise follows NODE_PATH to the
 * runtime layer (/opt/nodejs/node_modules), as ESM resolution would not.
 */
import { createRequire } from 'node:module';

const requireFromBundle = createRequire(import.meta.url);

const ort = requireFromBundle('onnxruntime-node') as typeof import('onnxruntime-node');

export default ort;
