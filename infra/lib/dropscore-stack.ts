/**
 * The AWS side of dropscore. For now it provisions the deployments table and
 * the input ledger; the per-deployment buckets, scorer functions and layers
 * come with the cloud issue, driven by the same deployments manifest.
 */
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { DeploymentsManifest } from '../manifest/deployments-manifest.js';
import { DeploymentTables } from './constructs/deployment-tables.js';

export interface DropscoreStackProps extends StackProps {
  readonly manifest: DeploymentsManifest;
}

export class DropscoreStack extends Stack {
  readonly tables: DeploymentTables;

  constructor(scope: Construct, id: string, props: DropscoreStackProps) {
    super(scope, id, props);
    this.tables = new DeploymentTables(this, 'Tables');
    new CfnOutput(this, 'DeploymentsTableName', { value: this.tables.deployments.tableName });
    new CfnOutput(this, 'LedgerTableName', { value: this.tables.ledger.tableName });
    new CfnOutput(this, 'ManifestDeployments', { value: props.manifest.deployments.map((d) => d.name).join(',') || '(none)' });
  }
}
