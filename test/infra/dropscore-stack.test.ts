/**
 * What matters in the synthesized template: permissions scoped to the right
 * ARNs, event wiring, layers, runtime, dead-letter paths, tables, bucket
 * safety, stable logical IDs of stateful resources, and cdk-nag passing.
 * Bundling is skipped here (see lambda-package.test.ts for the real bundle).
 */
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { createDropscoreApp } from '../../infra/lib/dropscore-app.js';
import { parseDeploymentsManifest } from '../../infra/manifest/deployments-manifest.js';
import { REPO_ROOT } from '../support/paths.js';

const manifest = parseDeploymentsManifest(
  {
    deployments: [
      { name: 'digits', model: 'mnist-cnn-onnx', source: { bucket: 'acme-digits-in', prefix: 'drop/', suffix: '.json' }, target: { bucket: 'acme-digits-out', prefix: 'scored/' } },
      { name: 'bulk', model: 'mnist-keras', source: { bucket: 'acme-bulk' , prefix: 'in/' }, target: { bucket: 'acme-bulk', prefix: 'out/' }, delivery: { mode: 'queued', batchSize: 25, batchWindowSeconds: 2 } },
    ],
  },
  'test manifest',
);

function synth(directNotifications = false) {
  const { app, stack } = createDropscoreApp({
    manifest,
    projectRoot: REPO_ROOT,
    directNotifications,
    env: { account: '123456789012', region: 'eu-west-1' },
    appProps: { context: { 'aws:cdk:bundling-stacks': [] } },
  });
  return { app, stack, template: Template.fromStack(stack) };
}

const { app, stack, template } = synth();
const scorerPolicy = (deployment: string) => {
  const policies = template.findResources('AWS::IAM::Policy', { Properties: { PolicyName: Match.stringLikeRegexp(`^Deployment${deployment}ScorerRole`) } });
  return Object.values(policies)[0]!.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown; Condition?: unknown }[];
};

