/**
 * ONNX models on onnxruntime-node. The signature comes from the session's own
 * metadata; symbolic dimensions (e.g. "N") become free dimensions.
 */
import ort from 'onnxruntime-node';
import { ModelLoadError, PredictionError, describeError } from '../domain/errors.js';
import type { ModelArtifact } from '../models/model-artifact.js';
import type { DType, Engine, Model, Signature, Tensor, TensorMap, TensorSpec } from './engine.js';

const SUPPORTED_DTYPES: readonly string[] = ['float32', 'float64', 'int32', 'int64', 'uint8', 'bool'];

/**
 * Warnings (e.g. about old opsets) are not actionable for a user scoring records.
 * onnxruntime's worker threads spin between runs by default: a scorer alternates
 * predictions with S3 and DynamoDB calls, so spinning only burns CPU the I/O
 * needs (`npx tsx bench/onnx-spinning.ts`: ~2.6 ms of CPU per 0.2 ms prediction
 * with 2 ms pauses between runs, ~0.5 ms without). Threads still share one
 * large prediction.
 */
export const SESSION_OPTIONS: ort.InferenceSession.SessionOptions = {
  logSeverityLevel: 3,
  extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
};

export const onnxEngine: Engine = {
  async load(artifact: ModelArtifact): Promise<Model> {
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(artifact.artifactPath, SESSION_OPTIONS);
    } catch (error) {
      throw new ModelLoadError(`onnxruntime cannot load ${artifact.artifactPath}: ${describeError(error)}`, { cause: error });
    }
    return createOnnxModel(session, artifact.artifactPath);
  },
};

/** Also used by engines that translate their nets to ONNX (Caffe). */
export async function loadOnnxBytes(bytes: Uint8Array, origin: string): Promise<Model> {
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(bytes, SESSION_OPTIONS);
  } catch (error) {
    throw new ModelLoadError(`onnxruntime cannot load the graph built from ${origin}: ${describeError(error)}`, { cause: error });
  }
  return createOnnxModel(session, origin);
}

function createOnnxModel(session: ort.InferenceSession, origin: string): Model {
  const signature: Signature = Object.freeze({
    inputs: session.inputMetadata.map((m) => toSpec(m, origin)),
    outputs: session.outputMetadata.map((m) => toSpec(m, origin)),
  });
  return {
    signature,
    async predict(inputs: TensorMap): Promise<TensorMap> {
      const feeds: Record<string, ort.Tensor> = {};
      for (const [name, tensor] of Object.entries(inputs)) {
        feeds[name] = new ort.Tensor(tensor.dtype, tensor.data, tensor.shape);
      }
      let results: ort.InferenceSession.ReturnType;
      try {
        results = await session.run(feeds);
      } catch (error) {
        throw new PredictionError(`onnxruntime failed to run ${origin}: ${describeError(error)}`, { cause: error });
      }
      const outputs: Record<string, Tensor> = {};
      for (const spec of signature.outputs) {
        const value = results[spec.name] as ort.Tensor;
        outputs[spec.name] = { dtype: spec.dtype, shape: value.dims, data: value.data as Tensor['data'] };
      }
      return outputs;
    },
  };
}

function toSpec(meta: ort.InferenceSession.ValueMetadata, origin: string): TensorSpec {
  if (!meta.isTensor) throw new ModelLoadError(`${origin}: value "${meta.name}" is not a tensor; only tensor inputs and outputs are supported`);
  if (!SUPPORTED_DTYPES.includes(meta.type)) {
    throw new ModelLoadError(`${origin}: tensor "${meta.name}" has dtype ${meta.type}; supported: ${SUPPORTED_DTYPES.join(', ')}`);
  }
  return Object.freeze({
    name: meta.name,
    dtype: meta.type as DType,
    shape: meta.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : null)),
  });
}
