/**
 * The function behind every deployment's `Custom::DropscoreDeployment`
 * resource: it writes the record (INITIALIZING) at deploy time, asks the
 * scorer to warm up, and marks the record DELETED when the deployment goes.
 * It reuses the scorer's DynamoDB store, so the record has one definition.
 */
import { Duration } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { NodeFunction } from './node-function.js';

export interface DeploymentRecordsProps {
  readonly projectRoot: string;
  readonly deploymentsTable: ITable;
  readonly logRetention: RetentionDays;
}

export class DeploymentRecords extends Construct {
  readonly provider: NodeFunction;

  constructor(scope: Construct, id: string, props: DeploymentRecordsProps) {
    super(scope, id);
    this.provider = new NodeFunction(this, 'Provider', {
      projectRoot: props.projectRoot,
      entry: 'functions/deployment-record/handler.ts',
      description: 'dropscore: writes deployment records at deploy time and warms up scorers',
      memoryMb: 256,
      timeout: Duration.minutes(1),
      logRetention: props.logRetention,
      environment: { DEPLOYMENTS_TABLE: props.deploymentsTable.tableName },
    });
    this.provider.role.addToPolicy(new PolicyStatement({ actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'], resources: [props.deploymentsTable.tableArn] }));
  }

  /** The provider may warm up exactly the scorers registered here. */
  allowWarmUp(scorer: IFunction): void {
    this.provider.role.addToPolicy(new PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [scorer.functionArn] }));
  }
}
