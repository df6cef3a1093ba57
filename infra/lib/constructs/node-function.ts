/**
 * A Node.js Lambda function the way all of ours are built: nodejs22.x,
 * x86_64 unless told otherwise (onnxruntime aborts on arm64 Lambda), bundled
 * by the local esbuild (never Docker) into one minified ES module with no
 * source map (top-level await is Lambda's init; loading a 24 MB map with
 * --enable-source-maps doubled the import time), its own log group with a
 * retention, and a role that may write only to that log group.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime, Tracing, type ILayerVersion } from 'aws-cdk-lib/aws-lambda';
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
  /** Default x86_64; arm64 only for functions that load no native module. */
  readonly architecture?: Architecture;
  /** Packages provided by a layer instead of the bundle. */
  readonly externalModules?: string[];
  /** Import specifiers bundled from another file (esbuild's alias). */
  readonly aliases?: Readonly<Record<string, string>>;
  /** Shell commands run after bundling, e.g. to copy data files beside the bundle. */
  readonly afterBundling?: (inputDir: string, outputDir: string) => string[];
  readonly logRetention: RetentionDays;
  /** Concurrent executions reserved for (and capping) the function; unreserved when absent. */
  readonly reservedConcurrency?: number;
  /** X-Ray tracing (active: the function samples and sends traces). */
  readonly tracing?: Tracing;
}

// CommonJS dependencies bundled into an ES module still call require() and read __dirname
// (TensorFlow.js's wasm backend finds its .wasm files beside the bundle by it).
const ESM_BANNER = [
  "import { createRequire as __createRequire } from 'node:module';",
  "import { fileURLToPath as __fileURLToPath } from 'node:url';",
  "import { dirname as __pathDirname } from 'node:path';",
  'const require = __createRequire(import.meta.url);',
  'const __filename = __fileURLToPath(import.meta.url);',
  'const __dirname = __pathDirname(__filename);',
].join(' ');

/**
 * How every function is bundled: one minified ES module for Node 22. Packages'
 * ES module builds come first: the AWS SDK's CommonJS builds are one eager file
 * per client (every command of DynamoDB evaluated at import), its ES modules
 * are tree-shaken to the commands used (BENCHMARKS.md "Cold start": about 50
 * ms less from process start to the first request). The benches and the
 * package test bundle with these same options.
 */
export const BUNDLE_OPTIONS = {
  bundle: true,
  platform: 'node' as const,
  format: 'esm' as const,
  target: 'node22',
  minify: true,
  mainFields: ['module', 'main'],
  banner: { js: ESM_BANNER },
};

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
      architecture: props.architecture ?? Architecture.X86_64,
      memorySize: props.memoryMb,
      timeout: props.timeout,
      role: this.role,
      logGroup: this.logGroup,
      layers: props.layers,
      environment: props.environment,
      reservedConcurrentExecutions: props.reservedConcurrency,
      tracing: props.tracing,
      bundling: {
        forceDockerBundling: false,
        format: OutputFormat.ESM,
        target: BUNDLE_OPTIONS.target,
        minify: BUNDLE_OPTIONS.minify,
        mainFields: BUNDLE_OPTIONS.mainFields,
        sourceMap: false,
        externalModules: props.externalModules ?? [],
        banner: BUNDLE_OPTIONS.banner.js,
        esbuildArgs: Object.fromEntries(Object.entries(props.aliases ?? {}).map(([from, to]) => [`--alias:${from}`, to])),
        commandHooks: {
          beforeBundling: () => [],
          beforeInstall: () => [],
          afterBundling: (inputDir, outputDir) => props.afterBundling?.(inputDir, outputDir) ?? [],
        },
      },
    });
  }
}
