/**
 * A model folder (`layers/models/<name>`) as a Lambda layer, mounted at
 * `/opt/models/<name>`; `modelFiles` is what it holds, which the LocalStack
 * package copies into the function itself instead.
 */
import { join } from 'node:path';
import { Architecture, LayerVersion, Runtime } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { stagedLayerCode, type StagedFile } from './local-asset.js';

export interface ModelLayerProps {
  readonly modelsRoot: string;
  readonly modelName: string;
}

export class ModelLayer extends Construct {
  readonly layer: LayerVersion;
  /** Where the scorer finds the model at run time. */
  readonly modelDir: string;

  constructor(scope: Construct, id: string, props: ModelLayerProps) {
    super(scope, id);
    const source = join(props.modelsRoot, props.modelName);
    this.modelDir = `/opt/${modelPathOf(props.modelName)}`;
    this.layer = new LayerVersion(this, 'Layer', {
      code: stagedLayerCode(source, () => modelFiles(props.modelsRoot, props.modelName)),
      compatibleRuntimes: [Runtime.NODEJS_22_X],
      compatibleArchitectures: [Architecture.X86_64, Architecture.ARM_64],
      description: `dropscore model ${props.modelName}`,
    });
  }
}

/** A model's folder inside the code that carries it: a layer (mounted at /opt) or a function (LAMBDA_TASK_ROOT). */
export function modelPathOf(modelName: string): string {
  return `models/${modelName}`;
}

/** The files a scorer needs of its model, where they go inside that code. */
export function modelFiles(modelsRoot: string, modelName: string): StagedFile[] {
  return [{ from: join(modelsRoot, modelName), to: modelPathOf(modelName) }];
}
