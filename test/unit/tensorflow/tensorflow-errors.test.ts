/**
 * Load-time failures name what is wrong: signatures, unsupported ops (from a
 * crafted SavedModel and a crafted graph model), corrupt or missing checkpoints,
 * artifacts this engine does not run.
 */
import { copyFileSync, cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ModelLoadError } from '../../../functions/scorer/domain/errors.js';
import { useTfjs } from '../../../functions/scorer/engines/tfjs-runtime.js';
import { tempRoot } from '../../support/model-dir.js';
import { GRAPH_MODELS, SAVED_MODELS, linkModelFolder, loadFolder, writeMeta } from './model-folders.js';
import { DT_FLOAT, placeholder, writeSavedModel } from './saved-model-builder.js';

const root = tempRoot('dropscore-tf-err-');
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function loadError(dir: string): Promise<ModelLoadError> {
  const error = await loadFolder(dir).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ModelLoadError);
  // Models are named by name: no load error shows where the server keeps them.
  expect((error as Error).message).not.toContain(root);
  return error as ModelLoadError;
}

describe('signature choice', () => {
  it('an unknown signature name lists the available ones (never the TF2 init op)', async () => {
    const dir = linkModelFolder(root, 'unknown-sig', join(SAVED_MODELS, 'half_plus_two_tf2_cpu'), { signature: 'predict_y' });
    const error = await loadError(dir);
    expect(error.code).toBe('MODEL_LOAD_FAILED');
    expect(error.message).toBe(
      'model "unknown-sig": no signature "predict_y"; available signatures: classify_x2_to_y3, classify_x_to_y, regress_x2_to_y3, regress_x_to_y, regress_x_to_y2, serving_default (choose one with "signature" in model-meta.json)',
    );
  });

  it('a SavedModel without serving_default needs "signature" in model-meta.json', async () => {
    const dir = join(root, 'no-default');
    writeSavedModel(dir, [placeholder('x', DT_FLOAT, [-1]), { name: 'y', op: 'Identity', input: ['x'], attr: { T: { type: DT_FLOAT } } }], {
      predict: { inputs: { x: { name: 'x:0', dtype: DT_FLOAT, shape: [-1] } }, outputs: { y: { name: 'y:0', dtype: DT_FLOAT, shape: [-1] } } },
    });
    writeMeta(dir, 'no-default');
    expect((await loadError(dir)).message).toMatch(/: no signature "serving_default"; available signatures: predict \(choose one/);
    writeMeta(dir, 'no-default', { signature: 'predict' });
    const model = await loadFolder(dir);
    expect(model.signature.inputs).toEqual([{ name: 'x', dtype: 'float32', shape: [null] }]);
  });
});

describe('unsupported ops fail at load, all of them listed', () => {
  it('in a SavedModel', async () => {
    const dir = join(root, 'unsupported-sm');
    const float = { T: { type: DT_FLOAT } };
    writeSavedModel(
      dir,
      [
        placeholder('x', DT_FLOAT, [-1, 2]),
        { name: 'a', op: 'Lgamma', input: ['x'], attr: float },
        { name: 'b', op: 'Relu', input: ['a'], attr: float },
        { name: 'y', op: 'MyCustomKernel', input: ['b'], attr: float },
        { name: 'unused', op: 'SomeOpNoOutputNeeds', input: ['x'], attr: float },
      ],
      { serving_default: { inputs: { x: { name: 'x:0', dtype: DT_FLOAT, shape: [-1, 2] } }, outputs: { y: { name: 'y:0', dtype: DT_FLOAT, shape: [-1, 2] } } } },
    );
    writeMeta(dir, 'unsupported-sm');
    expect((await loadError(dir)).message).toBe('model "unsupported-sm" uses op type(s) that TensorFlow.js cannot run: Lgamma, MyCustomKernel');
  });

  it('ops the wasm backend has no kernel for (Einsum) fail at load too', async () => {
    expect(await useTfjs()).toBe('wasm');
    const dir = join(root, 'einsum');
    writeSavedModel(
      dir,
      [placeholder('x', DT_FLOAT, [-1, 2]), { name: 'y', op: 'Einsum', input: ['x', 'x'], attr: { equation: { s: 'ij,ij->i' }, T: { type: DT_FLOAT } } }],
      { serving_default: { inputs: { x: { name: 'x:0', dtype: DT_FLOAT, shape: [-1, 2] } }, outputs: { y: { name: 'y:0', dtype: DT_FLOAT, shape: [-1] } } } },
    );
    writeMeta(dir, 'einsum');
    expect((await loadError(dir)).message).toBe('model "einsum" uses op type(s) that the TensorFlow.js wasm backend has no kernel for: Einsum');
  });

  it('in a graph model', async () => {
    const dir = join(root, 'unsupported-gm');
    mkdirSync(dir);
    const model = JSON.parse(readFileSync(join(GRAPH_MODELS, 'tfjs_e2e_matmul_2x2', 'model.json'), 'utf8'));
    model.modelTopology.node.push({ name: 'Odd', op: 'BesselI0e', input: ['MatMul'], attr: { T: { type: 'DT_FLOAT' } } });
    model.userDefinedMetadata.signature.outputs = { 'Odd:0': { name: 'Odd:0', dtype: 'DT_FLOAT' } };
    writeFileSync(join(dir, 'model.json'), JSON.stringify(model));
    copyFileSync(join(GRAPH_MODELS, 'tfjs_e2e_matmul_2x2', 'weights.bin'), join(dir, 'weights.bin'));
    writeMeta(dir, 'unsupported-gm', { artifact: 'model.json' });
    expect((await loadError(dir)).message).toBe('model "unsupported-gm" uses op type(s) that TensorFlow.js cannot run: BesselI0e');
  });
});

describe('checkpoints', () => {
  it('a corrupt variables shard is caught by its checksum', async () => {
    const dir = join(root, 'corrupt');
    cpSync(join(SAVED_MODELS, 'half_plus_two_cpu_tf1'), dir, { recursive: true });
    const data = join(dir, 'variables', 'variables.data-00000-of-00001');
    const bytes = readFileSync(data);
    bytes[0] = bytes[0]! ^ 0xff; // the first bytes hold variable "a"
    writeFileSync(data, bytes);
    writeMeta(dir, 'corrupt');
    expect((await loadError(dir)).message).toMatch(/cannot read variable "a" \(checkpoint key "a"\): .*checksum mismatch/);
  });

  it('a graph that reads variables needs the variables/ folder', async () => {
    const dir = join(root, 'no-variables');
    mkdirSync(dir);
    copyFileSync(join(SAVED_MODELS, 'half_plus_two_cpu_tf1', 'saved_model.pb'), join(dir, 'saved_model.pb'));
    writeMeta(dir, 'no-variables');
    expect((await loadError(dir)).message).toBe('model "no-variables": the serving graph reads variables but variables/variables.index is missing');
  });

  it('saved_model.pb that is not a protobuf SavedModel', async () => {
    const dir = join(root, 'not-pb');
    mkdirSync(dir);
    writeFileSync(join(dir, 'saved_model.pb'), '{"this is": "json"}');
    writeMeta(dir, 'not-pb');
    expect((await loadError(dir)).message).toMatch(/^model "not-pb": cannot read saved_model\.pb as a SavedModel: /);
  });
});

describe('artifacts this engine does not run', () => {
  it('a TensorFlow.js layers model', async () => {
    const dir = join(root, 'layers');
    mkdirSync(dir);
    writeFileSync(join(dir, 'model.json'), JSON.stringify({ format: 'layers-model', modelTopology: { class_name: 'Sequential' }, weightsManifest: [] }));
    writeMeta(dir, 'layers', { artifact: 'model.json' });
    expect((await loadError(dir)).message).toMatch(/is a TensorFlow\.js "layers-model", not a "graph-model"/);
  });

  it('any other file', async () => {
    const dir = join(root, 'other');
    mkdirSync(dir);
    writeFileSync(join(dir, 'frozen.pb'), new Uint8Array([1, 2, 3]));
    writeMeta(dir, 'other', { artifact: 'frozen.pb' });
    expect((await loadError(dir)).message).toMatch(/artifact "frozen\.pb" is neither a SavedModel's saved_model\.pb nor a TensorFlow\.js graph model's model\.json/);
  });
});