describe('scorer functions', () => {
  it('run nodejs22.x: ONNX on x86_64 with the onnxruntime layer, Keras on arm64 with only its model layer', () => {
    const scorers = template.findResources('AWS::Lambda::Function', { Properties: { Description: Match.stringLikeRegexp('^dropscore scorer') } });
    expect(Object.keys(scorers)).toHaveLength(2);
    const byDeployment = (name: string) => Object.values(scorers).find((fn) => fn.Properties.Environment.Variables.DEPLOYMENT_NAME === name)!;
    expect(byDeployment('digits').Properties).toMatchObject({ Runtime: 'nodejs22.x', Architectures: ['x86_64'] });
    expect(byDeployment('digits').Properties.Layers).toHaveLength(2);
    expect(byDeployment('bulk').Properties).toMatchObject({ Runtime: 'nodejs22.x', Architectures: ['arm64'] });
    expect(byDeployment('bulk').Properties.Layers).toHaveLength(1);
    for (const fn of Object.values(scorers)) expect(JSON.stringify(fn.Properties.Environment.Variables)).not.toContain('NODE_OPTIONS');
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: 'dropscore scorer for deployment digits (model mnist-cnn-onnx)',
      Environment: { Variables: Match.objectLike({ MODEL_DIR: '/opt/models/mnist-cnn-onnx', SOURCE_BUCKET: 'acme-digits-in', SOURCE_PREFIX: 'drop/', SOURCE_SUFFIX: '.json', TARGET_PREFIX: 'scored/', DEPLOYMENT_NAME: 'digits' }) },
    });
    template.resourceCountIs('AWS::Lambda::LayerVersion', 3); // runtime + one per model
    template.hasResourceProperties('AWS::Lambda::LayerVersion', { Description: 'dropscore model mnist-keras', CompatibleArchitectures: ['x86_64', 'arm64'] });
  });

  it('may read only the source prefix, write only the target prefix, and touch only their own table items', () => {
    const statements = scorerPolicy('digits');
    const s3 = statements.filter((s) => String(s.Action).startsWith('s3:'));
    expect(s3).toEqual([
      expect.objectContaining({ Action: 's3:GetObject', Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::acme-digits-in/drop/*']] } }),
      expect.objectContaining({ Action: 's3:ListBucket', Condition: { StringLike: { 's3:prefix': ['drop/*'] } } }),
      // GetObject: HeadObject of an existing outcome, for redelivered events (test/integration/iam-enforced.test.ts).
      expect.objectContaining({ Action: ['s3:PutObject', 's3:GetObject'], Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::acme-digits-out/scored/*']] } }),
    ]);
    const dynamo = statements.filter((s) => String(s.Action).includes('dynamodb:'));
    const id = manifest.deployments[0]!.id;
    expect(dynamo.map((s) => s.Condition)).toEqual([
      { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [id, '__usage__'] } }, // its record + the shared usage item
      { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${id}#*`] } }, // its ledger entries
    ]);
    const everything = JSON.stringify(statements);
    expect(everything).not.toMatch(/"s3:\*"|"dynamodb:\*"|"Resource":"\*"/);
  });
});

describe('delivery', () => {
  it('direct: the source bucket notifies the scorer for its prefix and suffix; failed async events go to the DLQ', () => {
    template.hasResourceProperties('Custom::S3BucketNotifications', {
      NotificationConfiguration: {
        LambdaFunctionConfigurations: [
          Match.objectLike({ Events: ['s3:ObjectCreated:*'], Filter: { Key: { FilterRules: [{ Name: 'suffix', Value: '.json' }, { Name: 'prefix', Value: 'drop/' }] } } }),
        ],
      },
    });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      MaximumRetryAttempts: 2,
      MaximumEventAgeInSeconds: 21600,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [Match.stringLikeRegexp('^DeploymentdigitsDeadLetters'), 'Arn'] } } },
    });
  });

  it('queued: S3 → SQS → scorer in batches with partial failures reported, and a redrive to the DLQ', () => {
    // Pulling stops at the function's reserved concurrency (default 10), instead of throttling into retries.
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', { BatchSize: 25, MaximumBatchingWindowInSeconds: 2, FunctionResponseTypes: ['ReportBatchItemFailures'], ScalingConfig: { MaximumConcurrency: 10 } });
    template.hasResourceProperties('AWS::SQS::Queue', {
      RedrivePolicy: { maxReceiveCount: 5, deadLetterTargetArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^DeploymentbulkDeadLetters'), 'Arn'] } },
      VisibilityTimeout: 360,
    });
    template.hasResourceProperties('Custom::S3BucketNotifications', {
      NotificationConfiguration: { QueueConfigurations: [Match.objectLike({ Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'in/' }] } } })] },
    });
  });

  it('alarms on errors, throttles, dropped async events, dead letters and their age, queue age; every alarm publishes to the alarm topic', () => {
    // digits (direct): errors, throttles, async events dropped, dead letters, dead-letter age; bulk (queued): the same with queue age instead of dropped events.
    template.resourceCountIs('AWS::CloudWatch::Alarm', 10);
    const topic = Object.keys(template.findResources('AWS::SNS::Topic'));
    expect(topic).toHaveLength(1);
    for (const alarm of Object.values(template.findResources('AWS::CloudWatch::Alarm'))) expect(alarm.Properties.AlarmActions).toEqual([{ Ref: topic[0] }]);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'ApproximateNumberOfMessagesVisible', Threshold: 1 });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'Errors', Namespace: 'AWS/Lambda', Threshold: 1 });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'Throttles', Namespace: 'AWS/Lambda', Threshold: 1 });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'AsyncEventsDropped', Namespace: 'AWS/Lambda', Threshold: 1 });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'ApproximateAgeOfOldestMessage', Threshold: 86400 });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'ApproximateAgeOfOldestMessage', Threshold: 900 });
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    template.resourceCountIs('AWS::SNS::Subscription', 0);
  });

  it('subscribes an email address to the alarms when given one', () => {
    const { stack } = createDropscoreApp({ manifest, projectRoot: REPO_ROOT, directNotifications: false, alarmEmail: 'ops@example.com', env: { account: '123456789012', region: 'eu-west-1' }, appProps: { context: { 'aws:cdk:bundling-stacks': [] } } });
    Template.fromStack(stack).hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com' });
  });

  it('caps each scorer with reserved concurrency, so one large drop cannot take the account\'s', () => {
    const scorers = template.findResources('AWS::Lambda::Function', { Properties: { Description: Match.stringLikeRegexp('^dropscore scorer') } });
    for (const fn of Object.values(scorers)) expect(fn.Properties.ReservedConcurrentExecutions).toBe(10);
  });

  it('expires noncurrent versions and aborts incomplete multipart uploads in the buckets it creates', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketName: 'acme-digits-in',
      LifecycleConfiguration: {
        Rules: [
          Match.objectLike({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 }, Status: 'Enabled' }),
          Match.objectLike({ NoncurrentVersionExpiration: { NoncurrentDays: 30 }, Status: 'Enabled' }),
        ],
      },
    });
  });

  it('LocalStack mode writes the notification on the bucket itself, with no custom resource', () => {
    const local = synth(true).template;
    local.resourceCountIs('Custom::S3BucketNotifications', 0);
    // Bucket names are global: the queue accepts S3's messages only from this account's bucket.
    local.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: 'sqs:SendMessage', Condition: Match.objectLike({ StringEquals: { 'aws:SourceAccount': '123456789012' } }) })]) },
    });
    local.hasResourceProperties('AWS::S3::Bucket', {
      BucketName: 'acme-digits-in',
      NotificationConfiguration: { LambdaConfigurations: [Match.objectLike({ Event: 's3:ObjectCreated:*' })] },
    });
    local.hasResourceProperties('AWS::S3::Bucket', { BucketName: 'acme-bulk', NotificationConfiguration: { QueueConfigurations: [Match.objectLike({ Event: 's3:ObjectCreated:*' })] } });
    local.hasResourceProperties('AWS::Lambda::Permission', { Principal: 's3.amazonaws.com', SourceAccount: '123456789012' });
  });
});

describe('data', () => {
  it('keys the deployments table by id and the ledger by deployment and input, on demand, with point-in-time recovery', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'deployment_id', KeyType: 'HASH' }, { AttributeName: 'input', KeyType: 'RANGE' }],
      TimeToLiveSpecification: { AttributeName: 'expires_at', Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
  });

  it('buckets block public access, encrypt, log access and are versioned; TLS is enforced', () => {
    for (const name of ['acme-digits-in', 'acme-digits-out', 'acme-bulk']) {
      template.hasResource('AWS::S3::Bucket', {
        Properties: Match.objectLike({
          BucketName: name,
          PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
          BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
          VersioningConfiguration: { Status: 'Enabled' },
          LoggingConfiguration: Match.objectLike({ LogFilePrefix: `${name}/` }),
        }),
        DeletionPolicy: 'Retain',
      });
    }
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });

  it('gives each scorer an IAM-authenticated function URL for online scoring, recorded with the deployment', () => {
    template.resourceCountIs('AWS::Lambda::Url', 2);
    template.hasResourceProperties('AWS::Lambda::Url', { AuthType: 'AWS_IAM', TargetFunctionArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^DeploymentdigitsScorerFunction'), 'Arn'] } });
    template.hasResourceProperties('Custom::DropscoreDeployment', { ScoringUrl: { 'Fn::GetAtt': [Match.stringLikeRegexp('^DeploymentdigitsScorerFunctionFunctionUrl'), 'FunctionUrl'] } });
  });

  it('writes each deployment record at deploy time through its custom resource', () => {
    template.hasResourceProperties('Custom::DropscoreDeployment', {
      Deployment: Match.serializedJson(Match.objectLike({ id: manifest.deployments[0]!.id, name: 'digits', framework: 'onnx', model: 'mnist-cnn-onnx' })),
    });
    template.hasResourceProperties('Custom::DropscoreDeployment', { Deployment: Match.serializedJson(Match.objectLike({ name: 'bulk', framework: 'keras' })) });
  });

  it('writes the manifest\'s usage limits to the table at deploy time', () => {
    template.hasResourceProperties('Custom::DropscoreUsageLimits', { Limits: '{}' });
  });

  it('keeps the logical IDs of stateful resources stable', () => {
    const ids = (type: string) => Object.keys(template.findResources(type)).sort();
    expect(ids('AWS::DynamoDB::Table')).toEqual([expect.stringMatching(/^TablesDeployments[0-9A-F]{8}$/), expect.stringMatching(/^TablesLedger[0-9A-F]{8}$/)]);
    expect(ids('AWS::S3::Bucket')).toEqual([
      expect.stringMatching(/^AccessLogs[0-9A-F]{8}$/),
      expect.stringMatching(/^DeploymentbulkSource[0-9A-F]{8}$/),
      expect.stringMatching(/^DeploymentdigitsSource[0-9A-F]{8}$/),
      expect.stringMatching(/^DeploymentdigitsTarget[0-9A-F]{8}$/),
    ]);
    expect(ids('AWS::SQS::Queue')).toEqual([
      expect.stringMatching(/^DeploymentbulkDeadLetters[0-9A-F]{8}$/),
      expect.stringMatching(/^DeploymentbulkDeliveries[0-9A-F]{8}$/),
      expect.stringMatching(/^DeploymentdigitsDeadLetters[0-9A-F]{8}$/),
    ]);
  });
});

describe('cdk-nag', () => {
  it('passes the AwsSolutions pack with every suppression carrying a reason', () => {
    expect(() => app.synth({ force: true })).not.toThrow();
    expect(Annotations.fromStack(stack).findError('*', Match.stringLikeRegexp('AwsSolutions'))).toEqual([]);
  });

  it('fails synth on a finding nobody acknowledged (the checks are live)', () => {
    const extra = synth();
    new Queue(extra.stack, 'Unchecked'); // no DLQ, no TLS enforcement
    expect(() => extra.app.synth({ force: true })).toThrow(/AwsSolutions-SQS/);
  });
});
