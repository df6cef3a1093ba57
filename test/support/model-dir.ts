/** Model folders for tests: a fixture artifact plus the model-meta.json a user would write. */
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { encodeOnnxModel, type OnnxGraph } from '../../functions/onnx-proto/onnx-model-builder.js';

/** `companions` are files the artifact needs beside it (weight shards, a prototxt). */
export function makeModelDir(root: string, name: string, artifactPath: string, framework = 'onnx', companions: string[] = []): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  for (const file of [artifactPath, ...companions]) copyFileSync(file, join(dir, basename(file)));
  writeFileSync(join(dir, 'model-meta.json'), JSON.stringify({ name, framework, artifact: basename(artifactPath) }));
  return dir;
}

export function makeOnnxModelDir(root: string, name: string, graph: OnnxGraph): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'model.onnx'), encodeOnnxModel(graph));
  writeFileSync(join(dir, 'model-meta.json'), JSON.stringify({ name, framework: 'onnx', artifact: 'model.onnx' }));
  return dir;
}

export function tempRoot(prefix = 'dropscore-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** y = x + 1 on int64 [N,3]: a model whose input dtype is not float. */
export const INT64_PLUS_ONE: OnnxGraph = {
  name: 'int64_plus_one',
  nodes: [{ opType: 'Add', inputs: ['x', 'one'], outputs: ['y'] }],
  initializers: [{ name: 'one', dims: [1], data: BigInt64Array.from([1n]) }],
  inputs: [{ name: 'x', elemType: 'int64', shape: ['N', 3] }],
  outputs: [{ name: 'y', elemType: 'int64', shape: ['N', 3] }],
  opsetVersion: 13,
  producerName: 'dropscore tests',
};
