/** The CDK app. The only place that reads CDK context or the environment for infrastructure. */
import { App } from 'aws-cdk-lib';
import { readDeploymentsManifest } from '../manifest/deployments-manifest.js';
import { DropscoreStack } from '../lib/dropscore-stack.js';

const app = new App();
const manifestPath = (app.node.tryGetContext('manifest') as string | undefined) ?? 'deployments.json';
new DropscoreStack(app, 'Dropscore', {
  manifest: readDeploymentsManifest(manifestPath),
  env: { account: process.env['CDK_DEFAULT_ACCOUNT'], region: process.env['CDK_DEFAULT_REGION'] },
});
