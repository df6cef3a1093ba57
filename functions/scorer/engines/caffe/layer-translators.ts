/**
 * Which Caffe layer types we can run, and how. Anything else fails at load
 * with the layer named: a deployment should go FAILED, not score wrongly.
 */
import type { LayerTranslator } from './layer-translator.js';
import { translateBatchNorm, translateBias, translateInnerProduct, translatePrelu, translateScale } from './translate-affine.js';
import {
  translateAbsVal,
  translateBnll,
  translateDropout,
  translateElu,
  translateEltwise,
  translateExp,
  translateLog,
  translatePower,
  translateRelu,
  translateSigmoid,
  translateTanh,
  translateThreshold,
} from './translate-pointwise.js';
import { translateConcat, translateFlatten, translateReshape, translateSilence, translateSlice, translateSoftmax, translateSplit } from './translate-structure.js';
import { translateConvolution, translateDeconvolution, translateLrn, translatePooling } from './translate-vision.js';

export const LAYER_TRANSLATORS: Readonly<Record<string, LayerTranslator>> = {
  AbsVal: translateAbsVal,
  BatchNorm: translateBatchNorm,
  Bias: translateBias,
  BNLL: translateBnll,
  Concat: translateConcat,
  Convolution: translateConvolution,
  Deconvolution: translateDeconvolution,
  Dropout: translateDropout,
  ELU: translateElu,
  Eltwise: translateEltwise,
  Exp: translateExp,
  Flatten: translateFlatten,
  InnerProduct: translateInnerProduct,
  Log: translateLog,
  LRN: translateLrn,
  Pooling: translatePooling,
  Power: translatePower,
  PReLU: translatePrelu,
  ReLU: translateRelu,
  Reshape: translateReshape,
  Scale: translateScale,
  Sigmoid: translateSigmoid,
  Silence: translateSilence,
  Slice: translateSlice,
  Softmax: translateSoftmax,
  Split: translateSplit,
  TanH: translateTanh,
  Threshold: translateThreshold,
};

/** Types that feed or score training, never part of a deploy net. */
const TRAINING_LAYER_TYPES = new Set([
  'Data',
  'ImageData',
  'HDF5Data',
  'MemoryData',
  'WindowData',
  'DummyData',
  'AnnotatedData',
  'HDF5Output',
  'Accuracy',
  'SoftmaxWithLoss',
  'EuclideanLoss',
  'HingeLoss',
  'InfogainLoss',
  'MultinomialLogisticLoss',
  'SigmoidCrossEntropyLoss',
  'ContrastiveLoss',
]);

export function supportedLayerTypes(): string[] {
  return ['Input', ...Object.keys(LAYER_TRANSLATORS)].sort((a, b) => a.localeCompare(b, 'en', { sensitivity: 'base' }));
}

/** Why a type cannot be translated, for the load error. */
export function explainUnsupported(type: string): string {
  if (TRAINING_LAYER_TYPES.has(type)) {
    return `layer type "${type}" is a training (data or loss) layer: score with the deploy prototxt, which declares its inputs with an Input layer or "input:"/"input_dim:" and ends before the loss`;
  }
  if (type === 'Python') return 'layer type "Python" runs user Python code, which cannot be translated';
  return `layer type "${type}" is not supported (supported: ${supportedLayerTypes().join(', ')})`;
}
