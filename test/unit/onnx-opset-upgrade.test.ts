/**
 * The opset upgrade's rewrites, each on a small model written with our ONNX
 * writer at an old opset (as old exporters wrote it), run by onnxruntime after
 * the upgrade and compared with the operator's meaning computed here directly.
 */
import { readFileSync, rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeOnnxModel, type OnnxGraph, type OnnxNode } from '../../functions/onnx-proto/onnx-model-builder.js';
import { readAttribute, readOnnxModel } from '../../functions/onnx-proto/onnx-model-editor.js';
import { OpsetUpgradeError, upgradeOnnxOpset } from '../../functions/onnx-proto/onnx-opset-upgrade.js';
import { ModelLoadError } from '../../functions/scorer/domain/errors.js';
import type { Model } from '../../functions/scorer/engines/engine.js';
import { loadModel } from '../../functions/scorer/engines/framework-engines.js';
import { makeOnnxModelDir, tempRoot } from '../support/model-dir.js';
import { FIXTURES } from '../support/paths.js';
import { TOLERANCE, maxRelativeError } from '../support/tensor-proto.js';

const root = tempRoot();
afterAll(() => rmSync(root, { recursive: true, force: true }));

function graph(name: string, opsetVersion: number, nodes: OnnxNode[], extra: Partial<OnnxGraph>): OnnxGraph {
  return { name, nodes, initializers: [], inputs: [], outputs: [], opsetVersion, producerName: 'pytorch 0.3 (simulated)', ...extra };
}

async function load(g: OnnxGraph): Promise<Model> {
  return (await loadModel(makeOnnxModelDir(root, g.name, g))).model;
}

async function run(model: Model, x: Float32Array, shape: number[]): Promise<{ data: ArrayLike<number>; shape: readonly number[] }> {
  const spec = model.signature.inputs[0]!;
  const out = await model.predict({ [spec.name]: { dtype: 'float32', shape, data: x } });
  const y = out[model.signature.outputs[0]!.name]!;
  return { data: y.data as ArrayLike<number>, shape: y.shape };
}

const X6 = Float32Array.from([-1.5, 0.25, 2, -0.75, 3, 1]);

