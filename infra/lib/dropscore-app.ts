/** Composes the CDK app exactly as `cdk synth` runs it, so tests synthesize the same thing. */
import { join } from 'node:path';
import { App, Validations, type AppProps, type Environment } from 'aws-cdk-lib';
import { S3_SERVER_ACCESS_LOGS_USE_BUCKET_POLICY } from 'aws-cdk-lib/cx-api';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { DeploymentsManifest } from '../manifest/deployments-manifest.js';
import { DropscoreStack } from './dropscore-stack.js';
import { readModelFrameworks } from './model-frameworks.js';
import { applyNagSuppressions } from './nag-suppressions.js';
import { stackNameFor } from './stage.js';

export interface DropscoreAppProps {
  readonly manifest: DeploymentsManifest;
  readonly projectRoot: string;
  /** See DropscoreStackProps.localstack. */
  readonly localstack: boolean;
  readonly env?: Environment;
  /** See stage.ts. */
  readonly stage?: string;
  /** Overrides the manifest's `alarms.email`. */
  readonly alarmEmail?: string;
  readonly appProps?: AppProps;
}

export function createDropscoreApp(props: DropscoreAppProps): { app: App; stack: DropscoreStack } {
  // The access-log bucket has no ACLs: S3 log delivery must be granted by bucket policy, whatever cdk.json says.
  const app = new App({ ...props.appProps, context: { [S3_SERVER_ACCESS_LOGS_USE_BUCKET_POLICY]: true, ...props.appProps?.context } });
  const stack = new DropscoreStack(app, stackNameFor(props.stage), {
    manifest: props.manifest,
    projectRoot: props.projectRoot,
    frameworks: readModelFrameworks(join(props.projectRoot, 'layers/models'), props.manifest),
    localstack: props.localstack,
    env: props.env,
    stage: props.stage,
    alarmEmail: props.alarmEmail ?? props.manifest.alarmEmail,
  });
  applyNagSuppressions(stack);
  // Synth fails on any AwsSolutions finding that is not acknowledged with a reason.
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  return { app, stack };
}
