/**
 * ONNX models on onnxruntime-node. The signature comes from the session's own
 * metadata; symbolic dimensions (e.g. "N") become free dimensions.
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import ort from 'onnxruntime-node';
import { OpsetUpgradeError, upgradeOnnxOpset, type OpsetUpgrade } from '../../onnx-proto/onnx-opset-upgrade.js';
import { ProtobufError } from '../../protobuf/protobuf-reader.js';
import { ModelLoadError, PredictionError, describeError } from '../domain/errors.js';
import type { ModelArtifact } from '../models/model-artifact.js';
import { withoutModelPaths } from './model-paths.js';
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
    // Named by model and file, never by server path: load errors reach records, logs and the CLI.
    const origin = `model "${artifact.meta.name}" (${basename(artifact.meta.artifact)})`;
    let bytes: Uint8Array;
    try {
      bytes = await readFile(artifact.artifactPath);
    } catch (error) {
      throw new ModelLoadError(`cannot read ${origin}: ${withoutModelPaths(describeError(error), artifact)}`, { cause: error });
    }
    const { model: upgraded, notes } = upgradeOldOpset(bytes, origin);
    let session: ort.InferenceSession;
    try {
      // From bytes, so that onnxruntime's own messages cannot name the file's path either.
      session = await ort.InferenceSession.create(upgraded, SESSION_OPTIONS);
    } catch (error) {
      throw new ModelLoadError(`onnxruntime cannot load ${origin}: ${withoutModelPaths(describeError(error), artifact)}`, { cause: error });
    }
    return { ...createOnnxModel(session, origin), notes };
  },
};

/**
 * onnxruntime has no kernels for some operator versions older than opset 7
 * (e.g. Gemm-6, from PyTorch 0.3 exports): such models are rewritten to opset 7
 * at load, and the rewrite is noted for `models show` and the load log.
 */
function upgradeOldOpset(bytes: Uint8Array, origin: string): { model: Uint8Array; notes: string[] } {
  let upgrade: OpsetUpgrade | undefined;
  try {
    upgrade = upgradeOnnxOpset(bytes);
  } catch (error) {
    if (error instanceof OpsetUpgradeError) {
      throw new ModelLoadError(`${origin} uses opset ${error.fromOpset}, older than onnxruntime runs, and cannot be upgraded to opset ${error.toOpset}: ${error.problems.join('; ')}`, { cause: error });
    }
    // Not readable as a ModelProto: onnxruntime says what is wrong with it.
    if (error instanceof ProtobufError) return { model: bytes, notes: [] };
    throw error;
  }
  if (!upgrade) return { model: bytes, notes: [] };
  const summary = upgrade.rewrites.length > 0 ? `: ${upgrade.rewrites.join('; ')}` : ' (no operator needed a rewrite)';
  return { model: upgrade.bytes, notes: [`upgraded at load from ONNX opset ${upgrade.fromOpset} to ${upgrade.toOpset}, which onnxruntime runs${summary}`] };
}

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
