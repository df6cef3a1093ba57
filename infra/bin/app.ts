/**
 * The CDK app: `cdk synth` / `cdk deploy`. The only place that reads CDK
 * context or the environment for infrastructure.
 *   -c manifest=deployments.json   which deployments to provision
 *   -c localstack=true             write bucket notifications directly (LocalStack Community)
 *   -c alarmEmail=ops@example.com  subscribe an email address to every alarm
 */
import { resolve } from 'node:path';
import { App } from 'aws-cdk-lib';
import { createDropscoreApp } from '../lib/dropscore-app.js';
import { readDeploymentsManifest } from '../manifest/deployments-manifest.js';

// Context is read from a throwaway App: the real one is built with it below.
const context = new App().node;
const manifestPath = resolve(String(context.tryGetContext('manifest') ?? 'deployments.json'));
createDropscoreApp({
  manifest: readDeploymentsManifest(manifestPath),
  projectRoot: resolve('.'),
  directNotifications: String(context.tryGetContext('localstack') ?? 'false') === 'true',
  ...(context.tryGetContext('alarmEmail') ? { alarmEmail: String(context.tryGetContext('alarmEmail')) } : {}),
  env: { account: process.env['CDK_DEFAULT_ACCOUNT'], region: process.env['CDK_DEFAULT_REGION'] },
});
