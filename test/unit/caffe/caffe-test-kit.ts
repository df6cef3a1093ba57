/**
 * Builds Caffe artifacts for tests: binary NetParameters written with our own
 * protobuf writer (field numbers from caffe.proto), model folders, and a
 * one-call "load this prototxt and run it".
 */
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ProtobufWriter } from '../../../functions/protobuf/protobuf-writer.js';
import { buildCaffeModel, type CaffeModel } from '../../../functions/scorer/engines/caffe/caffe-engine.js';
import type { DeploymentMeta } from '../../../functions/scorer/engines/caffe/deployment-meta.js';
import type { Tensor } from '../../../functions/scorer/engines/engine.js';

export interface TestBlob {
  shape: number[];
  data: number[];
  /** Write the pre-2015 num/channels/height/width fields instead of BlobShape (4 dims). */
  legacyShape?: boolean;
  /** Write `double_data` instead of packed floats. */
  doubles?: boolean;
  /** Write each float as its own field (the unpacked encoding). */
  unpacked?: boolean;
}

export interface TestLayer {
  name: string;
  /** New-style type string, or a V1 enum number when written as `layers`. */
  type: string | number;
  blobs?: TestBlob[];
}

export function caffemodelBytes(layers: TestLayer[], style: 'layer' | 'layers' = 'layer', netName = 'test'): Uint8Array {
  const net = new ProtobufWriter().string(1, netName);
  for (const layer of layers) {
    if (style === 'layer') {
      net.message(100, (l) => {
        l.string(1, layer.name).string(2, String(layer.type));
        for (const blob of layer.blobs ?? []) l.message(7, (b) => writeBlob(b, blob));
      });
    } else {
      net.message(2, (l) => {
        l.string(4, layer.name).varint(5, Number(layer.type));
        for (const blob of layer.blobs ?? []) l.message(6, (b) => writeBlob(b, blob));
      });
    }
  }
  return net.finish();
}

function writeBlob(b: ProtobufWriter, blob: TestBlob): void {
  if (blob.legacyShape) blob.shape.forEach((d, i) => b.varint(i + 1, d));
  else b.message(7, (s) => s.packedVarints(1, blob.shape));
  if (blob.doubles) b.bytes(8, new Uint8Array(Float64Array.from(blob.data).buffer));
  else if (blob.unpacked) blob.data.forEach((v) => b.float(5, v));
  else b.packedFloats(5, blob.data);
}

/** A weights file with these layers, or with one training-only layer when the net needs no weights. */
export function loadNet(prototxt: string, layers: TestLayer[] = [], deploymentMeta?: DeploymentMeta): Promise<CaffeModel> {
  const weights = caffemodelBytes(layers.length > 0 ? layers : [{ name: 'source', type: 'Data' }]);
  return buildCaffeModel({ prototxt, prototxtPath: 'test.prototxt', weights, weightsPath: 'test.caffemodel', deploymentMeta });
}

export function tensor(shape: number[], values: number[]): Tensor {
  return { dtype: 'float32', shape, data: Float32Array.from(values) };
}

export async function run(model: CaffeModel, inputs: Record<string, Tensor>): Promise<Record<string, { shape: number[]; values: number[] }>> {
  const outputs = await model.predict(inputs);
  return Object.fromEntries(Object.entries(outputs).map(([name, t]) => [name, { shape: [...t.shape], values: Array.from(t.data as Float32Array) }]));
}

export function expectClose(actual: readonly number[], expected: readonly number[], tolerance = 1e-5): void {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length} !== ${expected.length}: [${actual.join(', ')}]`);
  actual.forEach((a, i) => {
    const e = expected[i]!;
    if (!(Math.abs(a - e) <= tolerance * Math.max(1, Math.abs(e)))) {
      throw new Error(`at ${i}: ${a} is not within ${tolerance} of ${e}\n actual:   [${actual.join(', ')}]\n expected: [${expected.join(', ')}]`);
    }
  });
}

export const CAFFE_FIXTURES = new URL('../../fixtures/models/caffe/', import.meta.url).pathname;

/** A model folder as a user would lay it out: fixture files copied, plus model-meta.json and extras. */
export function makeCaffeModelDir(root: string, name: string, fixture: string, extras: Record<string, string | Uint8Array> = {}): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  for (const file of ['lenet.prototxt', 'lenet_iter_10000.caffemodel']) copyFileSync(join(CAFFE_FIXTURES, fixture, file), join(dir, file));
  writeFileSync(join(dir, 'model-meta.json'), JSON.stringify({ name, framework: 'caffe', artifact: 'lenet_iter_10000.caffemodel' }));
  for (const [file, content] of Object.entries(extras)) writeFileSync(join(dir, file), content);
  return dir;
}
