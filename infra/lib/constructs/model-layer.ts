/** A model folder (`layers/models/<name>`) as a Lambda layer, mounted at `/opt/models/<name>`. */
import { join } from 'node:path';
import { Architecture, LayerVersion, Runtime } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { stagedLayerCode } from './local-asset.js';

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
    this.modelDir = `/opt/models/${props.modelName}`;
    this.layer = new LayerVersion(this, 'Layer', {
      code: stagedLayerCode(source, () => [{ from: source, to: `models/${props.modelName}` }]),
      compatibleRuntimes: [Runtime.NODEJS_22_X],
      compatibleArchitectures: [Architecture.X86_64, Architecture.ARM_64],
      description: `dropscore model ${props.modelName}`,
    });
  }
}
