/** Composes the CDK app exactly as `cdk synth` runs it, so tests synthesize the same thing. */
import { join } from 'node:path';
import { App, Validations, type AppProps, type Environment } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { DeploymentsManifest } from '../manifest/deployments-manifest.js';
import { DropscoreStack } from './dropscore-stack.js';
import { readModelFrameworks } from './model-frameworks.js';
import { applyNagSuppressions } from './nag-suppressions.js';

export interface DropscoreAppProps {
  readonly manifest: DeploymentsManifest;
  readonly projectRoot: string;
  readonly directNotifications: boolean;
  /** Email subscribed to the alarm topic. */
  readonly alarmEmail?: string;
  readonly env?: Environment;
  readonly appProps?: AppProps;
}

export function createDropscoreApp(props: DropscoreAppProps): { app: App; stack: DropscoreStack } {
  const app = new App(props.appProps);
  const stack = new DropscoreStack(app, 'Dropscore', {
    manifest: props.manifest,
    projectRoot: props.projectRoot,
    frameworks: readModelFrameworks(join(props.projectRoot, 'layers/models'), props.manifest),
    directNotifications: props.directNotifications,
    alarmEmail: props.alarmEmail,
    env: props.env,
  });
  applyNagSuppressions(stack);
  // Synth fails on any AwsSolutions finding that is not acknowledged with a reason.
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  return { app, stack };
}