describe('ONNX opset upgrade: rewrites checked by running them', () => {
  it('Add-1 with suffix broadcast and Relu-1 with consumed_inputs (opset 5)', async () => {
    const b = Float32Array.from([0.5, -1, 0.125]);
    const model = await load(
      graph('add-relu', 5, [
        { opType: 'Add', inputs: ['x', 'b'], outputs: ['s'], attributes: { broadcast: { int: 1 } } },
        { opType: 'Relu', inputs: ['s'], outputs: ['y'], attributes: { consumed_inputs: { ints: [0] } } },
      ], {
        initializers: [{ name: 'b', dims: [3], data: b }],
        inputs: [{ name: 'x', elemType: 'float32', shape: [2, 3] }],
        outputs: [{ name: 'y', elemType: 'float32', shape: [2, 3] }],
      }),
    );
    const expected = Array.from(X6, (v, i) => Math.max(0, v + b[i % 3]!));
    const y = await run(model, X6, [2, 3]);
    expect(maxRelativeError(y.data, expected)).toBeLessThanOrEqual(TOLERANCE);
    expect(model.notes?.[0]).toMatch(/from ONNX opset 5 to 7.*Add \(1 node\): dropped "consumed_inputs", dropped "broadcast"/);
  });

  it('Reshape-1 with a shape attribute, and Concat-1 with its default axis 1 (opset 3)', async () => {
    const model = await load(
      graph('reshape-concat', 3, [
        { opType: 'Reshape', inputs: ['x'], outputs: ['r'], attributes: { shape: { ints: [3, 2] } } },
        { opType: 'Concat', inputs: ['r', 'r'], outputs: ['y'] },
      ], {
        inputs: [{ name: 'x', elemType: 'float32', shape: [2, 3] }],
        outputs: [{ name: 'y', elemType: 'float32', shape: [3, 4] }],
      }),
    );
    const y = await run(model, X6, [2, 3]);
    expect(y.shape).toEqual([3, 4]);
    const rows = [0, 1, 2].map((i) => [X6[2 * i]!, X6[2 * i + 1]!]);
    expect(Array.from(y.data)).toEqual(rows.flatMap((row) => [...row, ...row]));
  });

  it('Cast-1 with a type name (opset 5)', async () => {
    const model = await load(
      graph('cast', 5, [{ opType: 'Cast', inputs: ['x'], outputs: ['y'], attributes: { to: { string: 'DOUBLE' } } }], {
        inputs: [{ name: 'x', elemType: 'float32', shape: [2, 3] }],
        outputs: [{ name: 'y', elemType: 'float64', shape: [2, 3] }],
      }),
    );
    const y = await run(model, X6, [2, 3]);
    expect(y.data).toBeInstanceOf(Float64Array);
    expect(Array.from(y.data)).toEqual(Array.from(X6));
  });

  it('Pad-1 with "paddings" (opset 1)', async () => {
    const model = await load(
      graph('pad', 1, [{ opType: 'Pad', inputs: ['x'], outputs: ['y'], attributes: { paddings: { ints: [0, 1, 0, 2] }, value: { float: 9 } } }], {
        inputs: [{ name: 'x', elemType: 'float32', shape: [2, 3] }],
        outputs: [{ name: 'y', elemType: 'float32', shape: [2, 6] }],
      }),
    );
    const y = await run(model, X6, [2, 3]);
    expect(Array.from(y.data)).toEqual([9, ...X6.slice(0, 3), 9, 9, 9, ...X6.slice(3), 9, 9]);
  });

  it('experimental Upsample with height_scale/width_scale (opset 6)', async () => {
    const model = await load(
      graph('upsample', 6, [{ opType: 'Upsample', inputs: ['x'], outputs: ['y'], attributes: { height_scale: { float: 2 }, width_scale: { float: 3 }, mode: { string: 'nearest' } } }], {
        inputs: [{ name: 'x', elemType: 'float32', shape: [1, 1, 2, 3] }],
        outputs: [{ name: 'y', elemType: 'float32', shape: [1, 1, 4, 9] }],
      }),
    );
    const y = await run(model, X6, [1, 1, 2, 3]);
    expect(y.shape).toEqual([1, 1, 4, 9]);
    const expected: number[] = [];
    for (let r = 0; r < 4; r++) for (let c = 0; c < 9; c++) expected.push(X6[Math.floor(r / 2) * 3 + Math.floor(c / 3)]!);
    expect(Array.from(y.data)).toEqual(expected);
  });

  it('BatchNormalization-1 and Dropout-1 with is_test and consumed_inputs (opset 5)', async () => {
    const [scale, bias, mean, variance] = [[2, 0.5], [0.1, -0.2], [0.3, -1], [4, 0.25]].map((v) => Float32Array.from(v));
    const model = await load(
      graph('bn-dropout', 5, [
        { opType: 'Dropout', inputs: ['x'], outputs: ['d'], attributes: { is_test: { int: 1 }, ratio: { float: 0.5 } } },
        {
          opType: 'BatchNormalization',
          inputs: ['d', 'scale', 'bias', 'mean', 'var'],
          outputs: ['y'],
          attributes: { is_test: { int: 1 }, epsilon: { float: 1e-5 }, consumed_inputs: { ints: [0, 0, 0, 1, 1] } },
        },
      ], {
        initializers: [
          { name: 'scale', dims: [2], data: scale! },
          { name: 'bias', dims: [2], data: bias! },
          { name: 'mean', dims: [2], data: mean! },
          { name: 'var', dims: [2], data: variance! },
        ],
        inputs: [{ name: 'x', elemType: 'float32', shape: [1, 2, 3] }],
        outputs: [{ name: 'y', elemType: 'float32', shape: [1, 2, 3] }],
      }),
    );
    const expected = Array.from(X6, (v, i) => {
      const c = Math.floor(i / 3);
      return ((v - mean![c]!) / Math.sqrt(variance![c]! + 1e-5)) * scale![c]! + bias![c]!;
    });
    const y = await run(model, X6, [1, 2, 3]);
    expect(maxRelativeError(y.data, expected)).toBeLessThanOrEqual(TOLERANCE);
  });

  it('GlobalLpPool-1 with a float p (opset 1)', async () => {
    const model = await load(
      graph('lppool', 1, [{ opType: 'GlobalLpPool', inputs: ['x'], outputs: ['y'], attributes: { p: { float: 2 } } }], {
        inputs: [{ name: 'x', elemType: 'float32', shape: [1, 2, 3] }],
        outputs: [{ name: 'y', elemType: 'float32', shape: [1, 2, 1] }],
      }),
    );
    const y = await run(model, X6, [1, 2, 3]);
    const norm = (part: Float32Array): number => Math.sqrt(part.reduce((s, v) => s + v * v, 0));
    expect(maxRelativeError(y.data, [norm(X6.slice(0, 3)), norm(X6.slice(3))])).toBeLessThanOrEqual(TOLERANCE);
  });
});

