/**
 * Pre-2015 nets (`layers`, V1LayerParameter) name their layer types with an
 * enum; newer ones (`layer`) with strings. We work in the new names, mapped
 * the way Caffe's own upgrade does, so one translator serves both.
 * Numbers are V1LayerParameter.LayerType values from caffe.proto.
 */

const V1_LAYER_TYPES: Readonly<Record<string, readonly [number, string]>> = {
  NONE: [0, ''],
  ABSVAL: [35, 'AbsVal'],
  ACCURACY: [1, 'Accuracy'],
  ARGMAX: [30, 'ArgMax'],
  BNLL: [2, 'BNLL'],
  CONCAT: [3, 'Concat'],
  CONTRASTIVE_LOSS: [37, 'ContrastiveLoss'],
  CONVOLUTION: [4, 'Convolution'],
  DATA: [5, 'Data'],
  DECONVOLUTION: [39, 'Deconvolution'],
  DROPOUT: [6, 'Dropout'],
  DUMMY_DATA: [32, 'DummyData'],
  EUCLIDEAN_LOSS: [7, 'EuclideanLoss'],
  ELTWISE: [25, 'Eltwise'],
  EXP: [38, 'Exp'],
  FLATTEN: [8, 'Flatten'],
  HDF5_DATA: [9, 'HDF5Data'],
  HDF5_OUTPUT: [10, 'HDF5Output'],
  HINGE_LOSS: [28, 'HingeLoss'],
  IM2COL: [11, 'Im2col'],
  IMAGE_DATA: [12, 'ImageData'],
  INFOGAIN_LOSS: [13, 'InfogainLoss'],
  INNER_PRODUCT: [14, 'InnerProduct'],
  LRN: [15, 'LRN'],
  MEMORY_DATA: [29, 'MemoryData'],
  MULTINOMIAL_LOGISTIC_LOSS: [16, 'MultinomialLogisticLoss'],
  MVN: [34, 'MVN'],
  POOLING: [17, 'Pooling'],
  POWER: [26, 'Power'],
  RELU: [18, 'ReLU'],
  SIGMOID: [19, 'Sigmoid'],
  SIGMOID_CROSS_ENTROPY_LOSS: [27, 'SigmoidCrossEntropyLoss'],
  SILENCE: [36, 'Silence'],
  SOFTMAX: [20, 'Softmax'],
  SOFTMAX_LOSS: [21, 'SoftmaxWithLoss'],
  SPLIT: [22, 'Split'],
  SLICE: [33, 'Slice'],
  TANH: [23, 'TanH'],
  WINDOW_DATA: [24, 'WindowData'],
  THRESHOLD: [31, 'Threshold'],
};

const BY_NUMBER = new Map(Object.values(V1_LAYER_TYPES).map(([code, name]) => [code, name]));

/** The new-style type name of a V1 enum name (prototxt) or number (caffemodel); undefined if unknown. */
export function v1LayerTypeName(value: string | number): string | undefined {
  const name = typeof value === 'number' ? BY_NUMBER.get(value) : V1_LAYER_TYPES[value]?.[1];
  return name === '' ? undefined : name;
}
