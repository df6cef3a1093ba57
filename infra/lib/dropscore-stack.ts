/**
 * The AWS side of dropscore, driven by the deployments manifest: the
 * deployments table and input ledger, the native runtime layer (none for
 * LocalStack), an access-log bucket, and one BatchDeployment per manifest entry.
 */
import { join } from 'node:path';
import { CfnOutput, CustomResource, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import { ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Construct } from 'constructs';
import type { DeploymentsManifest } from '../manifest/deployments-manifest.js';
import { BatchDeployment } from './constructs/batch-deployment.js';
import { DeploymentRecords } from './constructs/deployment-records.js';
import { DeploymentTables } from './constructs/deployment-tables.js';
import { RuntimeLayer } from './constructs/runtime-layer.js';
import { lifecycleRulesFor } from './constructs/secure-bucket.js';
import { tableNamesFor } from './stage.js';

export interface DropscoreStackProps extends StackProps {
  readonly manifest: DeploymentsManifest;
  readonly projectRoot: string;
  /** framework of each model folder, read by the app (`layers/models/<name>/model-meta.json`). */
  readonly frameworks: Readonly<Record<string, string>>;
  /** Built for LocalStack Community (see BatchDeploymentProps.localstack): no layers at all. */
  readonly localstack?: boolean;
  readonly logRetention?: RetentionDays;
  /** See stage.ts: prefixes the table names (the app names the stack). */
  readonly stage?: string;
  /** Subscribed to the alarm topic (it must confirm the subscription from the email AWS sends). */
  readonly alarmEmail?: string;
}

export class DropscoreStack extends Stack {
  readonly tables: DeploymentTables;
  readonly deployments: BatchDeployment[];
  readonly alarmTopic: Topic;

  constructor(scope: Construct, id: string, props: DropscoreStackProps) {
    super(scope, id, props);
    const logRetention = props.logRetention ?? RetentionDays.ONE_MONTH;
    this.tables = new DeploymentTables(this, 'Tables', { names: tableNamesFor(props.stage) });
    this.alarmTopic = this.createAlarmTopic(props.alarmEmail);
    const nodeModules = join(props.projectRoot, 'node_modules');
    const runtime = props.localstack ? undefined : new RuntimeLayer(this, 'Runtime', { nodeModules });
    const records = new DeploymentRecords(this, 'Records', { projectRoot: props.projectRoot, deploymentsTable: this.tables.deployments, logRetention });
    const accessLogs = new Bucket(this, 'AccessLogs', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      // No ACLs: S3 log delivery is granted by a bucket policy (feature flag @aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy).
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: lifecycleRulesFor(false),
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.deployments = props.manifest.deployments.map((spec) => {
      const deployment = new BatchDeployment(this, `Deployment-${spec.name}`, {
        spec,
        framework: props.frameworks[spec.model] ?? 'unknown',
        projectRoot: props.projectRoot,
        modelsRoot: join(props.projectRoot, 'layers/models'),
        nodeModules,
        runtimeLayer: runtime?.layer,
        deploymentsTable: this.tables.deployments,
        ledgerTable: this.tables.ledger,
        accessLogs,
        recordProvider: records.provider.fn,
        localstack: props.localstack ?? false,
        logRetention,
        alarmTopic: this.alarmTopic,
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
    new CfnOutput(this, 'AlarmTopicArn', { value: this.alarmTopic.topicArn });
  }

  /**
   * Every deployment's alarms go here. Encrypted with a key of our own: CloudWatch cannot
   * publish to a topic under the AWS-managed SNS key, so its key policy lets CloudWatch in.
   */
  private createAlarmTopic(email: string | undefined): Topic {
    const key = new Key(this, 'AlarmTopicKey', {
      description: 'dropscore: encrypts alarm notifications',
      enableKeyRotation: true,
      // It protects notifications in flight, no stored data: it goes with the stack.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    key.grant(new ServicePrincipal('cloudwatch.amazonaws.com'), 'kms:Decrypt', 'kms:GenerateDataKey*');
    const topic = new Topic(this, 'AlarmTopic', { displayName: 'dropscore alarms', masterKey: key, enforceSSL: true });
    if (email) topic.addSubscription(new EmailSubscription(email));
    return topic;
  }
}
