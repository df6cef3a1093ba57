/**
 * The native engine for Lambda: onnxruntime-node with only its linux-x64
 * binaries (the npm package carries every platform: 288 MB; linux-x64 alone
 * is a fraction of that), at /opt/nodejs/node_modules where Lambda's Node
 * resolves it (NODE_PATH). Everything else the scorer needs is in its bundle.
 * The LocalStack package puts the same files in node_modules beside the
 * bundle instead (`runtimeFiles(..., 'node_modules')`), where Node looks first.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Architecture, LayerVersion, Runtime } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { stagedLayerCode, type StagedFile } from './local-asset.js';

export interface RuntimeLayerProps {
  /** The project's node_modules folder. */
  readonly nodeModules: string;
}

export class RuntimeLayer extends Construct {
  readonly layer: LayerVersion;

  constructor(scope: Construct, id: string, props: RuntimeLayerProps) {
    super(scope, id);
    const ort = join(props.nodeModules, 'onnxruntime-node');
    const version = (JSON.parse(readFileSync(join(ort, 'package.json'), 'utf8')) as { version: string }).version;
    this.layer = new LayerVersion(this, 'Layer', {
      // Hashing 288 MB at every synth is slow; the package version identifies the content.
      code: stagedLayerCode(ort, () => runtimeFiles(props.nodeModules), `onnxruntime-node-${version}-linux-x64`),
      compatibleRuntimes: [Runtime.NODEJS_22_X],
      compatibleArchitectures: [Architecture.X86_64],
      description: `onnxruntime-node ${version}, linux-x64 only`,
    });
  }
}

/** onnxruntime-node's linux-x64 files, under `into` (a layer's nodejs/node_modules, or a function's node_modules). */
export function runtimeFiles(nodeModules: string, into = 'nodejs/node_modules'): StagedFile[] {
  const files: StagedFile[] = [];
  const add = (relative: string) => files.push({ from: join(nodeModules, relative), to: `${into}/${relative}` });
  for (const pkg of ['onnxruntime-node', 'onnxruntime-common']) {
    add(`${pkg}/package.json`);
    add(`${pkg}/dist`);
  }
  for (const napi of readdirSync(join(nodeModules, 'onnxruntime-node/bin')).filter((d) => d.startsWith('napi-v'))) {
    add(`onnxruntime-node/bin/${napi}/linux/x64`);
  }
  return files;
}
