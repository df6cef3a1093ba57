/**
 * Build-time converter: a channels_last Keras CNN saved as `.h5` → an ONNX file.
 * It exists so the demo ships an MNIST ONNX model with a clear license (made
 * from the Apache-2.0 `tiny_mnist.h5`), since no licensed MNIST `.onnx` exists.
 * Covers the layers of simple image classifiers only; scoring Keras files in
 * production is the Keras engine's job, not this tool's.
 *
 *   npx tsx tools/keras-h5-to-onnx.ts <model.h5> <out.onnx>
 */
import { writeFileSync } from 'node:fs';
import h5wasm, { type Dataset, type Group } from 'h5wasm/node';
import { encodeOnnxModel, type OnnxInitializer, type OnnxNode } from '../functions/onnx-proto/onnx-model-builder.js';

interface KerasLayer {
  class_name: string;
  config: Record<string, unknown> & { name: string };
}

const ACTIVATIONS: Record<string, string | undefined> = { relu: 'Relu', sigmoid: 'Sigmoid', tanh: 'Tanh', softmax: 'Softmax', linear: undefined };

export async function convertKerasH5ToOnnx(h5Path: string): Promise<Uint8Array> {
  await h5wasm.ready;
  const file = new h5wasm.File(h5Path, 'r');
  try {
    const config = JSON.parse(String(file.attrs['model_config']!.value)) as { config: { layers: KerasLayer[] } | KerasLayer[] };
    const layers = Array.isArray(config.config) ? config.config : config.config.layers;
    const weightsOf = (layer: string): Float32Array[] => {
      const group = file.get(`model_weights/${layer}`) as Group;
      const names = (group.attrs['weight_names']?.value ?? []) as string[];
      return names.map((n) => Float32Array.from((group.get(n) as Dataset).value as Float32Array));
    };
    return encodeOnnxModel(buildGraph(layers, weightsOf));
  } finally {
    file.close();
  }
}