describe('ONNX opset upgrade: what it rewrites and what it refuses', () => {
  const linear = readFileSync(`${FIXTURES}/models/onnx/onnx_backend_pytorch_Linear/model.onnx`);

  it('rewrites Gemm-6 to Gemm-7 and the opset import to 7, keeping every other field', () => {
    const upgrade = upgradeOnnxOpset(linear)!;
    const before = readOnnxModel(linear);
    const after = readOnnxModel(upgrade.bytes);
    expect(before.opsets).toEqual([{ domain: '', version: 6 }]);
    expect(after.opsets).toEqual([{ domain: '', version: 7 }]);
    expect(before.nodes[0]!.attributes.map((a) => a.name)).toContain('broadcast');
    expect(after.nodes[0]!.attributes.map((a) => a.name).sort()).toEqual(before.nodes[0]!.attributes.map((a) => a.name).filter((n) => n !== 'broadcast').sort());
    expect(after.initializerDims).toEqual(before.initializerDims);
    // Only the dropped attribute and the opset number differ.
    expect(linear.length - upgrade.bytes.length).toBe(before.nodes[0]!.attributes.find((a) => a.name === 'broadcast')!.original!.length + 2);
  });

  it('turns Reshape-1 into a Constant shape input', () => {
    const bytes = encodeOnnxModel(
      graph('reshape-only', 4, [{ opType: 'Reshape', inputs: ['x'], outputs: ['y'], attributes: { shape: { ints: [-1, 2] } } }], {
        inputs: [{ name: 'x', elemType: 'float32', shape: [2, 3] }],
        outputs: [{ name: 'y', elemType: 'float32', shape: [3, 2] }],
      }),
    );
    const nodes = readOnnxModel(upgradeOnnxOpset(bytes)!.bytes).nodes;
    expect(nodes.map((n) => n.opType)).toEqual(['Constant', 'Reshape']);
    expect(nodes[1]!.inputs).toEqual(['x', nodes[0]!.outputs[0]]);
    expect(nodes[1]!.attributes).toEqual([]);
    expect(readAttribute(nodes[0]!.attributes[0]!).type).toBe(4);
  });

  it('leaves a model at opset 7 or later alone', () => {
    expect(upgradeOnnxOpset(readFileSync(`${FIXTURES}/models/onnx/onnx_backend_single_relu/model.onnx`))).toBeUndefined();
  });

  it('refuses what it cannot rewrite, naming every node and reason', async () => {
    const g = graph('refused', 5, [
      { opType: 'Tile', inputs: ['x', 'tiles', 'axis'], outputs: ['t'] },
      { opType: 'Add', inputs: ['x', 'b'], outputs: ['s'], attributes: { broadcast: { int: 1 }, axis: { int: 0 } } },
      { opType: 'PRelu', inputs: ['s', 'slope'], outputs: ['y'] },
    ], {
      initializers: [
        { name: 'b', dims: [2], data: Float32Array.from([1, 2]) },
        { name: 'slope', dims: [2], data: Float32Array.from([0.1, 0.2]) },
      ],
      inputs: [{ name: 'x', elemType: 'float32', shape: [2, 3] }],
      outputs: [{ name: 'y', elemType: 'float32', shape: [2, 3] }],
    });
    expect(() => upgradeOnnxOpset(encodeOnnxModel(g))).toThrow(OpsetUpgradeError);
    const error = await load(g).then(
      () => new Error('loaded'),
      (e: unknown) => e as Error,
    );
    expect(error).toBeInstanceOf(ModelLoadError);
    expect(error.message).toMatch(/^model "refused" \(model\.onnx\) uses opset 5, older than onnxruntime runs, and cannot be upgraded to opset 7: /);
    expect(error.message).toContain('Tile "t": Tile-1 takes (tiles, axis) inputs');
    expect(error.message).toContain('Add "s": legacy broadcasting along "axis"');
    expect(error.message).toContain('PRelu "y": a slope that is not a single constant value');
    expect(error.message).not.toContain(root);
  });
});
