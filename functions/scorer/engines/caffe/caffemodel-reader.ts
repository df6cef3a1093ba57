/**
 * Reads the learned blobs of a `.caffemodel` (a binary NetParameter). Only
 * names, types and blobs are read: the layer parameters come from the
 * prototxt, and weights are matched to its layers by name, as Caffe does.
 * Field numbers are from caffe.proto.
 */
import { ModelLoadError, describeError } from '../../domain/errors.js';
import { WireMessage } from './protobuf-wire-reader.js';
import { v1LayerTypeName } from './v1-layer-types.js';

const NET = { name: 1, layersV1: 2, layer: 100 } as const;
const LAYER = { name: 1, type: 2, blobs: 7 } as const;
const LAYER_V1 = { v0Layer: 1, name: 4, type: 5, blobs: 6 } as const;
const BLOB = { num: 1, channels: 2, height: 3, width: 4, data: 5, shape: 7, doubleData: 8 } as const;
const BLOB_SHAPE = { dim: 1 } as const;

export interface WeightBlob {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

export interface WeightLayer {
  readonly name: string;
  readonly type: string;
  readonly blobs: readonly WeightBlob[];
}

export interface CaffeWeights {
  readonly netName: string;
  /** Which NetParameter field held the layers: new-style `layer` (100) or V1 `layers` (2). */
  readonly style: 'layer' | 'layers';
  readonly layers: readonly WeightLayer[];
}

export function readCaffemodel(bytes: Uint8Array, origin: string): CaffeWeights {
  try {
    return decodeNet(bytes, origin);
  } catch (error) {
    if (error instanceof ModelLoadError) throw error;
    throw new ModelLoadError(`${origin} is not a readable .caffemodel (binary NetParameter): ${describeError(error)}`, { cause: error });
  }
}

function decodeNet(bytes: Uint8Array, origin: string): CaffeWeights {
  const net = WireMessage.decode(bytes);
  const layers = net.messages(NET.layer).map((m) => decodeLayer(m, origin));
  const v1Layers = net.messages(NET.layersV1).map((m) => decodeV1Layer(m, origin));
  if (layers.length === 0 && v1Layers.length === 0) {
    throw new ModelLoadError(`${origin} holds no layers: it is not a .caffemodel, or it is empty`);
  }
  return { netName: net.string(NET.name) ?? '', style: layers.length > 0 ? 'layer' : 'layers', layers: [...layers, ...v1Layers] };
}

function decodeLayer(layer: WireMessage, origin: string): WeightLayer {
  const name = layer.string(LAYER.name) ?? '';
  return { name, type: layer.string(LAYER.type) ?? '', blobs: layer.messages(LAYER.blobs).map((b, i) => decodeBlob(b, `${origin}: layer "${name}" blob ${i}`)) };
}

function decodeV1Layer(layer: WireMessage, origin: string): WeightLayer {
  if (layer.has(LAYER_V1.v0Layer) && !layer.has(LAYER_V1.name)) {
    throw new ModelLoadError(`${origin} uses the V0 layer format (before 2014), which is not supported; upgrade it with Caffe's upgrade_net_proto_binary tool`);
  }
  const name = layer.string(LAYER_V1.name) ?? '';
  const code = layer.integer(LAYER_V1.type);
  const type = code === undefined ? '' : (v1LayerTypeName(code) ?? `V1 type ${code}`);
  return { name, type, blobs: layer.messages(LAYER_V1.blobs).map((b, i) => decodeBlob(b, `${origin}: layers "${name}" blob ${i}`)) };
}

function decodeBlob(blob: WireMessage, where: string): WeightBlob {
  const shapeMessage = blob.message(BLOB.shape);
  // Blobs written before BlobShape existed (2015) carry the 4D num/channels/height/width fields instead.
  const shape = shapeMessage
    ? shapeMessage.integers(BLOB_SHAPE.dim)
    : [BLOB.num, BLOB.channels, BLOB.height, BLOB.width].map((f) => blob.integer(f) ?? 0);
  const floats = blob.floats(BLOB.data);
  const data = floats.length > 0 ? floats : Float32Array.from(blob.doubles(BLOB.doubleData));
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== data.length) {
    throw new ModelLoadError(`${where}: shape ${shape.join('x')} needs ${count} values but the blob holds ${data.length}`);
  }
  return { shape, data };
}