function buildGraph(layers: KerasLayer[], weightsOf: (layer: string) => Float32Array[]) {
  const input = layers[0]!;
  if (input.class_name !== 'InputLayer') throw new Error('expected an explicit InputLayer first');
  const [, height, width, channels] = input.config['batch_input_shape'] as number[];
  let spatial = [height!, width!];
  let channelCount = channels!;
  const nodes: OnnxNode[] = [];
  const initializers: OnnxInitializer[] = [];
  let current = 'nchw_input';
  nodes.push({ opType: 'Transpose', inputs: [input.config.name], outputs: [current], attributes: { perm: { ints: [0, 3, 1, 2] } } });
  let flat = false;

  const addNode = (opType: string, inputs: string[], name: string, attributes?: OnnxNode['attributes']): void => {
    const output = `${name}/${opType}`;
    nodes.push({ opType, inputs, outputs: [output], name: output, attributes });
    current = output;
  };
  const addActivation = (layer: KerasLayer): void => {
    const op = ACTIVATIONS[String(layer.config['activation'])];
    if (op) addNode(op, [current], layer.config.name, op === 'Softmax' ? { axis: { int: -1 } } : undefined);
  };

  for (const layer of layers.slice(1)) {
    const name = layer.config.name;
    switch (layer.class_name) {
      case 'Conv2D': {
        const [kernel, bias] = weightsOf(name);
        const [kh, kw] = layer.config['kernel_size'] as number[];
        const filters = layer.config['filters'] as number;
        const strides = layer.config['strides'] as number[];
        initializers.push({ name: `${name}/W`, dims: [filters, channelCount, kh!, kw!], data: hwioToOihw(kernel!, kh!, kw!, channelCount, filters) });
        initializers.push({ name: `${name}/B`, dims: [filters], data: bias! });
        const { pads, out } = samePadding(layer, spatial, [kh!, kw!], strides);
        addNode('Conv', [current, `${name}/W`, `${name}/B`], name, { kernel_shape: { ints: [kh!, kw!] }, strides: { ints: strides }, pads: { ints: pads } });
        spatial = out;
        channelCount = filters;
        addActivation(layer);
        break;
      }
      case 'BatchNormalization': {
        const [gamma, beta, mean, variance] = weightsOf(name);
        for (const [suffix, data] of [['gamma', gamma], ['beta', beta], ['mean', mean], ['var', variance]] as const) {
          initializers.push({ name: `${name}/${suffix}`, dims: [channelCount], data: data! });
        }
        addNode('BatchNormalization', [current, `${name}/gamma`, `${name}/beta`, `${name}/mean`, `${name}/var`], name, { epsilon: { float: layer.config['epsilon'] as number } });
        break;
      }
      case 'MaxPooling2D': {
        const pool = layer.config['pool_size'] as number[];
        const strides = layer.config['strides'] as number[];
        const { pads, out } = samePadding(layer, spatial, pool, strides);
        addNode('MaxPool', [current], name, { kernel_shape: { ints: pool }, strides: { ints: strides }, pads: { ints: pads } });
        spatial = out;
        break;
      }
      case 'Flatten': {
        // Keras flattens NHWC row-major: go back to channels_last first.
        addNode('Transpose', [current], name, { perm: { ints: [0, 2, 3, 1] } });
        addNode('Flatten', [current], name, { axis: { int: 1 } });
        flat = true;
        break;
      }
      case 'Dropout':
        break;
      case 'Dense': {
        if (!flat) throw new Error('Dense before Flatten is not supported by this tool');
        const [kernel, bias] = weightsOf(name);
        const units = layer.config['units'] as number;
        initializers.push({ name: `${name}/W`, dims: [kernel!.length / units, units], data: kernel! });
        initializers.push({ name: `${name}/B`, dims: [units], data: bias! });
        addNode('Gemm', [current, `${name}/W`, `${name}/B`], name);
        addActivation(layer);
        break;
      }
      default:
        throw new Error(`layer class ${layer.class_name} is not supported by this tool`);
    }
  }
  const last = layers[layers.length - 1]!.config.name;
  nodes.push({ opType: 'Identity', inputs: [current], outputs: [last] });
  return {
    name: 'keras_h5_to_onnx',
    nodes,
    initializers,
    inputs: [{ name: input.config.name, elemType: 'float32' as const, shape: ['N', height!, width!, channels!] }],
    outputs: [{ name: last, elemType: 'float32' as const, shape: ['N', layers[layers.length - 1]!.config['units'] as number] }],
    opsetVersion: 13,
    producerName: 'dropscore keras-h5-to-onnx',
  };
}

/** TensorFlow's padding rule: 'same' pads so out = ceil(in / stride), the odd pixel at the end. */
function samePadding(layer: KerasLayer, spatial: number[], kernel: number[], strides: number[]): { pads: number[]; out: number[] } {
  if (layer.config['padding'] === 'valid') {
    return { pads: [0, 0, 0, 0], out: spatial.map((s, i) => Math.floor((s - kernel[i]!) / strides[i]!) + 1) };
  }
  const out = spatial.map((s, i) => Math.ceil(s / strides[i]!));
  const total = spatial.map((s, i) => Math.max((out[i]! - 1) * strides[i]! + kernel[i]! - s, 0));
  const begin = total.map((t) => Math.floor(t / 2));
  return { pads: [...begin, ...total.map((t, i) => t - begin[i]!)], out };
}

function hwioToOihw(kernel: Float32Array, kh: number, kw: number, cin: number, cout: number): Float32Array {
  const out = new Float32Array(kernel.length);
  for (let h = 0; h < kh; h++)
    for (let w = 0; w < kw; w++)
      for (let i = 0; i < cin; i++)
        for (let o = 0; o < cout; o++) out[((o * cin + i) * kh + h) * kw + w] = kernel[((h * kw + w) * cin + i) * cout + o]!;
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [h5Path, outPath] = process.argv.slice(2);
  if (!h5Path || !outPath) {
    console.error('usage: tsx tools/keras-h5-to-onnx.ts <model.h5> <out.onnx>');
    process.exit(2);
  }
  writeFileSync(outPath, await convertKerasH5ToOnnx(h5Path));
  console.log(`wrote ${outPath}`);
}
