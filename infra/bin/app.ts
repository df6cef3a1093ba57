/**
 * The CDK app: `cdk synth` / `cdk deploy`. The only place that reads CDK
 * context or the environment for infrastructure.
 *   -c manifest=deployments.json   which deployments to provision
 *   -c localstack=true             for LocalStack Community: no layers, notifications on the buckets (README "LocalStack")
 *   -c stage=dev                   a separate copy: stack Dropscore-dev, tables dropscore-dev-*
 *   -c alarmEmail=ops@example.com  subscribe this address to the alarms (overrides the manifest's)
 */
import { resolve } from 'node:path';
import { App } from 'aws-cdk-lib';
import { createDropscoreApp } from '../lib/dropscore-app.js';
import { checkAlarmEmail, readDeploymentsManifest } from '../manifest/deployments-manifest.js';

// Context is read from a throwaway App: the real one is built with it below.
const context = new App().node;
const manifestPath = resolve(String(context.tryGetContext('manifest') ?? 'deployments.json'));
const stage = context.tryGetContext('stage') as string | undefined;
const alarmEmail = context.tryGetContext('alarmEmail') as string | undefined;
createDropscoreApp({
  manifest: readDeploymentsManifest(manifestPath),
  projectRoot: resolve('.'),
  localstack: String(context.tryGetContext('localstack') ?? 'false') === 'true',
  ...(stage ? { stage: String(stage) } : {}),
  ...(alarmEmail ? { alarmEmail: checkAlarmEmail(String(alarmEmail), '-c alarmEmail') } : {}),
  env: { account: process.env['CDK_DEFAULT_ACCOUNT'], region: process.env['CDK_DEFAULT_REGION'] },
});
