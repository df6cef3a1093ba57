/**
 * How a deployment's scorer function is built for its model's framework:
 * the entry that bundles only that framework's engine, the architecture it
 * runs on, and what ships beside the bundle. onnxruntime (ONNX, Caffe) is a
 * native layer on x86_64 (it aborts on arm64 Lambda); the TensorFlow.js
 * engines are pure WebAssembly and run on arm64 with no runtime layer.
 */
import { Architecture } from 'aws-cdk-lib/aws-lambda';
import { hasCurrentRewriteSync, KERAS_GRAPH, SAVED_MODEL_GRAPH } from '../../functions/scorer/engines/graph-rewrite/graph-rewrite-files.js';

export interface ScorerPackage {
  /** Relative to the project root. */
  readonly entry: string;
  readonly architecture: Architecture;
  /** Needs onnxruntime-node (its layer; for LocalStack, its files beside the bundle). */
  readonly onnxRuntime: boolean;
  /** Ships TensorFlow.js's wasm backend binaries beside the bundle. */
  readonly tfjsWasm: boolean;
  /** Import specifiers bundled from another file, relative to the project root (esbuild's alias). */
  readonly aliases: Readonly<Record<string, string>>;
  /** Packages left to run-time resolution. */
  readonly externalModules: readonly string[];
  /** The graph rewrite's folder (keras-graph/, tf-graph/) a model of this framework could start from but has no current one of. */
  readonly withoutRewrite?: string;
}

export interface ScorerBuildOptions {
  /** The deployment traces its AWS calls (the manifest's traceAwsCalls): only then is Powertools' tracer bundled. */
  readonly traceAwsCalls: boolean;
}

const TRACING_LEFT_OUT = 'functions/scorer/lambda/tracing-left-out.ts';

const ONNX_RUNTIME = { architecture: Architecture.X86_64, onnxRuntime: true, tfjsWasm: false } as const;
const TFJS_WASM = { architecture: Architecture.ARM_64, onnxRuntime: false, tfjsWasm: true } as const;

const PACKAGES: Readonly<Record<string, Pick<ScorerPackage, 'architecture' | 'onnxRuntime' | 'tfjsWasm'>>> = {
  onnx: ONNX_RUNTIME,
  caffe: ONNX_RUNTIME,
  keras: TFJS_WASM,
  tensorflow: TFJS_WASM,
  tfjs: TFJS_WASM,
};

/**
 * `modelDir`: the model folder on this machine. A model packaged with a
 * current graph rewrite gets the graph-only scorer: a Keras model's
 * (keras-graph/) leaves h5wasm and TensorFlow.js layers out of the bundle, a
 * SavedModel's (tf-graph/) the SavedModel decoder.
 */
export function scorerPackageFor(framework: string, modelDir?: string, options: ScorerBuildOptions = { traceAwsCalls: false }): ScorerPackage {
  const pkg = PACKAGES[framework];
  if (!pkg) throw new Error(`no scorer is built for framework "${framework}" (known: ${Object.keys(PACKAGES).join(', ')})`);
  const rewrite = [KERAS_GRAPH, SAVED_MODEL_GRAPH].find((r) => r.framework === framework);
  const rewritten = rewrite !== undefined && modelDir !== undefined && hasCurrentRewriteSync(modelDir, rewrite);
  return {
    entry: `functions/scorer/lambda/${rewritten ? `${framework}-graph` : framework}-scorer.ts`,
    ...(rewrite && !rewritten ? { withoutRewrite: rewrite.dir } : {}),
    ...pkg,
    aliases: {
      // esbuild resolves every import before dropping unused engines: onnxruntime must resolve to the runtime's
      // copy (layer, or node_modules beside the bundle) where it is used, and stay out of the bundle everywhere.
      ...(pkg.onnxRuntime ? { 'onnxruntime-node': 'functions/scorer/lambda/onnxruntime-required.ts' } : {}),
      ...(options.traceAwsCalls ? {} : { '@aws-lambda-powertools/tracer': TRACING_LEFT_OUT, '@aws-lambda-powertools/tracer/middleware': TRACING_LEFT_OUT }),
    },
    externalModules: pkg.onnxRuntime ? [] : ['onnxruntime-node'],
  };
}

// Node has no wasm threads in TensorFlow.js: it runs the SIMD binary, or the plain one without SIMD.
export const TFJS_WASM_FILES = ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm'] as const;
