/**
 * Runs a frozen graph on TensorFlow.js's graph executor (GraphModel) and
 * adapts it to the engine's Model: inputs and outputs by signature key,
 * converted between the signature's dtypes and TensorFlow.js's
 * float32 / int32 / bool. The GraphModel is built once; `predict` only feeds,
 * executes and reads back, disposing every tensor it made.
 */
import { loadGraphModelSync, type GraphModel } from '@tensorflow/tfjs-converter';
import { ModelLoadError, PredictionError, describeError } from '../../domain/errors.js';
import type { DType, ExampleSignature, Model, Signature, Tensor, TensorData, TensorMap, TensorSpec } from '../engine.js';
import { loadCpuBackend, tf, useTfjs } from '../tfjs-runtime.js';

export interface TensorBinding {
  readonly spec: TensorSpec;
  /** The graph tensor: a node name (output 0) or `node:k`. */
  readonly tensor: string;
}

export interface ExecutableGraph {
  readonly artifacts: tf.io.ModelArtifacts;
  readonly inputs: readonly TensorBinding[];
  readonly outputs: readonly TensorBinding[];
  /** Names the model in messages. */
  readonly origin: string;
  /** What loading inferred or adapted, for the load log and `models show`. */
  readonly notes?: readonly string[];
  readonly examples?: ExampleSignature;
}

/** TensorFlow.js op categories whose graphs only run through executeAsync. */
const ASYNC_CATEGORIES = new Set(['control', 'dynamic', 'hash_table']);

export async function createTfjsModel(graph: ExecutableGraph): Promise<Model> {
  let backend: string;
  try {
    // The process-wide backend choice (wasm, else cpu) shared with the Keras engine.
    backend = await useTfjs();
  } catch (error) {
    throw new ModelLoadError(`${graph.origin}: ${describeError(error)}`, { cause: error });
  }
  let model: GraphModel<tf.io.IOHandlerSync>;
  try {
    model = loadGraphModelSync(graph.artifacts);
  } catch (error) {
    throw new ModelLoadError(`TensorFlow.js cannot load the graph of ${graph.origin}: ${describeError(error)}`, { cause: error });
  }
  const ops = executedOps(model, graph.outputs.map((o) => o.tensor));
  const unsupported = [...ops.entries()].filter(([, category]) => category === undefined).map(([op]) => op).sort();
  if (unsupported.length > 0) {
    model.dispose();
    throw new ModelLoadError(`${graph.origin} uses op type(s) that TensorFlow.js cannot run: ${unsupported.join(', ')}`);
  }
  // The cpu backend's kernels are the reference; a Lambda bundle has none, and relies on this check made when the model was added.
  const kernelless = backend !== 'cpu' && (await loadCpuBackend()) ? [...ops.keys()].filter((op) => lacksKernel(op, backend)).sort() : [];
  if (kernelless.length > 0) {
    model.dispose();
    throw new ModelLoadError(`${graph.origin} uses op type(s) that the TensorFlow.js ${backend} backend has no kernel for: ${kernelless.join(', ')}`);
  }
  const runAsync = [...ops.values()].some((c) => c !== undefined && ASYNC_CATEGORIES.has(c));
  // Only these stay referenced after load: the artifacts (a copy of every weight) can be collected.
  const { inputs: inputBindings, outputs: outputBindings, origin } = graph;
  const specs = { inputs: inputBindings.map((b) => b.spec), outputs: outputBindings.map((b) => b.spec) };
  const signature: Signature = Object.freeze(graph.examples ? { ...specs, examples: graph.examples } : specs);
  const notes = [
    ...(graph.notes ?? []),
    ...signature.inputs.filter((s) => s.unknownRank).map((s) => `input "${s.name}" has no declared shape: records of any shape are accepted (dtype ${s.dtype} is checked)`),
  ];
  const outputNames = outputBindings.map((b) => b.tensor);
  // An output that is a constant comes back as the model's own weight tensor: never dispose those.
  const weightIds = new Set(Object.values(model.weights).flatMap((tensors) => tensors.map((t) => t.id)));

  return {
    signature,
    notes,
    async predict(inputs: TensorMap): Promise<TensorMap> {
      const feeds: Record<string, tf.Tensor> = {};
      let results: tf.Tensor[] = [];
      try {
        for (const binding of inputBindings) {
          const tensor = inputs[binding.spec.name];
          if (!tensor) throw new PredictionError(`${origin}: input "${binding.spec.name}" is missing`);
          feeds[binding.tensor] = toTfjsTensor(tensor, binding.spec.name);
        }
        const raw = runAsync ? await model.executeAsync(feeds, outputNames) : model.execute(feeds, outputNames);
        results = Array.isArray(raw) ? raw : [raw];
        const outputs: Record<string, Tensor> = {};
        for (const [i, binding] of outputBindings.entries()) {
          const result = results[i]!;
          outputs[binding.spec.name] = { dtype: binding.spec.dtype, shape: result.shape, data: fromTfjsData(await result.data(), binding.spec.dtype) };
        }
        return outputs;
      } catch (error) {
        if (error instanceof PredictionError) throw error;
        throw new PredictionError(`TensorFlow.js failed to run ${origin}: ${describeError(error)}`, { cause: error });
      } finally {
        tf.dispose(Object.values(feeds));
        tf.dispose(results.filter((t) => !weightIds.has(t.id)));
      }
    },
  };
}

