/**
 * An Embedding layer looks its input up as row indices: anything but an
 * integer in [0, input_dim) is a wrong record, not a failed prediction.
 * Inputs that feed an Embedding directly are checked before predicting, so
 * the record gets an INVALID_VALUE error naming the input and the range.
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import { InvalidRecordError } from '../../domain/errors.js';
import { indexPath } from '../../formats/tensor-json.js';
import type { TensorMap } from '../engine.js';

export interface EmbeddingInput {
  readonly input: string;
  readonly layer: string;
  readonly inputDim: number;
}

/** The model inputs consumed by an Embedding layer, with that layer's vocabulary size. */
export function findEmbeddingInputs(model: tfl.LayersModel, inputNames: readonly string[]): EmbeddingInput[] {
  const found: EmbeddingInput[] = [];
  for (const layer of model.layers) {
    if (layer.getClassName() !== 'Embedding') continue;
    const inputDim = Number(layer.getConfig()['inputDim']);
    if (!Number.isInteger(inputDim)) continue;
    for (const node of layer.inboundNodes) {
      for (const tensor of node.inputTensors) {
        const index = model.inputs.indexOf(tensor);
        if (index >= 0) found.push({ input: inputNames[index]!, layer: layer.name, inputDim });
      }
    }
  }
  return found;
}

export function checkEmbeddingIndices(embeddings: readonly EmbeddingInput[], inputs: TensorMap): void {
  for (const { input, layer, inputDim } of embeddings) {
    const tensor = inputs[input];
    if (!tensor) continue;
    const data = tensor.data;
    for (let i = 0; i < data.length; i++) {
      const value = Number(data[i]);
      if (Number.isInteger(value) && value >= 0 && value < inputDim) continue;
      throw new InvalidRecordError(
        'INVALID_VALUE',
        `input "${input}" at ${indexPath(i, tensor.shape)}: ${value} is not an index of embedding layer "${layer}" (integers 0 to ${inputDim - 1})`,
      );
    }
  }
}
