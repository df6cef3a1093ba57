/**
 * The AWS side of dropscore, driven by the deployments manifest: the
 * deployments table and input ledger, the native runtime layer, an access-log
 * bucket, and one BatchDeployment per manifest entry.
 */
import { join } from 'node:path';
import { CfnOutput, CustomResource, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import { Alias } from 'aws-cdk-lib/aws-kms';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import type { DeploymentsManifest } from '../manifest/deployments-manifest.js';
import { BatchDeployment } from './constructs/batch-deployment.js';
import { DeploymentRecords } from './constructs/deployment-records.js';
import { DeploymentTables } from './constructs/deployment-tables.js';
import { RuntimeLayer } from './constructs/runtime-layer.js';

export interface DropscoreStackProps extends StackProps {
  readonly manifest: DeploymentsManifest;
  readonly projectRoot: string;
  /** framework of each model folder, read by the app (`layers/models/<name>/model-meta.json`). */
  readonly frameworks: Readonly<Record<string, string>>;
  /** See BatchDeploymentProps.directNotifications. */
  readonly directNotifications?: boolean;
  readonly logRetention?: RetentionDays;
  /** Subscribed by email to every alarm (optional; others can subscribe to the topic output). */
  readonly alarmEmail?: string;
}

export class DropscoreStack extends Stack {
  readonly tables: DeploymentTables;
  readonly deployments: BatchDeployment[];

  constructor(scope: Construct, id: string, props: DropscoreStackProps) {
    super(scope, id, props);
    const logRetention = props.logRetention ?? RetentionDays.ONE_MONTH;
    this.tables = new DeploymentTables(this, 'Tables');
    const runtime = new RuntimeLayer(this, 'Runtime', { nodeModules: join(props.projectRoot, 'node_modules') });
    const records = new DeploymentRecords(this, 'Records', { projectRoot: props.projectRoot, deploymentsTable: this.tables.deployments, logRetention });
    // Every alarm publishes here: subscribe by email (-c alarmEmail=...) or any SNS subscriber.
    const alarmTopic = new Topic(this, 'Alarms', { displayName: 'dropscore alarms', enforceSSL: true, masterKey: Alias.fromAliasName(this, 'SnsKey', 'alias/aws/sns') });
    if (props.alarmEmail) alarmTopic.addSubscription(new EmailSubscription(props.alarmEmail));
    new CfnOutput(this, 'AlarmTopicArn', { value: alarmTopic.topicArn });
    const accessLogs = new Bucket(this, 'AccessLogs', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_PREFERRED,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.deployments = props.manifest.deployments.map((spec) => {
      const deployment = new BatchDeployment(this, `Deployment-${spec.name}`, {
        spec,
        framework: props.frameworks[spec.model] ?? 'unknown',
        projectRoot: props.projectRoot,
        modelsRoot: join(props.projectRoot, 'layers/models'),
        runtimeLayer: runtime.layer,
        deploymentsTable: this.tables.deployments,
        ledgerTable: this.tables.ledger,
        accessLogs,
        recordProvider: records.provider.fn,
        directNotifications: props.directNotifications ?? false,
        logRetention,
        alarmTopic,
      });
      records.allowWarmUp(deployment.scorer.fn);
      new CfnOutput(this, `${spec.name}-source`, { value: `s3://${spec.source.bucket}/${spec.source.prefix}` });
      new CfnOutput(this, `${spec.name}-target`, { value: `s3://${spec.target.bucket}/${spec.target.prefix}` });
      new CfnOutput(this, `${spec.name}-scoring-url`, { value: deployment.scoringUrl.url });
      return deployment;
    });
    new CustomResource(this, 'UsageLimits', {
      serviceToken: records.provider.fn.functionArn,
      resourceType: 'Custom::DropscoreUsageLimits',
      properties: { Limits: JSON.stringify(props.manifest.limits) },
    });
    new CfnOutput(this, 'DeploymentsTableName', { value: this.tables.deployments.tableName });
    new CfnOutput(this, 'LedgerTableName', { value: this.tables.ledger.tableName });
  }
}
