/**
 * Reads the learned blobs of a `.caffemodel` (a binary NetParameter). Only
 * names, types and blobs are read: the layer parameters come from the
 * prototxt, and weights are matched to its layers by name, as Caffe does.
 * Field numbers are from caffe.proto.
 */
import { ModelLoadError, describeError } from '../../domain/errors.js';
import { decodeMessage } from '../../../protobuf/protobuf-reader.js';
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
  let netName = '';
  const layers: WeightLayer[] = [];
  const v1Layers: WeightLayer[] = [];
  decodeMessage(bytes, (r) => {
    if (r.field === NET.name) netName = r.string();
    else if (r.field === NET.layer) layers.push(decodeLayer(r.bytes(), origin));
    else if (r.field === NET.layersV1) v1Layers.push(decodeV1Layer(r.bytes(), origin));
    else r.skip();
  });
  if (layers.length === 0 && v1Layers.length === 0) {
    throw new ModelLoadError(`${origin} holds no layers: it is not a .caffemodel, or it is empty`);
  }
  return { netName, style: layers.length > 0 ? 'layer' : 'layers', layers: [...layers, ...v1Layers] };
}

function decodeLayer(bytes: Uint8Array, origin: string): WeightLayer {
  let name = '';
  let type = '';
  const blobs: Uint8Array[] = [];
  decodeMessage(bytes, (r) => {
    if (r.field === LAYER.name) name = r.string();
    else if (r.field === LAYER.type) type = r.string();
    else if (r.field === LAYER.blobs) blobs.push(r.bytes());
    else r.skip();
  });
  // Blobs are decoded once the name is known, wherever it stands, so that their errors can name the layer.
  return { name, type, blobs: blobs.map((b, i) => decodeBlob(b, `${origin}: layer "${name}" blob ${i}`)) };
}

function decodeV1Layer(bytes: Uint8Array, origin: string): WeightLayer {
  let hasV0Layer = false;
  let name: string | undefined;
  let code: number | undefined;
  const blobs: Uint8Array[] = [];
  decodeMessage(bytes, (r) => {
    if (r.field === LAYER_V1.v0Layer) {
      hasV0Layer = true;
      r.skip();
    } else if (r.field === LAYER_V1.name) name = r.string();
    else if (r.field === LAYER_V1.type) code = last(r.int64s()) ?? code;
    else if (r.field === LAYER_V1.blobs) blobs.push(r.bytes());
    else r.skip();
  });
  if (hasV0Layer && name === undefined) {
    throw new ModelLoadError(`${origin} uses the V0 layer format (before 2014), which is not supported; upgrade it with Caffe's upgrade_net_proto_binary tool`);
  }
  const layerName = name ?? '';
  const type = code === undefined ? '' : (v1LayerTypeName(code) ?? `V1 type ${code}`);
  return { name: layerName, type, blobs: blobs.map((b, i) => decodeBlob(b, `${origin}: layers "${layerName}" blob ${i}`)) };
}

function decodeBlob(bytes: Uint8Array, where: string): WeightBlob {
  let shapeBytes: Uint8Array | undefined;
  const legacyShape = new Map<number, number>();
  const floats: Float32Array[] = [];
  const doubles: Float64Array[] = [];
  decodeMessage(bytes, (r) => {
    switch (r.field) {
      case BLOB.shape: shapeBytes = r.bytes(); break;
      case BLOB.num: case BLOB.channels: case BLOB.height: case BLOB.width: {
        const value = last(r.int64s());
        if (value !== undefined) legacyShape.set(r.field, value);
        break;
      }
      case BLOB.data: floats.push(r.floats()); break;
      case BLOB.doubleData: doubles.push(r.doubles()); break;
      default: r.skip();
    }
  });
  // Blobs written before BlobShape existed (2015) carry the 4D num/channels/height/width fields instead.
  const shape = shapeBytes
    ? decodeBlobShape(shapeBytes)
    : [BLOB.num, BLOB.channels, BLOB.height, BLOB.width].map((f) => legacyShape.get(f) ?? 0);
  const single = toFloat32(floats);
  const data = single.length > 0 ? single : toFloat32(doubles);
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== data.length) {
    throw new ModelLoadError(`${where}: shape ${shape.join('x')} needs ${count} values but the blob holds ${data.length}`);
  }
  return { shape, data };
}

function decodeBlobShape(bytes: Uint8Array): number[] {
  const dims: number[] = [];
  decodeMessage(bytes, (r) => {
    if (r.field !== BLOB_SHAPE.dim) return r.skip();
    for (const dim of r.int64s()) dims.push(dim);
  });
  return dims;
}

/** proto2 semantics for a non-repeated field: the last value wins (an empty packed run holds none). */
function last(values: readonly number[]): number | undefined {
  return values[values.length - 1];
}

/** Joins the occurrences of a repeated float or double field; a single packed run is used as it is, without a second copy. */
function toFloat32(parts: readonly (Float32Array | Float64Array)[]): Float32Array {
  const only = parts[0];
  if (parts.length === 1 && only instanceof Float32Array) return only;
  const out = new Float32Array(parts.reduce((n, part) => n + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
