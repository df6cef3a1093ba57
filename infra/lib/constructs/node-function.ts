/**
 * A Node.js Lambda function the way all of ours are built: nodejs22.x on
 * x86_64 (onnxruntime aborts on arm64 Lambda), bundled by the local esbuild
 * (never Docker), its own log group with a retention, and a role that may
 * write only to that log group.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime, type ILayerVersion } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

export interface NodeFunctionProps {
  readonly projectRoot: string;
  /** Relative to the project root. */
  readonly entry: string;
  readonly description: string;
  readonly environment: Record<string, string>;
  readonly memoryMb: number;
  readonly timeout: Duration;
  readonly layers?: ILayerVersion[];
  /** Packages provided by a layer instead of the bundle. */
  readonly externalModules?: string[];
  /** Shell commands run after bundling, e.g. to copy data files beside the bundle. */
  readonly afterBundling?: (inputDir: string, outputDir: string) => string[];
  readonly logRetention: RetentionDays;
}

export class NodeFunction extends Construct {
  readonly fn: NodejsFunction;
  readonly role: Role;
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: NodeFunctionProps) {
    super(scope, id);
    this.logGroup = new LogGroup(this, 'Logs', { retention: props.logRetention, removalPolicy: RemovalPolicy.DESTROY });
    this.role = new Role(this, 'Role', { assumedBy: new ServicePrincipal('lambda.amazonaws.com'), description: props.description });
    this.logGroup.grantWrite(this.role);
    this.fn = new NodejsFunction(this, 'Function', {
      projectRoot: props.projectRoot,
      entry: `${props.projectRoot}/${props.entry}`,
      depsLockFilePath: `${props.projectRoot}/package-lock.json`,
      handler: 'handler',
      description: props.description,
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.X86_64,
      memorySize: props.memoryMb,
      timeout: props.timeout,
      role: this.role,
      logGroup: this.logGroup,
      layers: props.layers,
      environment: { NODE_OPTIONS: '--enable-source-maps', ...props.environment },
      bundling: {
        forceDockerBundling: false,
        format: OutputFormat.CJS,
        target: 'node22',
        sourceMap: true,
        externalModules: props.externalModules ?? [],
        // Some ESM dependencies (h5wasm) read import.meta.url, which a CommonJS bundle must provide.
        banner: "const __importMetaUrl = require('url').pathToFileURL(__filename).href;",
        define: { 'import.meta.url': '__importMetaUrl' },
        commandHooks: {
          beforeBundling: () => [],
          beforeInstall: () => [],
          afterBundling: (inputDir, outputDir) => props.afterBundling?.(inputDir, outputDir) ?? [],
        },
      },
    });
  }
}
