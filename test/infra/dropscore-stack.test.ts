/**
 * What matters in the synthesized template: permissions scoped to the right
 * ARNs, event wiring, layers, runtime, dead-letter paths, tables, bucket
 * safety, stable logical IDs of stateful resources, and cdk-nag passing.
 * Bundling is skipped here (see lambda-package.test.ts for the real bundle).
 */
import { cpSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { createDropscoreApp } from '../../infra/lib/dropscore-app.js';
import { parseDeploymentsManifest } from '../../infra/manifest/deployments-manifest.js';
import { CURRENTLY_RECOMMENDED_FLAGS } from 'aws-cdk-lib/cx-api';
import type { DeploymentsManifest } from '../../infra/manifest/deployments-manifest.js';
import { CDK_JSON_CONTEXT } from '../support/cdk-context.js';
import { REPO_ROOT } from '../support/paths.js';

const manifest = parseDeploymentsManifest(
  {
    deployments: [
      { name: 'digits', model: 'mnist-cnn-onnx', source: { bucket: 'acme-digits-in', prefix: 'drop/', suffix: '.json' }, target: { bucket: 'acme-digits-out', prefix: 'scored/' } },
      { name: 'bulk', model: 'mnist-keras', source: { bucket: 'acme-bulk' , prefix: 'in/' }, target: { bucket: 'acme-bulk', prefix: 'out/' }, delivery: { mode: 'queued', batchSize: 25, batchWindowSeconds: 2 }, traceAwsCalls: true },
    ],
  },
  'test manifest',
);

// cdk.json's context (its feature flags), as `cdk synth` runs.
function synth(localstack = false, options: { manifest?: DeploymentsManifest; stage?: string; alarmEmail?: string; projectRoot?: string } = {}) {
  const { app, stack } = createDropscoreApp({
    manifest: options.manifest ?? manifest,
    projectRoot: options.projectRoot ?? REPO_ROOT,
    localstack,
    env: { account: '123456789012', region: 'eu-west-1' },
    appProps: { context: { ...CDK_JSON_CONTEXT, 'aws:cdk:bundling-stacks': [] } },
    ...(options.stage ? { stage: options.stage } : {}),
    ...(options.alarmEmail ? { alarmEmail: options.alarmEmail } : {}),
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
      // AbortMultipartUpload: a large bulk outcome is a multipart upload, aborted if it fails.
      expect.objectContaining({ Action: ['s3:AbortMultipartUpload', 's3:GetObject', 's3:PutObject'], Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::acme-digits-out/scored/*']] } }),
      // A bulk file's part objects are deleted once assembled; nothing else is.
      expect.objectContaining({ Action: 's3:DeleteObject', Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::acme-digits-out/scored/.dropscore-parts/*']] } }),
    ]);
    const dynamo = statements.filter((s) => String(s.Action).includes('dynamodb:'));
    const id = manifest.deployments[0]!.id;
    expect(dynamo.map((s) => s.Condition)).toEqual([
      { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [id, '__usage__'] } }, // its record + the shared usage item
      { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${id}#*`] } }, // its ledger entries
    ]);
    const everything = JSON.stringify(statements);
    expect(everything).not.toMatch(/"s3:\*"|"dynamodb:\*"|"kms:/);
    // The only statement on "*" is X-Ray's (its actions take no resource): tracing, nothing else.
    expect(statements.filter((s) => s.Resource === '*')).toEqual([expect.objectContaining({ Action: ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'] })]);
  });

  it('trace with X-Ray and reserve their concurrency (10 by default)', () => {
    const scorers = Object.values(template.findResources('AWS::Lambda::Function', { Properties: { Description: Match.stringLikeRegexp('^dropscore scorer') } }));
    for (const fn of scorers) expect(fn.Properties).toMatchObject({ TracingConfig: { Mode: 'Active' }, ReservedConcurrentExecutions: 10 });
  });

  it('may use the SSE-KMS keys of existing buckets through S3 only, and no other key', () => {
    const key = (id: string) => `arn:aws:kms:eu-west-1:123456789012:key/${id}`;
    const kms = parseDeploymentsManifest(
      { deployments: [{ name: 'kms', model: 'mnist-cnn-onnx', reservedConcurrency: null, source: { bucket: 'corp-in', existing: true, kmsKeyArn: key('in-key') }, target: { bucket: 'corp-out', existing: true, kmsKeyArn: key('out-key') } }] },
      'kms manifest',
    );
    const kmsTemplate = synth(false, { manifest: kms }).template;
    const policy = Object.values(kmsTemplate.findResources('AWS::IAM::Policy', { Properties: { PolicyName: Match.stringLikeRegexp('^DeploymentkmsScorerRole') } }))[0]!;
    const statements = policy.Properties.PolicyDocument.Statement as { Action: unknown; Resource: unknown; Condition?: unknown }[];
    const viaS3 = { StringEquals: { 'kms:ViaService': 's3.eu-west-1.amazonaws.com' } };
    expect(statements.filter((s) => JSON.stringify(s.Action).includes('kms:'))).toEqual([
      expect.objectContaining({ Action: 'kms:Decrypt', Resource: key('in-key'), Condition: viaS3 }),
      expect.objectContaining({ Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Resource: key('out-key'), Condition: viaS3 }),
    ]);
    // null: no reserved concurrency at all.
    const [fn] = Object.values(kmsTemplate.findResources('AWS::Lambda::Function', { Properties: { Description: Match.stringLikeRegexp('^dropscore scorer') } }));
    expect(fn!.Properties.ReservedConcurrentExecutions).toBeUndefined();
    kmsTemplate.resourceCountIs('AWS::S3::Bucket', 1); // only the access-log bucket: existing buckets are not created
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
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 25,
      MaximumBatchingWindowInSeconds: 2,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      // At most the reserved concurrency: a large drop waits in the queue.
      ScalingConfig: { MaximumConcurrency: 10 },
    });
    template.hasResourceProperties('AWS::SQS::Queue', {
      // AWS's advice for Lambda sources: at least 5 receives; visibility 6x the 60 s timeout.
      RedrivePolicy: { maxReceiveCount: 5, deadLetterTargetArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^DeploymentbulkDeadLetters'), 'Arn'] } },
      VisibilityTimeout: 360,
    });
    template.hasResourceProperties('Custom::S3BucketNotifications', {
      NotificationConfiguration: { QueueConfigurations: [Match.objectLike({ Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'in/' }] } } })] },
    });
  });

  it('lets S3 send to the delivery queue only for its source bucket and only from this account', () => {
    const statement = Match.objectLike({
      Principal: { Service: 's3.amazonaws.com' },
      Action: 'sqs:SendMessage',
      Condition: { ArnEquals: { 'aws:SourceArn': { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::acme-bulk']] } }, StringEquals: { 'aws:SourceAccount': '123456789012' } },
    });
    for (const t of [template, synth(true).template]) {
      t.hasResourceProperties('AWS::SQS::QueuePolicy', { PolicyDocument: { Statement: Match.arrayWith([statement]) } });
      const s3Sends = Object.values(t.findResources('AWS::SQS::QueuePolicy')).flatMap((p) => p.Properties.PolicyDocument.Statement).filter((s) => s.Principal?.Service === 's3.amazonaws.com');
      expect(s3Sends).toHaveLength(1);
    }
  });
});

describe('bulk fan-out', () => {
  const machines = () => template.findResources('AWS::StepFunctions::StateMachine');
  const machineOf = (deployment: string) => Object.entries(machines()).find(([id]) => id.startsWith(`Deployment${deployment}BulkFanOut`))!;
  /** The definition as Step Functions reads it, with each CloudFormation reference written as `<ref>`. */
  const definitionOf = (deployment: string) => {
    const parts = machineOf(deployment)[1].Properties.DefinitionString['Fn::Join'][1] as unknown[];
    return JSON.parse(parts.map((p) => (typeof p === 'string' ? p : '<ref>')).join(''));
  };
  const rolePolicyOf = (deployment: string) => {
    const roleId = machineOf(deployment)[1].Properties.RoleArn['Fn::GetAtt'][0];
    return Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((p) => p.Properties.Roles.some((r: { Ref: string }) => r.Ref === roleId))
      .flatMap((p) => p.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[]);
  };

  it('is one named Standard state machine per deployment, traced, logging every event without execution data', () => {
    expect(Object.keys(machines())).toHaveLength(2);
    expect(machineOf('digits')[1].Properties).toMatchObject({
      StateMachineName: 'Dropscore-digits-bulk',
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: { Level: 'ALL', IncludeExecutionData: false },
    });
  });

  it('plans the file, scores batches of parts in a Distributed Map reading the plan from S3, then assembles; a failure gives the file its error outcome', () => {
    const definition = definitionOf('digits');
    expect(definition.StartAt).toBe('PlanParts');
    const { PlanParts, ScoreParts, AssembleOutcome, GiveFileErrorOutcome, FileFailed } = definition.States;
    expect(PlanParts).toMatchObject({ Parameters: { dropscore: 'bulk-plan', 'input.$': '$.input' }, ResultPath: '$.plan', Next: 'ScoreParts' });
    expect(ScoreParts).toMatchObject({
      Type: 'Map',
      ItemProcessor: { ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' } },
      ItemReader: { Resource: 'arn:<ref>:states:::s3:getObject', ReaderConfig: { InputType: 'JSON' }, Parameters: { 'Bucket.$': '$.plan.planBucket', 'Key.$': '$.plan.planKey' } },
      ItemBatcher: { MaxItemsPerBatch: 1 },
      MaxConcurrency: 5,
      ResultPath: null,
      Next: 'AssembleOutcome',
    });
    // Every part must score (Step Functions' default when the field is absent is 0 % tolerated).
    expect(ScoreParts.ToleratedFailurePercentage ?? 0).toBe(0);
    const scorePart = ScoreParts.ItemProcessor.States[ScoreParts.ItemProcessor.StartAt];
    expect(scorePart).toMatchObject({ Parameters: { dropscore: 'bulk-parts', 'items.$': '$.Items' } });
    expect(AssembleOutcome).toMatchObject({ Parameters: { dropscore: 'bulk-assemble', 'input.$': '$.input', 'plan.$': '$.plan' }, End: true });
    for (const step of [PlanParts, ScoreParts, AssembleOutcome]) {
      expect(step.Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: 'GiveFileErrorOutcome' }]);
    }
    expect(GiveFileErrorOutcome).toMatchObject({ Parameters: { dropscore: 'bulk-abandon', 'input.$': '$.input', 'failure.$': '$.failure' }, Next: 'FileFailed' });
    expect(FileFailed).toMatchObject({ Type: 'Fail', Error: 'BulkFileFailed' });
    // Every scorer call is retried with jittered backoff, throttling longest: each step is idempotent.
    for (const step of [PlanParts, scorePart, AssembleOutcome, GiveFileErrorOutcome]) {
      expect(step.Retry).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ ErrorEquals: expect.arrayContaining(['Lambda.TooManyRequestsException']), JitterStrategy: 'FULL' }),
          expect.objectContaining({ ErrorEquals: ['States.TaskFailed'], JitterStrategy: 'FULL' }),
        ]),
      );
    }
  });

  it('takes its sizes and concurrency from the manifest, never past the reserved concurrency', () => {
    const custom = parseDeploymentsManifest(
      { deployments: [{ name: 'big', model: 'mnist-cnn-onnx', source: { bucket: 'acme-big-in' }, target: { bucket: 'acme-big-out' }, reservedConcurrency: 40, bulk: { fanOutBytes: 1_000_000, partBytes: 4 * 1024 * 1024, partsPerInvocation: 3, maxConcurrency: 30 } }] },
      'm',
    );
    const t = synth(false, { manifest: custom }).template;
    const machine = Object.values(t.findResources('AWS::StepFunctions::StateMachine'))[0]!;
    const definition = JSON.parse((machine.Properties.DefinitionString['Fn::Join'][1] as unknown[]).map((p) => (typeof p === 'string' ? p : '<ref>')).join(''));
    expect(definition.States.ScoreParts).toMatchObject({ ItemBatcher: { MaxItemsPerBatch: 3 }, MaxConcurrency: 30 });
    t.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ BULK_FAN_OUT_BYTES: '1000000', BULK_PART_BYTES: String(4 * 1024 * 1024) }) } });
    const over = { deployments: [{ name: 'big', model: 'mnist-cnn-onnx', source: { bucket: 'acme-big-in' }, target: { bucket: 'acme-big-out' }, bulk: { maxConcurrency: 11 } }] };
    expect(() => parseDeploymentsManifest(over, 'm')).toThrow(/bulk\.maxConcurrency .*at most reservedConcurrency, 10/);
  });

  it('lets the scorer start only its own machine, and the machine invoke only its scorer and read only its plans', () => {
    const arn = { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':states:eu-west-1:123456789012:stateMachine:Dropscore-digits-bulk']] };
    template.hasResourceProperties('AWS::Lambda::Function', { Description: Match.stringLikeRegexp('deployment digits '), Environment: { Variables: Match.objectLike({ BULK_STATE_MACHINE_ARN: arn }) } });
    expect(scorerPolicy('digits').filter((s) => JSON.stringify(s.Action).includes('states:'))).toEqual([expect.objectContaining({ Action: 'states:StartExecution', Resource: arn })]);
    const statements = rolePolicyOf('digits');
    const invoke = statements.filter((s) => JSON.stringify(s.Action).includes('lambda:'));
    expect(JSON.stringify(invoke)).toMatch(/DeploymentdigitsScorerFunction/);
    expect(JSON.stringify(invoke)).not.toMatch(/Deploymentbulk/);
    const reads = statements.filter((s) => JSON.stringify(s.Action).includes('s3:'));
    expect(reads).toEqual([
      expect.objectContaining({ Action: 's3:GetObject', Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::acme-digits-out/scored/.dropscore-parts/*']] } }),
    ]);
  });
});

describe('alarms', () => {
  const alarms = () => Object.values(template.findResources('AWS::CloudWatch::Alarm')).map((a) => a.Properties);
  const topicRef = () => ({ Ref: Object.keys(template.findResources('AWS::SNS::Topic'))[0]! });
  const on = (metric: string, resource: RegExp) => alarms().filter((a) => a.MetricName === metric && resource.test(JSON.stringify(a.Dimensions)));

  it('watch errors, throttles, dropped async events, dead letters (count and age) and a lagging delivery queue', () => {
    expect(on('Errors', /Deploymentdigits/)).toEqual([expect.objectContaining({ Namespace: 'AWS/Lambda', Threshold: 1 })]);
    expect(on('Throttles', /Deploymentdigits/)).toHaveLength(1);
    expect(on('Throttles', /Deploymentbulk/)).toHaveLength(1);
    // Direct delivery is an async invoke: Lambda can drop events; queued delivery has no async events.
    expect(on('AsyncEventsDropped', /Deploymentdigits/)).toEqual([expect.objectContaining({ Namespace: 'AWS/Lambda', Statistic: 'Sum', Threshold: 1 })]);
    expect(on('AsyncEventsDropped', /Deploymentbulk/)).toEqual([]);
    for (const name of ['digits', 'bulk']) {
      expect(on('ApproximateNumberOfMessagesVisible', new RegExp(`Deployment${name}DeadLetters`))).toEqual([expect.objectContaining({ Threshold: 1 })]);
      expect(on('ApproximateAgeOfOldestMessage', new RegExp(`Deployment${name}DeadLetters`))).toEqual([expect.objectContaining({ Threshold: 7 * 24 * 3600 })]);
    }
    expect(on('ApproximateAgeOfOldestMessage', /DeploymentbulkDeliveries/)).toEqual([expect.objectContaining({ Threshold: 15 * 60 })]);
    expect(on('ApproximateAgeOfOldestMessage', /DeploymentdigitsDeliveries/)).toEqual([]);
    // Per deployment, the bulk fan-out's failed and timed-out executions (see 'bulk fan-out').
    expect(on('ExecutionsFailed', /DeploymentdigitsBulkFanOut/)).toHaveLength(1);
    expect(on('ExecutionsTimedOut', /DeploymentbulkBulkFanOut/)).toHaveLength(1);
    template.resourceCountIs('AWS::CloudWatch::Alarm', 14);
  });

  it('all notify the alarm topic when they fire and when they clear', () => {
    expect(alarms().length).toBeGreaterThan(0);
    for (const alarm of alarms()) expect(alarm).toMatchObject({ AlarmActions: [topicRef()], OKActions: [topicRef()] });
  });

  it('go to a KMS-encrypted topic CloudWatch may publish to, with no subscription unless an email is given', () => {
    template.resourceCountIs('AWS::SNS::Topic', 1);
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: { Statement: Match.arrayWith([Match.objectLike({ Principal: { Service: 'cloudwatch.amazonaws.com' }, Action: ['kms:Decrypt', 'kms:GenerateDataKey*'] })]) },
    });
    template.resourceCountIs('AWS::SNS::Subscription', 0);
    template.hasOutput('AlarmTopicArn', { Value: topicRef() });
    const subscribed = synth(false, { alarmEmail: 'ops@example.com' }).template;
    subscribed.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com', TopicArn: Match.anyValue() });
  });

  it('take the manifest\'s alarm email when no other is given', () => {
    const withEmail = parseDeploymentsManifest({ deployments: [], alarms: { email: 'team@example.com' } }, 'm');
    synth(false, { manifest: withEmail }).template.hasResourceProperties('AWS::SNS::Subscription', { Endpoint: 'team@example.com' });
    synth(false, { manifest: withEmail, alarmEmail: 'cli@example.com' }).template.hasResourceProperties('AWS::SNS::Subscription', { Endpoint: 'cli@example.com' });
  });

  it('LocalStack mode writes the notification on the bucket itself, with no custom resource', () => {
    const local = synth(true).template;
    local.resourceCountIs('Custom::S3BucketNotifications', 0);
    local.hasResourceProperties('AWS::S3::Bucket', {
      BucketName: 'acme-digits-in',
      NotificationConfiguration: { LambdaConfigurations: [Match.objectLike({ Event: 's3:ObjectCreated:*' })] },
    });
    local.hasResourceProperties('AWS::S3::Bucket', { BucketName: 'acme-bulk', NotificationConfiguration: { QueueConfigurations: [Match.objectLike({ Event: 's3:ObjectCreated:*' })] } });
    local.hasResourceProperties('AWS::Lambda::Permission', { Principal: 's3.amazonaws.com', SourceAccount: '123456789012' });
  });

  it('LocalStack mode ships no layers and no X-Ray: each scorer finds its model inside its own code', () => {
    const local = synth(true);
    local.template.resourceCountIs('AWS::Lambda::LayerVersion', 0);
    const functions = Object.values(local.template.findResources('AWS::Lambda::Function'));
    for (const fn of functions) expect(fn.Properties).not.toHaveProperty('Layers');
    const scorers = functions.filter((fn) => String(fn.Properties.Description).startsWith('dropscore scorer'));
    expect(scorers.map((fn) => fn.Properties.Environment.Variables.MODEL_DIR).sort()).toEqual(['models/mnist-cnn-onnx', 'models/mnist-keras']);
    for (const fn of scorers) {
      expect(fn.Properties).not.toHaveProperty('TracingConfig');
      expect(fn.Properties.Environment.Variables).not.toHaveProperty('TRACE_AWS_CALLS');
      // The rest is as on AWS: runtime, architecture, reserved concurrency.
      expect(fn.Properties).toMatchObject({ Runtime: 'nodejs22.x', ReservedConcurrentExecutions: 10 });
    }
    expect(JSON.stringify(local.template.findResources('AWS::IAM::Policy'))).not.toContain('xray:');
    // On AWS (the default), the same scorers keep their layers, /opt model and active tracing; the one whose
    // manifest entry asks for it traces its AWS calls too.
    const scorersOnAws = Object.values(template.findResources('AWS::Lambda::Function', { Properties: { Description: Match.stringLikeRegexp('^dropscore scorer') } }));
    for (const fn of scorersOnAws) {
      expect(fn.Properties.Environment.Variables.MODEL_DIR).toMatch(/^\/opt\/models\//);
      expect(fn.Properties.TracingConfig).toEqual({ Mode: 'Active' });
    }
    expect(Object.fromEntries(scorersOnAws.map((fn) => [fn.Properties.Environment.Variables.DEPLOYMENT_NAME, fn.Properties.Environment.Variables.TRACE_AWS_CALLS]))).toEqual({ digits: undefined, bulk: 'true' });
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
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      // Kept for good: the totals a recount sums must not expire.
      TimeToLiveSpecification: Match.absent(),
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
          LifecycleConfiguration: {
            Rules: [
              { Id: 'abort-incomplete-uploads', Status: 'Enabled', AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 } },
              { Id: 'expire-noncurrent-versions', Status: 'Enabled', NoncurrentVersionExpiration: { NoncurrentDays: 30 } },
            ],
          },
        }),
        DeletionPolicy: 'Retain',
      });
    }
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });

  it('logs access to a bucket without ACLs: S3 log delivery is granted by bucket policy, from this account only', () => {
    const [logs] = Object.values(template.findResources('AWS::S3::Bucket', { Properties: { BucketName: Match.absent() } }));
    expect(logs!.Properties).toMatchObject({
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
      LifecycleConfiguration: { Rules: [{ Id: 'abort-incomplete-uploads', AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 } }] },
    });
    expect(logs!.Properties.AccessControl).toBeUndefined();
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Principal: { Service: 'logging.s3.amazonaws.com' }, Action: 's3:PutObject', Condition: Match.objectLike({ StringEquals: { 'aws:SourceAccount': '123456789012' } }) }),
        ]),
      },
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

  it('records each deployment\'s dead-letter queue (and, queued, its delivery queue) for backfill and redrive', () => {
    template.hasResourceProperties('Custom::DropscoreDeployment', {
      Deployment: Match.serializedJson(Match.objectLike({ name: 'digits' })),
      DeadLetterQueueUrl: { Ref: Match.stringLikeRegexp('^DeploymentdigitsDeadLetters') },
      DeadLetterQueueArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^DeploymentdigitsDeadLetters'), 'Arn'] },
      DeliveryQueueArn: Match.absent(),
    });
    template.hasResourceProperties('Custom::DropscoreDeployment', {
      Deployment: Match.serializedJson(Match.objectLike({ name: 'bulk' })),
      DeliveryQueueArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^DeploymentbulkDeliveries'), 'Arn'] },
    });
  });

  it('writes the manifest\'s usage limits to the table at deploy time', () => {
    template.hasResourceProperties('Custom::DropscoreUsageLimits', { Limits: '{}' });
  });

  it('names the stack and tables after the stage, so stages share an account; no stage keeps the names the CLI knows', () => {
    expect(stack.stackName).toBe('Dropscore');
    template.hasResourceProperties('AWS::DynamoDB::Table', { TableName: 'dropscore-deployments' });
    template.hasResourceProperties('AWS::DynamoDB::Table', { TableName: 'dropscore-ledger' });
    const dev = synth(false, { stage: 'dev' });
    expect(dev.stack.stackName).toBe('Dropscore-dev');
    dev.template.hasResourceProperties('AWS::DynamoDB::Table', { TableName: 'dropscore-dev-deployments' });
    dev.template.hasResourceProperties('AWS::DynamoDB::Table', { TableName: 'dropscore-dev-ledger' });
    dev.template.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ DEPLOYMENTS_TABLE: { Ref: Match.stringLikeRegexp('^TablesDeployments') } }) } });
    expect(() => synth(false, { stage: 'Prod_1' })).toThrow('stage must be 1-20 lowercase letters');
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

describe('cdk.json', () => {
  // Each flag left out changes what an existing deployment synthesizes in a way we do not want (README, "Deploy to AWS").
  const LEFT_OUT = ['@aws-cdk/core:enablePartitionLiterals'];

  it('sets every feature flag CDK recommends, but those left out on purpose', () => {
    for (const [flag, value] of Object.entries(CURRENTLY_RECOMMENDED_FLAGS)) {
      if (LEFT_OUT.includes(flag)) expect(CDK_JSON_CONTEXT[flag]).toBeUndefined();
      else expect([flag, CDK_JSON_CONTEXT[flag]]).toEqual([flag, value]);
    }
  });
});

describe('graph rewrites', () => {
  it('warns at synth about a Keras or TensorFlow model packaged without its current graph rewrite, and only then', () => {
    expect(Annotations.fromStack(synth().stack).findWarning('*', Match.stringLikeRegexp('graph rewrite'))).toEqual([]);
    // A project whose Keras model folder lost its keras-graph/ (copied by hand, say).
    const project = mkdtempSync(join(tmpdir(), 'dropscore-project-'));
    try {
      for (const entry of ['functions', 'package.json', 'package-lock.json', 'node_modules']) symlinkSync(join(REPO_ROOT, entry), join(project, entry));
      cpSync(join(REPO_ROOT, 'layers/models/mnist-keras'), join(project, 'layers/models/mnist-keras'), { recursive: true });
      rmSync(join(project, 'layers/models/mnist-keras/keras-graph'), { recursive: true });
      const keras = parseDeploymentsManifest({ deployments: [{ name: 'digits', model: 'mnist-keras', source: { bucket: 'acme-k-in' }, target: { bucket: 'acme-k-out' } }] }, 'm');
      const warnings = Annotations.fromStack(synth(false, { manifest: keras, projectRoot: project }).stack).findWarning('*', Match.stringLikeRegexp('graph rewrite'));
      expect(warnings.map((w) => String(w.entry.data))).toEqual([
        expect.stringContaining("model mnist-keras has no current graph rewrite (keras-graph/): deployment digits's scorer builds the model at every cold start"),
      ]);
    } finally {
      rmSync(project, { recursive: true, force: true });
    }
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