/** The shape of the executor internals read below (TensorFlow.js 4.x, not public API). */
interface ExecutorNode {
  readonly op: string;
  readonly category?: string;
  readonly inputs: readonly ExecutorNode[];
  readonly name: string;
}
interface ExecutorGraph {
  readonly nodes: Readonly<Record<string, ExecutorNode>>;
  readonly functions?: Readonly<Record<string, ExecutorGraph>>;
}

/**
 * Op type → TensorFlow.js category (undefined = no kernel mapping) for every
 * node the outputs depend on, and for every node of the functions that
 * control-flow ops run. TensorFlow.js itself only notices an unmapped op when
 * it reaches it at run time, and then names only that one; the deployment must
 * fail at load instead, naming them all. The category is what its op mapper
 * attached to each node, read from the loaded executor.
 */
function executedOps(model: GraphModel<tf.io.IOHandlerSync>, outputs: readonly string[]): Map<string, string | undefined> {
  const graph = (model as unknown as { executor?: { graph?: ExecutorGraph } }).executor?.graph;
  if (!graph?.nodes) throw new ModelLoadError('cannot inspect the TensorFlow.js graph executor (unexpected TensorFlow.js version)');
  const ops = new Map<string, string | undefined>();
  const seen = new Set<ExecutorNode>();
  const stack = outputs.map((o) => graph.nodes[o.replace(/:\d+$/, '')]).filter((n): n is ExecutorNode => n !== undefined);
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (seen.has(node)) continue;
    seen.add(node);
    ops.set(node.op, node.category);
    stack.push(...node.inputs);
  }
  for (const fn of Object.values(graph.functions ?? {})) {
    for (const node of Object.values(fn.nodes)) ops.set(node.op, node.category);
  }
  return ops;
}

/**
 * Most graph ops run one kernel of the same name. The wasm backend lacks a few
 * that the cpu backend has (Einsum, FFT, the Ragged ops...): such a model would
 * fail on every record, so it fails at load. Ops whose kernels carry other
 * names are not known to any backend under their op name and pass this check.
 */
function lacksKernel(op: string, backend: string): boolean {
  return tf.getKernel(op, backend) === undefined && tf.getKernel(op, 'cpu') !== undefined;
}

function toTfjsTensor(tensor: Tensor, key: string): tf.Tensor {
  const shape = [...tensor.shape];
  switch (tensor.dtype) {
    case 'float32':
      return tf.tensor(tensor.data as Float32Array, shape, 'float32');
    case 'float64':
      return tf.tensor(Float32Array.from(tensor.data as Float64Array), shape, 'float32');
    case 'int32':
      return tf.tensor(tensor.data as Int32Array, shape, 'int32');
    case 'uint8':
      return tf.tensor(Int32Array.from(tensor.data as Uint8Array), shape, 'int32');
    case 'bool':
      return tf.tensor(tensor.data as Uint8Array, shape, 'bool');
    case 'int64': {
      const data = tensor.data as BigInt64Array;
      const out = new Int32Array(data.length);
      for (let i = 0; i < data.length; i++) {
        const v = data[i]!;
        if (v > 2147483647n || v < -2147483648n) throw new PredictionError(`input "${key}": ${v} is outside the int32 range TensorFlow.js computes int64 inputs in`);
        out[i] = Number(v);
      }
      return tf.tensor(out, shape, 'int32');
    }
  }
}

function fromTfjsData(data: tf.DataTypeMap[keyof tf.DataTypeMap], dtype: DType): TensorData {
  const values = data as Float32Array | Int32Array | Uint8Array;
  switch (dtype) {
    case 'float32':
      return values instanceof Float32Array ? values : Float32Array.from(values);
    case 'float64':
      return Float64Array.from(values);
    case 'int32':
      return values instanceof Int32Array ? values : Int32Array.from(values);
    case 'int64':
      return BigInt64Array.from(values, (v) => BigInt(Math.trunc(v)));
    case 'uint8':
    case 'bool':
      return values instanceof Uint8Array ? values : Uint8Array.from(values);
  }
}
